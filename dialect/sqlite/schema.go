package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/schema"
)

// InspectSchema describes the main database of the connection q: its
// tables, views and triggers, from the CREATE statements sqlite_schema
// keeps, which are what SQLite itself derives its schema from. (PRAGMA
// table_xinfo and the like report the same, parsed, but cost a statement
// per table; only virtual tables, whose columns their module declares, are
// read through it.) ALTER TABLE keeps the stored statements up to date.
//
// Statements are normalised before they are compared: white space,
// comments, needless quotes and the case of types do not show, nor do the
// forms SQLite treats alike (a column PRIMARY KEY and a table PRIMARY KEY
// of one column, REFERENCES t and REFERENCES t(its primary key), DEFAULT
// NULL and no default). Names take the case of the column they name.
//
// The indexes SQLite creates for UNIQUE and PRIMARY KEY constraints
// (sqlite_autoindex_*) are described as the constraints; sqlite_sequence,
// the sqlite_stat tables and what belongs to excluded tables are left out.
func (*Dialect) InspectSchema(ctx context.Context, q dialect.Execer, opts schema.Options) (*schema.Schema, error) {
	in := &inspState{opts: opts, tables: map[string]*inspTable{}}
	if err := in.objects(ctx, q); err != nil {
		return nil, fmt.Errorf("read sqlite_schema: %w", err)
	}
	if err := in.virtualColumns(ctx, q); err != nil {
		return nil, fmt.Errorf("read columns of virtual tables: %w", err)
	}
	in.finish()
	return &in.s, nil
}

type inspState struct {
	opts    schema.Options
	s       schema.Schema
	tables  map[string]*inspTable // by lower-case name
	order   []*inspTable
	indexes []inspIndexRow
}

type inspTable struct {
	t   *schema.Table
	def *inspTableSQL
}

type inspIndexRow struct{ table, name, sql string }

// inspUserObject is the condition on sqlite_schema that leaves out SQLite's
// own tables and their indexes and triggers.
const inspUserObject = `name NOT LIKE 'sqlite\_%' ESCAPE '\' AND tbl_name NOT LIKE 'sqlite\_%' ESCAPE '\'`

func (in *inspState) table(name string) *inspTable {
	return in.tables[lowerASCII(name)]
}

// objects reads sqlite_schema: the tables, indexes, views and triggers.
func (in *inspState) objects(ctx context.Context, q dialect.Execer) error {
	rows, err := q.QueryContext(ctx, `SELECT type, name, tbl_name, coalesce(sql, '')
		FROM main.sqlite_schema WHERE type IN ('table', 'index', 'view', 'trigger') AND `+inspUserObject)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var typ, name, table, text string
		if err := rows.Scan(&typ, &name, &table, &text); err != nil {
			return err
		}
		if in.opts.Excluded("main", table, true) {
			continue
		}
		switch typ {
		case "table":
			t := &inspTable{t: &schema.Table{Name: name}, def: inspParseTable(text)}
			in.tables[lowerASCII(name)] = t
			in.order = append(in.order, t)
			in.s.Tables = append(in.s.Tables, t.t)
		case "index":
			if text != "" { // not an autoindex, which its constraint describes
				in.indexes = append(in.indexes, inspIndexRow{table, name, text})
			}
		case "view":
			in.s.Views = append(in.s.Views, &schema.View{Name: name, Definition: inspAfterName(text, "VIEW")})
		case "trigger":
			in.s.Triggers = append(in.s.Triggers, &schema.Trigger{Name: name, Table: table, Definition: inspAfterName(text, "TRIGGER")})
		}
	}
	return rows.Err()
}

