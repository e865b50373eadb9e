package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/schema"
)

var _ schema.Inspector = (*Dialect)(nil)

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
	return in.tables[strings.ToLower(name)]
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
			in.tables[strings.ToLower(name)] = t
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
			if d.autoincrement && len(d.pk) == 1 && strings.EqualFold(d.pk[0], c.name) {
				col.Identity = "AUTOINCREMENT"
			}
			if d.withoutRowid && slices.ContainsFunc(d.pk, func(p string) bool { return strings.EqualFold(p, c.name) }) {
				col.Nullable = false // SQLite enforces it
			}
			t.t.Columns = append(t.t.Columns, col)
		}
		if len(d.pk) > 0 {
			t.t.PrimaryKey = &schema.PrimaryKey{Name: d.pkName, Columns: d.pk}
		}
		for _, u := range d.uniques {
			if !slices.EqualFunc(u.cols, d.pk, strings.EqualFold) { // SQLite makes no index for it
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
		if strings.EqualFold(c.name, name) {
			return c.name
		}
	}
	return name
}

// collation returns the declared collation of the column called name.
func (d *inspTableSQL) collation(name string) string {
	for _, c := range d.cols {
		if strings.EqualFold(c.name, name) {
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

// inspParseTable takes a CREATE TABLE statement apart. It is lenient: what
// it does not understand it skips, and a statement it cannot take apart
// yields what it found so far.
func inspParseTable(stmt string) *inspTableSQL {
	d := &inspTableSQL{}
	toks := inspLex(stmt)
	i := 0
	for i < len(toks) && !toks[i].is("TABLE") {
		if toks[i].is("VIRTUAL") {
			d.virtual = true
			for i < len(toks) && !toks[i].is("USING") {
				i++
			}
			if i < len(toks) {
				d.options = []string{inspJoin(toks[i:])}
			}
			return d
		}
		i++
	}
	for i < len(toks) && !toks[i].punct("(") {
		i++
	}
	if i == len(toks) {
		return d
	}
	end := inspCloseParen(toks, i)
	for _, opt := range inspSplit(toks[end:]) {
		if len(opt) > 0 {
			o := strings.ToUpper(inspJoin(opt))
			d.withoutRowid = d.withoutRowid || o == "WITHOUT ROWID"
			d.options = append(d.options, o)
		}
	}
	for _, elem := range inspSplit(toks[i+1 : end-1]) {
		if len(elem) == 0 {
			continue
		}
		switch {
		case elem[0].is("CONSTRAINT"), elem[0].is("PRIMARY"), elem[0].is("UNIQUE"), elem[0].is("CHECK"), elem[0].is("FOREIGN"):
			d.tableConstraint(elem)
		default:
			d.columnDef(elem)
		}
	}
	return d
}

// inspConstraintStart reports whether t starts a column constraint, which
// ends the column's type.
func inspConstraintStart(t inspTok) bool {
	for _, kw := range [...]string{"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE", "REFERENCES", "GENERATED", "AS"} {
		if t.is(kw) {
			return true
		}
	}
	return false
}

func (d *inspTableSQL) columnDef(toks []inspTok) {
	c := &inspColumnSQL{name: toks[0].name()}
	d.cols = append(d.cols, c)
	j := 1
	for j < len(toks) && !inspConstraintStart(toks[j]) {
		j = inspSkip(toks, j)
	}
	c.typ = inspTypeToks(toks[1:j])
	var cname string
	for j < len(toks) {
		t := toks[j]
		switch {
		case t.is("CONSTRAINT") && j+1 < len(toks):
			cname = toks[j+1].name()
			j += 2
			continue
		case t.is("PRIMARY"):
			d.pk, d.pkName = []string{c.name}, cname
			j++
			for j < len(toks) && !inspConstraintStart(toks[j]) {
				if toks[j].is("AUTOINCREMENT") {
					d.autoincrement = true
				}
				j = inspSkip(toks, j)
			}
		case t.is("NOT") && j+1 < len(toks) && toks[j+1].is("NULL"):
			c.notNull = true
			j = inspSkipClause(toks, j+2)
		case t.is("UNIQUE"):
			d.uniques = append(d.uniques, inspUniqueSQL{name: cname, cols: []string{c.name}})
			j = inspSkipClause(toks, j+1)
		case t.is("CHECK") && j+1 < len(toks) && toks[j+1].punct("("):
			end := inspCloseParen(toks, j+1)
			d.checks = append(d.checks, &schema.Check{Name: cname, Expr: inspJoin(toks[j+2 : end-1])})
			j = end
		case t.is("DEFAULT") && j+1 < len(toks):
			j++
			start := j
			if toks[j].punct("+") || toks[j].punct("-") {
				j++
			}
			if j < len(toks) {
				j = inspSkip(toks, j)
			}
			c.dflt = inspDefault(toks[start:j])
		case t.is("COLLATE") && j+1 < len(toks):
			c.collation = strings.ToUpper(toks[j+1].name())
			j += 2
		case t.is("GENERATED"):
			j++ // ALWAYS, then AS
			for j < len(toks) && !toks[j].is("AS") {
				j++
			}
		case t.is("AS") && j+1 < len(toks) && toks[j+1].punct("("):
			end := inspCloseParen(toks, j+1)
			c.generated = inspJoin(toks[j+2 : end-1])
			j = end
			if j < len(toks) && (toks[j].is("STORED") || toks[j].is("VIRTUAL")) {
				c.stored = toks[j].is("STORED")
				j++
			}
		case t.is("REFERENCES"):
			fk := &inspForeignKeySQL{name: cname, cols: []string{c.name}}
			j = fk.references(toks, j)
			d.fks = append(d.fks, fk)
		default:
			j = inspSkipClause(toks, j+1)
		}
		cname = ""
	}
}

// inspDefault normalises a DEFAULT value as PRAGMA table_info reports it:
// without the parentheses around an expression, and empty for NULL.
func inspDefault(toks []inspTok) string {
	if len(toks) > 1 && toks[0].punct("(") && inspCloseParen(toks, 0) == len(toks) {
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

// inspSkipClause returns the index of the next column constraint from j.
func inspSkipClause(toks []inspTok, j int) int {
	for j < len(toks) && !inspConstraintStart(toks[j]) {
		j = inspSkip(toks, j)
	}
	return j
}

// references parses "REFERENCES t [(cols)] [ON DELETE|UPDATE action |
// MATCH name]... [[NOT] DEFERRABLE [INITIALLY DEFERRED|IMMEDIATE]]" at
// toks[j] and returns the index after it.
func (fk *inspForeignKeySQL) references(toks []inspTok, j int) int {
	fk.onUpdate, fk.onDelete = "NO ACTION", "NO ACTION"
	j++
	if j < len(toks) {
		fk.ref = toks[j].name()
		j++
	}
	if j+1 < len(toks) && toks[j].punct(".") {
		fk.ref = toks[j+1].name() // schema.table: SQLite keeps the table
		j += 2
	}
	if j < len(toks) && toks[j].punct("(") {
		end := inspCloseParen(toks, j)
		fk.refCols = inspNames(toks[j+1 : end-1])
		j = end
	}
	for j < len(toks) {
		t := toks[j]
		switch {
		case t.is("ON") && j+2 < len(toks):
			n := 1
			if toks[j+2].is("SET") || toks[j+2].is("NO") {
				n = 2
			}
			action := strings.ToUpper(inspJoin(toks[j+2 : min(len(toks), j+2+n)]))
			if toks[j+1].is("DELETE") {
				fk.onDelete = action
			} else {
				fk.onUpdate = action
			}
			j += 2 + n
		case t.is("MATCH"):
			j += 2
		case t.is("NOT") && j+1 < len(toks) && toks[j+1].is("DEFERRABLE"):
			fk.deferrable = ""
			j += 2
		case t.is("DEFERRABLE"):
			fk.deferrable = "DEFERRABLE INITIALLY IMMEDIATE"
			if j+2 < len(toks) && toks[j+1].is("INITIALLY") && toks[j+2].is("DEFERRED") {
				fk.deferrable = "DEFERRABLE INITIALLY DEFERRED"
			}
			j++
		case t.is("INITIALLY"):
			j += 2
		case inspConstraintStart(t):
			return j
		default:
			j = inspSkip(toks, j)
		}
	}
	return j
}

// inspNames returns the column names of a list of key parts, without their
// COLLATE and ASC or DESC.
func inspNames(toks []inspTok) []string {
	var names []string
	for _, part := range inspSplit(toks) {
		if len(part) > 0 {
			names = append(names, part[0].name())
		}
	}
	return names
}

func (d *inspTableSQL) tableConstraint(toks []inspTok) {
	var name string
	if toks[0].is("CONSTRAINT") && len(toks) > 1 {
		name = toks[1].name()
		toks = toks[2:]
	}
	if len(toks) == 0 {
		return
	}
	// columns returns the names in the parenthesis from toks[j].
	columns := func(j int) ([]string, int) {
		for j < len(toks) && !toks[j].punct("(") {
			j++
		}
		if j == len(toks) {
			return nil, j
		}
		end := inspCloseParen(toks, j)
		return inspNames(toks[j+1 : end-1]), end
	}
	switch {
	case toks[0].is("PRIMARY"):
		d.pk, _ = columns(1)
		d.pkName = name
	case toks[0].is("UNIQUE"):
		cols, _ := columns(1)
		d.uniques = append(d.uniques, inspUniqueSQL{name: name, cols: cols})
	case toks[0].is("CHECK") && len(toks) > 1 && toks[1].punct("("):
		end := inspCloseParen(toks, 1)
		d.checks = append(d.checks, &schema.Check{Name: name, Expr: inspJoin(toks[2 : end-1])})
	case toks[0].is("FOREIGN"):
		cols, j := columns(1)
		fk := &inspForeignKeySQL{name: name, cols: cols}
		for j < len(toks) && !toks[j].is("REFERENCES") {
			j++
		}
		fk.references(toks, j)
		d.fks = append(d.fks, fk)
	}
}

// inspIndexSQL is a CREATE INDEX statement taken apart.
type inspIndexSQL struct {
	unique bool
	parts  []schema.IndexPart
	where  string
}

func inspParseIndex(stmt string) inspIndexSQL {
	var d inspIndexSQL
	toks := inspLex(stmt)
	i := 0
	for i < len(toks) && !toks[i].is("ON") {
		if toks[i].is("UNIQUE") {
			d.unique = true
		}
		i++
	}
	for i < len(toks) && !toks[i].punct("(") {
		i++
	}
	if i == len(toks) {
		return d
	}
	end := inspCloseParen(toks, i)
	for _, part := range inspSplit(toks[i+1 : end-1]) {
		var p schema.IndexPart
		if n := len(part); n > 0 && (part[n-1].is("ASC") || part[n-1].is("DESC")) {
			p.Desc = part[n-1].is("DESC")
			part = part[:n-1]
		}
		if n := len(part); n > 1 && part[n-2].is("COLLATE") {
			if c := strings.ToUpper(part[n-1].name()); c != "BINARY" {
				p.Collation = c
			}
			part = part[:n-2]
		}
		// Redundant outer parentheses: "(lower(x))" is "lower(x)" and
		// "(x)" the column x.
		for len(part) > 2 && part[0].punct("(") && inspCloseParen(part, 0) == len(part) {
			part = part[1 : len(part)-1]
		}
		if len(part) == 1 && (part[0].kind == inspWord || part[0].kind == inspQuoted) {
			p.Column = part[0].name()
		} else {
			p.Expr = inspJoin(part)
		}
		d.parts = append(d.parts, p)
	}
	if end < len(toks) && toks[end].is("WHERE") {
		d.where = inspJoin(toks[end+1:])
	}
	return d
}

// inspType upper-cases a declared type and normalises its spacing:
// "varchar( 10 )" and "VARCHAR(10)" declare the same type.
func inspType(typ string) string { return inspTypeToks(inspLex(typ)) }

func inspTypeToks(toks []inspTok) string {
	toks = slices.Clone(toks)
	for i := range toks {
		if toks[i].kind == inspWord {
			toks[i].text = strings.ToUpper(toks[i].text)
		}
	}
	return inspJoin(toks)
}

// inspAfterName returns the normalised text of a CREATE VIEW or CREATE
// TRIGGER statement after the object's name, so that renames and quoting of
// the name do not show.
func inspAfterName(stmt, kind string) string {
	toks := inspLex(stmt)
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

type inspTokKind int

const (
	inspWord   inspTokKind = iota // bare identifier or keyword
	inspQuoted                    // "ident", `ident` or [ident]
	inspString                    // 'string', or x'blob'
	inspNumber
	inspPunct // ( ) , ; . and operators
)

type inspTok struct {
	kind inspTokKind
	text string
}

func (t inspTok) is(kw string) bool   { return t.kind == inspWord && strings.EqualFold(t.text, kw) }
func (t inspTok) punct(p string) bool { return t.kind == inspPunct && t.text == p }

// name returns the identifier t stands for, unquoted.
func (t inspTok) name() string {
	s := t.text
	if len(s) < 2 || t.kind != inspQuoted && t.kind != inspString {
		return s
	}
	switch s[0] {
	case '"', '`', '\'':
		q := s[:1]
		return strings.ReplaceAll(s[1:len(s)-1], q+q, q)
	case '[':
		return s[1 : len(s)-1]
	}
	return s
}

func inspIdentByte(c byte, first bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80 || !first && (c >= '0' && c <= '9' || c == '$')
}

// inspLex splits SQLite SQL into tokens, dropping white space and comments.
// It never fails: an unterminated quote runs to the end of the text.
func inspLex(s string) []inspTok {
	toks := make([]inspTok, 0, len(s)/4)
	for i := 0; i < len(s); {
		c, start := s[i], i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && strings.HasPrefix(s[i:], "--"):
			if k := strings.IndexByte(s[i:], '\n'); k >= 0 {
				i += k
			} else {
				i = len(s)
			}
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			if k := strings.Index(s[i+2:], "*/"); k >= 0 {
				i += 2 + k + 2
			} else {
				i = len(s)
			}
		case c == '\'' || c == '"' || c == '`' || (c == 'x' || c == 'X') && strings.HasPrefix(s[i+1:], "'"):
			q := c
			if q == 'x' || q == 'X' {
				q, i = '\'', i+1
			}
			j := i + 1
			for j < len(s) {
				if s[j] == q {
					if j+1 < len(s) && s[j+1] == q {
						j += 2
						continue
					}
					j++
					break
				}
				j++
			}
			kind := inspQuoted
			if q == '\'' {
				kind = inspString
			}
			toks = append(toks, inspTok{kind, s[start:j]})
			i = j
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				j = len(s) - i - 1
			}
			toks = append(toks, inspTok{inspQuoted, s[i : i+j+1]})
			i += j + 1
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			for i++; i < len(s); i++ {
				d := s[i]
				if inspIdentByte(d, false) || d == '.' || (d == '+' || d == '-') && (s[i-1] == 'e' || s[i-1] == 'E') {
					continue
				}
				break
			}
			toks = append(toks, inspTok{inspNumber, s[start:i]})
		case inspIdentByte(c, true):
			for i++; i < len(s) && inspIdentByte(s[i], false); i++ {
			}
			toks = append(toks, inspTok{inspWord, s[start:i]})
		case strings.IndexByte("(),;.", c) >= 0:
			i++
			toks = append(toks, inspTok{inspPunct, s[start:i]})
		default: // operators: runs of operator characters
			for i++; i < len(s) && strings.IndexByte("<>=!|&*/%+-~", s[i]) >= 0 && strings.IndexByte("<>=!|&*/%+-~", c) >= 0; i++ {
				if s[i] == '-' && i+1 < len(s) && s[i+1] == '-' || s[i] == '/' && i+1 < len(s) && s[i+1] == '*' {
					break
				}
			}
			toks = append(toks, inspTok{inspPunct, s[start:i]})
		}
	}
	return toks
}

// inspCloseParen returns the index just past the parenthesis that closes the
// one at toks[i], or len(toks) if none does.
func inspCloseParen(toks []inspTok, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch {
		case toks[j].punct("("):
			depth++
		case toks[j].punct(")"):
			if depth--; depth == 0 {
				return j + 1
			}
		}
	}
	return len(toks)
}

// inspSkip returns the index after the token or parenthesised group at
// toks[j].
func inspSkip(toks []inspTok, j int) int {
	if toks[j].punct("(") {
		return inspCloseParen(toks, j)
	}
	return j + 1
}

// inspSplit splits toks at commas outside parentheses.
func inspSplit(toks []inspTok) [][]inspTok {
	var parts [][]inspTok
	depth, start := 0, 0
	for i, t := range toks {
		switch {
		case t.punct("("):
			depth++
		case t.punct(")"):
			depth--
		case t.punct(",") && depth == 0:
			parts = append(parts, toks[start:i])
			start = i + 1
		}
	}
	if start < len(toks) {
		parts = append(parts, toks[start:])
	}
	return parts
}

// inspJoin writes tokens back as text in one canonical spacing, so that
// statements differing only in white space, comments or needless quoting
// of identifiers read the same.
func inspJoin(toks []inspTok) string {
	var b strings.Builder
	for i, t := range toks {
		text := t.text
		if t.kind == inspQuoted {
			if n := t.name(); inspPlainName(n) {
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
			case t.punct("(") && (prev.kind == inspQuoted || prev.kind == inspWord && !inspKeywords[strings.ToUpper(prev.text)]):
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteString(text)
	}
	return b.String()
}

// inspPlainName reports whether n can be written without quotes: a plain
// identifier that is not a keyword.
func inspPlainName(n string) bool {
	if n == "" || inspKeywords[strings.ToUpper(n)] {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !inspIdentByte(n[i], i == 0) || n[i] == '$' || n[i] >= 0x80 {
			return false
		}
	}
	return true
}

// inspKeywords are SQLite's keywords (https://sqlite.org/lang_keywords.html).
var inspKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH
		AUTOINCREMENT BEFORE BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT
		CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT
		DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE
		EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP
		GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO
		IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL
		NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE
		RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT
		ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER
		UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT`) {
		m[k] = true
	}
	return m
}()