// virtualColumns reads the columns of virtual tables, which their module
// declares, from PRAGMA table_xinfo.
func (in *inspState) virtualColumns(ctx context.Context, q dialect.Execer) error {
	for _, t := range in.order {
		if !t.def.virtual {
			continue
		}
		rows, err := q.QueryContext(ctx, `SELECT name, type, "notnull" FROM pragma_table_xinfo(?, 'main') ORDER BY cid`, t.t.Name)
		if err != nil {
			return err
		}
		for rows.Next() {
			c := &inspColumnSQL{}
			if err := rows.Scan(&c.name, &c.typ, &c.notNull); err != nil {
				rows.Close()
				return err
			}
			c.typ = inspType(c.typ)
			t.def.cols = append(t.def.cols, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// finish builds the tables from their parsed statements, now that every
// table is known (a foreign key without columns refers to its parent's
// primary key).
func (in *inspState) finish() {
	for _, t := range in.order {
		d := t.def
		d.canonical()
		t.t.Options = d.options
		t.t.Checks = d.checks
		for _, c := range d.cols {
			col := &schema.Column{Name: c.name, Type: c.typ, Nullable: !c.notNull, Default: c.dflt,
				Collation: c.collation, Generated: c.generated, Stored: c.stored}
			if d.autoincrement && len(d.pk) == 1 && foldEq(d.pk[0], c.name) {
				col.Identity = "AUTOINCREMENT"
			}
			if d.withoutRowid && slices.ContainsFunc(d.pk, func(p string) bool { return foldEq(p, c.name) }) {
				col.Nullable = false // SQLite enforces it
			}
			t.t.Columns = append(t.t.Columns, col)
		}
		if len(d.pk) > 0 {
			t.t.PrimaryKey = &schema.PrimaryKey{Name: d.pkName, Columns: d.pk}
		}
		for _, u := range d.uniques {
			if !slices.EqualFunc(u.cols, d.pk, foldEq) { // SQLite makes no index for it
				t.t.Uniques = append(t.t.Uniques, &schema.Unique{Name: u.name, Columns: u.cols})
			}
		}
		for _, f := range d.fks {
			fk := &schema.ForeignKey{Name: f.name, Columns: f.cols, RefTable: f.ref, RefColumns: f.refCols,
				OnUpdate: f.onUpdate, OnDelete: f.onDelete, Deferrable: f.deferrable}
			if p := in.table(f.ref); p != nil {
				if len(fk.RefColumns) == 0 {
					fk.RefColumns = slices.Clone(p.def.pk)
				} else {
					for i, c := range fk.RefColumns {
						fk.RefColumns[i] = p.def.column(c)
					}
				}
			}
			t.t.ForeignKeys = append(t.t.ForeignKeys, fk)
		}
	}
	for _, ix := range in.indexes {
		t := in.table(ix.table)
		if t == nil {
			continue
		}
		d := inspParseIndex(ix.sql)
		idx := &schema.Index{Name: ix.name, Unique: d.unique, Where: d.where}
		for _, p := range d.parts {
			if p.Column != "" {
				p.Column = t.def.column(p.Column)
				if p.Collation == "" {
					p.Collation = t.def.collation(p.Column)
				}
			}
			idx.Parts = append(idx.Parts, p)
		}
		t.t.Indexes = append(t.t.Indexes, idx)
	}
}

// inspTableSQL is a CREATE TABLE statement taken apart.
type inspTableSQL struct {
	cols          []*inspColumnSQL
	pk            []string
	pkName        string
	autoincrement bool
	withoutRowid  bool
	virtual       bool
	checks        []*schema.Check
	uniques       []inspUniqueSQL
	fks           []*inspForeignKeySQL
	options       []string
}

type inspColumnSQL struct {
	name, typ, dflt      string
	notNull              bool
	collation, generated string
	stored               bool
}

type inspUniqueSQL struct {
	name string
	cols []string
}

type inspForeignKeySQL struct {
	name, ref, deferrable string
	cols, refCols         []string
	onUpdate, onDelete    string
}

// column returns the name of the column called name in any case, as the
// table declares it; name itself if there is none.
func (d *inspTableSQL) column(name string) string {
	for _, c := range d.cols {
		if foldEq(c.name, name) {
			return c.name
		}
	}
	return name
}

// collation returns the declared collation of the column called name.
func (d *inspTableSQL) collation(name string) string {
	for _, c := range d.cols {
		if foldEq(c.name, name) {
			return c.collation
		}
	}
	return ""
}

// canonical spells the columns that keys name as the table declares them.
func (d *inspTableSQL) canonical() {
	for i, c := range d.pk {
		d.pk[i] = d.column(c)
	}
	for _, u := range d.uniques {
		for i, c := range u.cols {
			u.cols[i] = d.column(c)
		}
	}
	for _, f := range d.fks {
		for i, c := range f.cols {
			f.cols[i] = d.column(c)
		}
	}
}

// inspParseTable describes a CREATE TABLE statement. It is lenient: of a
// statement the parser cannot take apart entirely, which SQLite would not
// have stored, it describes what the parser could make sense of.
func inspParseTable(stmt string) *inspTableSQL {
	d := &inspTableSQL{}
	toks, _ := lexSQL(stmt)
	if len(toks) > 1 && toks[1].is("VIRTUAL") {
		d.virtual = true
		if i := slices.IndexFunc(toks, func(t sqlToken) bool { return t.is("USING") }); i >= 0 {
			d.options = []string{inspJoin(toks[i:])}
		}
		return d
	}
	h, _ := parseTable(stmt, toks, &inspTableVisitor{d: d})
	d.withoutRowid = h.withoutRowid
	opts, _ := lexSQL(h.options)
	for o := range topLevel(opts) {
		if len(o) > 0 {
			d.options = append(d.options, upperASCII(inspJoin(o)))
		}
	}
	return d
}

// inspTableVisitor describes a table in d as parseTable takes it apart:
// it is a tableVisitor.
type inspTableVisitor struct {
	d   *inspTableSQL
	col *inspColumnSQL // the column whose constraints come; nil for table constraints
}

func (v *inspTableVisitor) item(_, _, _ string) { v.col = nil }

func (v *inspTableVisitor) column(name, _, typ string) {
	v.col = &inspColumnSQL{name: name, typ: inspType(typ)}
	v.d.cols = append(v.d.cols, v.col)
}

func (v *inspTableVisitor) constraint(k consDef) {
	c := v.col
	if c == nil {
		v.d.key(&k, k.cols)
		return
	}
	switch k.kind {
	case kNotNull:
		c.notNull = true
	case kDefault:
		c.dflt = inspDefault(k.expr)
	case kCollate:
		c.collation = upperASCII(k.collation)
	case kGenerated:
		c.generated, c.stored = inspJoin(k.expr), k.stored
	case kPrimaryKey, kUnique, kCheck, kReferences:
		v.d.key(&k, []string{c.name})
	}
}

// key records k, a key or check constraint on the columns cols.
func (d *inspTableSQL) key(k *consDef, cols []string) {
	switch k.kind {
	case kPrimaryKey:
		d.pk, d.pkName = cols, k.name
		d.autoincrement = d.autoincrement || k.autoinc
	case kUnique:
		d.uniques = append(d.uniques, inspUniqueSQL{name: k.name, cols: cols})
	case kCheck:
		d.checks = append(d.checks, &schema.Check{Name: k.name, Expr: inspJoin(k.expr)})
	case kReferences, kForeignKey:
		fk := &inspForeignKeySQL{name: k.name, ref: k.parent, cols: cols, refCols: k.parentCols,
			onUpdate: cmp.Or(k.onUpdate, "NO ACTION"), onDelete: cmp.Or(k.onDelete, "NO ACTION")}
		if k.deferrable {
			fk.deferrable = "DEFERRABLE INITIALLY IMMEDIATE"
			if k.deferred {
				fk.deferrable = "DEFERRABLE INITIALLY DEFERRED"
			}
		}
		d.fks = append(d.fks, fk)
	}
}

// inspDefault normalises a DEFAULT value as PRAGMA table_info reports it:
// without the parentheses around an expression, and empty for NULL.
func inspDefault(toks []sqlToken) string {
	if end, err := closeParen(toks, 0); len(toks) > 1 && toks[0].punct("(") && err == nil && end == len(toks) {
		toks = toks[1 : len(toks)-1]
	}
	if len(toks) == 1 && toks[0].is("NULL") {
		return ""
	}
	if len(toks) == 2 && (toks[0].punct("-") || toks[0].punct("+")) {
		return toks[0].text + inspJoin(toks[1:]) // a signed number
	}
	return inspJoin(toks)
}

// inspIndexSQL is a CREATE INDEX statement taken apart.
type inspIndexSQL struct {
	unique bool
	parts  []schema.IndexPart
	where  string
}

func inspParseIndex(stmt string) inspIndexSQL {
	var d inspIndexSQL
	toks, _ := lexSQL(stmt)
	def, err := parseIndex(toks)
	if err != nil {
		return d
	}
	d.unique = def.unique
	for _, part := range def.parts {
		var p schema.IndexPart
		if n := len(part); n > 0 && (part[n-1].is("ASC") || part[n-1].is("DESC")) {
			p.Desc = part[n-1].is("DESC")
			part = part[:n-1]
		}
		if n := len(part); n > 1 && part[n-2].is("COLLATE") {
			if c := upperASCII(part[n-1].ident()); c != "BINARY" {
				p.Collation = c
			}
			part = part[:n-2]
		}
		// Redundant outer parentheses: "(lower(x))" is "lower(x)" and
		// "(x)" the column x.
		for len(part) > 2 && part[0].punct("(") {
			if end, err := closeParen(part, 0); err != nil || end != len(part) {
				break
			}
			part = part[1 : len(part)-1]
		}
		if len(part) == 1 && (part[0].kind == tkWord || part[0].kind == tkQuoted) {
			p.Column = part[0].ident()
		} else {
			p.Expr = inspJoin(part)
		}
		d.parts = append(d.parts, p)
	}
	d.where = inspJoin(def.where)
	return d
}

// inspType upper-cases a declared type and normalises its spacing:
// "varchar( 10 )" and "VARCHAR(10)" declare the same type.
func inspType(typ string) string {
	toks, _ := lexSQL(typ)
	for i := range toks {
		if toks[i].kind == tkWord {
			toks[i].text = upperASCII(toks[i].text)
		}
	}
	return inspJoin(toks)
}

// inspAfterName returns the normalised text of a CREATE VIEW or CREATE
// TRIGGER statement after the object's name, so that renames and quoting of
// the name do not show.
func inspAfterName(stmt, kind string) string {
	toks, _ := lexSQL(stmt)
	i := 0
	for i < len(toks) && !toks[i].is(kind) {
		i++
	}
	i++
	if i+2 < len(toks) && toks[i].is("IF") && toks[i+1].is("NOT") && toks[i+2].is("EXISTS") {
		i += 3
	}
	i++ // the name
	if i+1 < len(toks) && toks[i].punct(".") {
		i += 2 // schema.name
	}
	if i > len(toks) {
		return inspJoin(toks)
	}
	return inspJoin(toks[i:])
}

// inspJoin writes tokens back as text in one canonical spacing, so that
// statements differing only in white space, comments or needless quoting
// of identifiers read the same.
func inspJoin(toks []sqlToken) string {
	var b strings.Builder
	for i, t := range toks {
		text := t.text
		if t.kind == tkQuoted {
			if n := t.ident(); inspPlainName(n) {
				text = n
			} else {
				text = dialect.QuoteDouble(n)
			}
		}
		if i > 0 {
			prev := toks[i-1]
			switch {
			case prev.punct("(") || prev.punct("."):
			case t.punct(")") || t.punct(",") || t.punct(".") || t.punct(";"):
			case t.punct("(") && (prev.kind == tkQuoted || prev.kind == tkWord && !isKeyword(prev.text)):
			case inspOperator(prev) && inspOperator(t) && prev.end == t.pos: // one operator: <=, ||, ->>
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteString(text)
	}
	return b.String()
}

// inspOperator reports whether t is a character of an operator.
func inspOperator(t sqlToken) bool {
	return t.kind == tkPunct && strings.Contains("<>=!|&*/%+-~", t.text)
}

// inspPlainName reports whether n can be written without quotes: a plain
// identifier that is not a keyword.
func inspPlainName(n string) bool {
	if n == "" || isKeyword(n) {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !isIdentByte(n[i], i == 0) || n[i] == '$' || n[i] >= 0x80 {
			return false
		}
	}
	return true
}
