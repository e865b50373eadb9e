package sqlite

import (
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/strata-go/strata/dialect"
)

// This file takes apart the SQL that SQLite keeps in sqlite_schema, for the
// table rebuild and the schema inspector alike: a parser of CREATE TABLE and
// CREATE INDEX over the tokens of tokenize.go. The parser tells a tableVisitor about each column definition and
// constraint, with its original text, so that a rebuild writes back
// unchanged what it does not edit (tableDef), and with what it means (names
// unquoted, the columns of keys, foreign key actions), which the inspector
// normalises.

// closeParen returns the index just past the parenthesis that closes the one
// at toks[i].
func closeParen(toks []sqlToken, i int) (int, error) {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch {
		case toks[j].punct("("):
			depth++
		case toks[j].punct(")"):
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errors.New("unbalanced parentheses")
}

// topLevel yields the items of toks separated by commas outside
// parentheses, each with the comma after it; nil after the last.
func topLevel(toks []sqlToken) iter.Seq2[[]sqlToken, *sqlToken] {
	return func(yield func([]sqlToken, *sqlToken) bool) {
		depth, start := 0, 0
		for i := range toks {
			switch t := &toks[i]; {
			case t.punct("("):
				depth++
			case t.punct(")"):
				depth--
			case t.punct(",") && depth == 0:
				if !yield(toks[start:i], t) {
					return
				}
				start = i + 1
			}
		}
		yield(toks[start:], nil)
	}
}

// splitTop splits toks at commas outside parentheses.
func splitTop(toks []sqlToken) [][]sqlToken {
	var parts [][]sqlToken
	for p := range topLevel(toks) {
		parts = append(parts, p)
	}
	return parts
}

// Constraint kinds.
const (
	kPrimaryKey = "PRIMARY KEY"
	kNotNull    = "NOT NULL"
	kNull       = "NULL"
	kUnique     = "UNIQUE"
	kCheck      = "CHECK"
	kDefault    = "DEFAULT"
	kCollate    = "COLLATE"
	kReferences = "REFERENCES" // column-level foreign key
	kForeignKey = "FOREIGN KEY"
	kGenerated  = "GENERATED"
	kName       = "CONSTRAINT" // a CONSTRAINT name that names nothing
	kDefer      = "DEFERRABLE" // a column's DEFERRABLE clause apart from its REFERENCES; folded into it
)

// consDef is one column or table constraint.
type consDef struct {
	name string // from CONSTRAINT name; "" when unnamed
	kind string
	text string // as written, including any CONSTRAINT name prefix

	cols       []string   // PRIMARY KEY, UNIQUE, FOREIGN KEY (table level): the table's columns
	parent     string     // REFERENCES / FOREIGN KEY: the parent table
	parentCols []string   // REFERENCES / FOREIGN KEY: the parent's columns, if given
	onDelete   string     // REFERENCES / FOREIGN KEY: the ON DELETE action in upper case; "" when not given
	onUpdate   string     // REFERENCES / FOREIGN KEY: the ON UPDATE action in upper case; "" when not given
	deferrable bool       // REFERENCES / FOREIGN KEY: DEFERRABLE
	deferred   bool       // REFERENCES / FOREIGN KEY: DEFERRABLE INITIALLY DEFERRED
	expr       []sqlToken // CHECK, GENERATED: the expression; DEFAULT: the value
	collation  string     // COLLATE: the collation's name, unquoted
	desc       bool       // PRIMARY KEY DESC (column level)
	autoinc    bool       // PRIMARY KEY AUTOINCREMENT
	stored     bool       // GENERATED ... STORED
}

// colDef is one column definition.
type colDef struct {
	name     string // unquoted
	nameText string // as written
	typ      string // declared type as written; "" when none
	cons     []*consDef

	orig int    // index among the table's columns before the rebuild; -1 for a new column
	work string // the name the list of changes knows it by
	from string // SQL expression over the old table that fills it; "" to leave it to its default
}

func (c *colDef) has(kind string) *consDef {
	for _, k := range c.cons {
		if k.kind == kind {
			return k
		}
	}
	return nil
}

func (c *colDef) generated() bool { return c.has(kGenerated) != nil }

// defElem is one comma-separated item of a CREATE TABLE: a column or one or
// more table constraints (SQLite lets the commas between table constraints
// be left out).
type defElem struct {
	lead, text, trail string // white space and comments around the text
	col               *colDef
	cons              []*consDef
	dirty             bool // regenerate text from col or cons
}

// constraints returns e's constraints: its column's, or its table
// constraints.
func (e *defElem) constraints() []*consDef {
	if e.col != nil {
		return e.col.cons
	}
	return e.cons
}

// tableHead is what a CREATE TABLE says around its definition list.
type tableHead struct {
	name         string // as stored, unquoted
	gap          string // text between the table name and "("
	closing      string // white space and comments before ")"
	options      string // text after ")": WITHOUT ROWID, STRICT
	withoutRowid bool
	strict       bool
}

// tableDef is a parsed CREATE TABLE statement.
type tableDef struct {
	tableHead
	elems []*defElem
}

func (d *tableDef) columns() []*colDef {
	var cols []*colDef
	for _, e := range d.elems {
		if e.col != nil {
			cols = append(cols, e.col)
		}
	}
	return cols
}

// A colVisitor is told the parts of a column definition as the parser finds
// them: the column, then each of its constraints.
type colVisitor interface {
	column(name, nameText, typ string)
	constraint(k consDef)
}

// A tableVisitor is told the items of a CREATE TABLE's definition list as
// the parser finds them: each item, its column if it is one, and its
// constraints. tableDef builds the rebuild's model of a table from them,
// the inspector its description.
type tableVisitor interface {
	colVisitor
	item(lead, text, trail string)
}

// column and constraint make a colDef a colVisitor, which parseColumn fills.
func (c *colDef) column(name, nameText, typ string) {
	c.name, c.nameText, c.typ, c.orig, c.work = name, nameText, typ, -1, name
}

func (c *colDef) constraint(k consDef) { c.cons = append(c.cons, &k) }

// item, column and constraint make a tableDef a tableVisitor, which
// parseCreateTable fills.
func (d *tableDef) item(lead, text, trail string) {
	d.elems = append(d.elems, &defElem{lead: lead, text: text, trail: trail})
}

func (d *tableDef) column(name, nameText, typ string) {
	c := new(colDef)
	c.column(name, nameText, typ)
	d.elems[len(d.elems)-1].col = c
}

func (d *tableDef) constraint(k consDef) {
	if e := d.elems[len(d.elems)-1]; e.col != nil {
		e.col.constraint(k)
	} else {
		e.cons = append(e.cons, &k)
	}
}

// parseCreateTable parses a CREATE TABLE statement as sqlite_schema stores
// it, for a rebuild.
func parseCreateTable(sql string) (*tableDef, error) {
	toks, err := sqlTokens(sql)
	if err != nil {
		return nil, err
	}
	d := new(tableDef)
	if d.tableHead, err = parseTable(sql, toks, d); err != nil {
		return nil, err
	}
	for n, c := range d.columns() {
		c.orig, c.work, c.from = n, c.name, dialect.QuoteDouble(c.name)
	}
	return d, nil
}

// parseTable parses toks, the tokens of sql, a CREATE TABLE statement, and
// tells v about the items of its definition list. An error in the list
// comes after v heard of every item, each as far as it parses.
func parseTable(sql string, toks []sqlToken, v tableVisitor) (tableHead, error) {
	var h tableHead
	i := 0
	expect := func(kw string) error {
		if i >= len(toks) || !toks[i].is(kw) {
			return fmt.Errorf("expected %s at offset %d", kw, tokOffset(toks, i, sql))
		}
		i++
		return nil
	}
	if err := expect("CREATE"); err != nil {
		return h, err
	}
	if i < len(toks) && (toks[i].is("TEMP") || toks[i].is("TEMPORARY")) {
		i++
	}
	if err := expect("TABLE"); err != nil {
		return h, err
	}
	if i+2 < len(toks) && toks[i].is("IF") && toks[i+1].is("NOT") && toks[i+2].is("EXISTS") {
		i += 3
	}
	if i >= len(toks) {
		return h, errors.New("missing table name")
	}
	if i+2 < len(toks) && toks[i+1].punct(".") {
		i += 2
	}
	name, ok := toks[i].name()
	if !ok {
		return h, fmt.Errorf("bad table name %q", toks[i].text)
	}
	i++
	if i >= len(toks) || !toks[i].punct("(") {
		return h, fmt.Errorf("expected ( after the table name at offset %d", tokOffset(toks, i, sql))
	}
	end, err := closeParen(toks, i)
	if err != nil {
		return h, err
	}
	inner := toks[i+1 : end-1]
	open, closeTok := toks[i], toks[end-1]
	h.name, h.gap, h.options = name, sql[toks[i-1].end:toks[i].pos], sql[closeTok.end:]
	for o := range topLevel(toks[end:]) {
		switch {
		case len(o) == 2 && o[0].is("WITHOUT") && o[1].is("ROWID"):
			h.withoutRowid = true
		case len(o) == 1 && o[0].is("STRICT"):
			h.strict = true
		case len(o) == 0:
		default:
			return tableHead{}, fmt.Errorf("unknown table option %q", sql[o[0].pos:o[len(o)-1].end])
		}
	}
	var first error // the first error in the list
	cols, afterCons := 0, false
	prevEnd := open.end
	for p, comma := range topLevel(inner) {
		lead := prevEnd
		if comma != nil {
			prevEnd = comma.end
		}
		if len(p) == 0 {
			if first == nil {
				first = fmt.Errorf("empty definition at offset %d", lead)
			}
			continue
		}
		last, trail := p[len(p)-1].end, ""
		if comma != nil {
			trail = sql[last:comma.pos]
		} else {
			h.closing = sql[last:closeTok.pos]
		}
		v.item(sql[lead:p[0].pos], sql[p[0].pos:last], trail)
		var err error
		if isTableConstraintStart(p[0]) {
			err = parseConstraintsTo(p, sql, false, v.constraint)
			afterCons = true
		} else {
			var name string
			if name, err = parseColumnTo(p, sql, v); err == nil {
				cols++
				if afterCons {
					err = fmt.Errorf("column %q after a table constraint", name)
				}
			}
		}
		if first == nil {
			first = err
		}
	}
	if first == nil && cols == 0 {
		first = errors.New("no columns")
	}
	return h, first
}

func tokOffset(toks []sqlToken, i int, sql string) int {
	if i < len(toks) {
		return int(toks[i].pos)
	}
	return len(sql)
}

func isTableConstraintStart(t sqlToken) bool {
	return t.is("CONSTRAINT") || t.is("PRIMARY") || t.is("UNIQUE") || t.is("CHECK") || t.is("FOREIGN")
}

func isColumnConstraintStart(t sqlToken) bool {
	if t.kind != tkWord {
		return false
	}
	switch t.text[0] | 0x20 { // no keyword here starts with K or S, the letters with non-ASCII case variants
	case 'c':
		return t.is("CONSTRAINT") || t.is("CHECK") || t.is("COLLATE")
	case 'p':
		return t.is("PRIMARY")
	case 'n':
		return t.is("NOT") || t.is("NULL")
	case 'u':
		return t.is("UNIQUE")
	case 'd':
		return t.is("DEFAULT") || t.is("DEFERRABLE")
	case 'r':
		return t.is("REFERENCES")
	case 'g':
		return t.is("GENERATED")
	case 'a':
		return t.is("AS")
	}
	return false
}

// parseColumn parses a column definition.
func parseColumn(p []sqlToken, sql string) (*colDef, error) {
	c := new(colDef)
	if _, err := parseColumnTo(p, sql, c); err != nil {
		return nil, err
	}
	return c, nil
}

// parseColumnTo parses a column definition, telling v about it, and
// returns the column's name.
func parseColumnTo(p []sqlToken, sql string, v colVisitor) (string, error) {
	name, ok := p[0].name()
	if !ok || p[0].kind == tkWord && !isIdentByte(p[0].text[0], true) {
		return "", fmt.Errorf("bad column name %q", p[0].text)
	}
	i := 1
	// GENERATED names a type too, unless GENERATED ALWAYS starts a
	// generated column.
	typeWord := func(i int) bool {
		return !isColumnConstraintStart(p[i]) || p[i].is("GENERATED") && !(i+1 < len(p) && p[i+1].is("ALWAYS"))
	}
	for i < len(p) && typeWord(i) {
		if p[i].punct("(") {
			j, err := closeParen(p, i)
			if err != nil {
				return "", fmt.Errorf("column %q: type: %w", name, err)
			}
			i = j
			continue
		}
		if p[i].kind != tkWord && p[i].kind != tkQuoted && p[i].kind != tkString && p[i].kind != tkNumber && !p[i].punct("+") && !p[i].punct("-") {
			return "", fmt.Errorf("column %q: unexpected %q in type", name, p[i].text)
		}
		i++
	}
	typ := ""
	if i > 1 {
		typ = sql[p[1].pos:p[i-1].end]
	}
	v.column(name, p[0].text, typ)
	if err := parseConstraintsTo(p[i:], sql, true, v.constraint); err != nil {
		return name, fmt.Errorf("column %q: %w", name, err)
	}
	return name, nil
}

// parseConstraints parses a run of column constraints (isColumn true) or
// table constraints.
func parseConstraints(p []sqlToken, sql string, isColumn bool) ([]*consDef, error) {
	var out []*consDef
	if err := parseConstraintsTo(p, sql, isColumn, func(k consDef) { out = append(out, &k) }); err != nil {
		return nil, err
	}
	return out, nil
}

// parseConstraintsTo parses a run of column constraints (isColumn true) or
// table constraints and passes each to found. On an error, found has seen
// those before the one that failed.
func parseConstraintsTo(p []sqlToken, sql string, isColumn bool, found func(consDef)) error {
	cp := consParser{p: p, sql: sql, isColumn: isColumn}
	out, err := cp.parse()
	for _, k := range out {
		found(k)
	}
	return err
}

// consParser parses a run of column or table constraints: p are their
// tokens, of the statement sql, and i is the token it is at.
type consParser struct {
	p        []sqlToken
	sql      string
	isColumn bool // column constraints, not table constraints
	i        int
}

// parse parses the constraints up to the end of p, a column's DEFERRABLE
// clause folded into its REFERENCES. On an error it returns those before
// the one that failed.
func (cp *consParser) parse() ([]consDef, error) {
	var out []consDef
	for cp.i < len(cp.p) {
		var k consDef
		if err := cp.next(&k); err != nil {
			return out, err
		}
		if k.kind != kDefer {
			out = append(out, k)
			continue
		}
		// Fold the clause into the column's REFERENCES, so that the
		// foreign key carries it and goes where the REFERENCES goes.
		r := -1
		for j := range out {
			if out[j].kind == kReferences {
				r = j
			}
		}
		if r < 0 || k.name != "" {
			return out, fmt.Errorf("%s apart from a REFERENCES clause of the column is not supported: SQLite applies it to the foreign key declared last, which may be another column's", k.text)
		}
		out[r].deferrable, out[r].deferred = k.deferrable, k.deferred
		out[r].text += " " + k.text
	}
	return out, nil
}

// at reports whether the parser is at the bare keyword kw.
func (cp *consParser) at(kw string) bool { return cp.i < len(cp.p) && cp.p[cp.i].is(kw) }

// need moves past the keyword kw, or fails if it is not next.
func (cp *consParser) need(kw string) error {
	if !cp.at(kw) {
		return fmt.Errorf("expected %s at offset %d", kw, tokOffset(cp.p, cp.i, cp.sql))
	}
	cp.i++
	return nil
}

// name moves past a name and returns it unquoted; what says what the
// name is of, for the error.
func (cp *consParser) name(what string) (string, error) {
	if cp.i >= len(cp.p) {
		return "", errors.New("missing " + what)
	}
	n, ok := cp.p[cp.i].name()
	if !ok {
		return "", fmt.Errorf("bad %s %q", what, cp.p[cp.i].text)
	}
	cp.i++
	return n, nil
}

// group moves past a parenthesised group and returns the tokens inside.
func (cp *consParser) group() ([]sqlToken, error) {
	if cp.i >= len(cp.p) || !cp.p[cp.i].punct("(") {
		return nil, fmt.Errorf("expected ( at offset %d", tokOffset(cp.p, cp.i, cp.sql))
	}
	j, err := closeParen(cp.p, cp.i)
	if err != nil {
		return nil, err
	}
	g := cp.p[cp.i+1 : j-1]
	cp.i = j
	return g, nil
}

// conflict moves past an ON CONFLICT clause, if there is one.
func (cp *consParser) conflict() error {
	if cp.at("ON") {
		cp.i++
		if err := cp.need("CONFLICT"); err != nil {
			return err
		}
		if cp.i >= len(cp.p) {
			return errors.New("missing conflict resolution")
		}
		cp.i++
	}
	return nil
}

// colList moves past a parenthesised list of column names and returns
// them unquoted.
func (cp *consParser) colList() ([]string, error) {
	g, err := cp.group()
	if err != nil {
		return nil, err
	}
	var names []string
	for item := range topLevel(g) {
		if len(item) == 0 {
			return nil, errors.New("empty column in list")
		}
		n, ok := item[0].name()
		if !ok {
			return nil, fmt.Errorf("bad column name %q", item[0].text)
		}
		names = append(names, n)
	}
	return names, nil
}

// foreignKey parses what follows REFERENCES into k.
func (cp *consParser) foreignKey(k *consDef) (err error) {
	if k.parent, err = cp.name("parent table"); err != nil {
		return err
	}
	if cp.i < len(cp.p) && cp.p[cp.i].punct("(") {
		if k.parentCols, err = cp.colList(); err != nil {
			return err
		}
	}
	for cp.i < len(cp.p) {
		switch {
		case cp.at("ON"):
			cp.i++
			if !cp.at("DELETE") && !cp.at("UPDATE") && !cp.at("INSERT") {
				return fmt.Errorf("expected DELETE or UPDATE at offset %d", tokOffset(cp.p, cp.i, cp.sql))
			}
			event := cp.p[cp.i]
			cp.i++
			action := cp.i
			switch {
			case cp.at("SET"), cp.at("NO"):
				cp.i += 2
			case cp.at("CASCADE"), cp.at("RESTRICT"):
				cp.i++
			default:
				return fmt.Errorf("bad foreign key action at offset %d", tokOffset(cp.p, cp.i, cp.sql))
			}
			if cp.i > len(cp.p) {
				return errors.New("truncated foreign key clause")
			}
			act := upperASCII(cp.p[action].text)
			if cp.i == action+2 {
				act += " " + upperASCII(cp.p[action+1].text)
			}
			switch { // ON INSERT, which SQLite accepts, does nothing
			case event.is("DELETE"):
				k.onDelete = act
			case event.is("UPDATE"):
				k.onUpdate = act
			}
		case cp.at("MATCH"):
			cp.i += 2
		case cp.at("NOT") && cp.i+1 < len(cp.p) && cp.p[cp.i+1].is("DEFERRABLE"), cp.at("DEFERRABLE"):
			k.deferrable, k.deferred = !cp.at("NOT"), false
			if cp.at("NOT") {
				cp.i++
			}
			cp.i++
			if cp.at("INITIALLY") {
				k.deferred = k.deferrable && cp.i+1 < len(cp.p) && cp.p[cp.i+1].is("DEFERRED")
				cp.i += 2
			}
		default:
			return nil
		}
	}
	if cp.i > len(cp.p) {
		return errors.New("truncated foreign key clause")
	}
	return nil
}

// next parses the constraint the parser is at into k.
func (cp *consParser) next(k *consDef) (err error) {
	start := cp.i
	if cp.at("CONSTRAINT") {
		cp.i++
		if k.name, err = cp.name("constraint name"); err != nil {
			return err
		}
		if cp.i >= len(cp.p) || cp.at("CONSTRAINT") {
			k.kind = kName
			k.text = cp.sql[cp.p[start].pos:cp.p[cp.i-1].end]
			return nil
		}
	}
	switch {
	case cp.at("PRIMARY"):
		cp.i++
		if err := cp.need("KEY"); err != nil {
			return err
		}
		k.kind = kPrimaryKey
		if !cp.isColumn {
			// PRIMARY KEY (a AUTOINCREMENT) is the table-level form
			if g := cp.i; g < len(cp.p) && cp.p[g].punct("(") {
				if end, err := closeParen(cp.p, g); err == nil && end-2 > g && cp.p[end-2].is("AUTOINCREMENT") {
					k.autoinc = true
				}
			}
			if k.cols, err = cp.colList(); err != nil {
				return err
			}
		} else if cp.at("ASC") {
			cp.i++
		} else if cp.at("DESC") {
			k.desc = true
			cp.i++
		}
		if err := cp.conflict(); err != nil {
			return err
		}
		if cp.at("AUTOINCREMENT") {
			k.autoinc = true
			cp.i++
		}
	case cp.isColumn && cp.at("NOT") && !(cp.i+1 < len(cp.p) && cp.p[cp.i+1].is("DEFERRABLE")):
		cp.i++
		if err := cp.need("NULL"); err != nil {
			return err
		}
		k.kind = kNotNull
		if err := cp.conflict(); err != nil {
			return err
		}
	case cp.isColumn && cp.at("NULL"):
		cp.i++
		k.kind = kNull
		if err := cp.conflict(); err != nil {
			return err
		}
	case cp.at("UNIQUE"):
		cp.i++
		k.kind = kUnique
		if !cp.isColumn {
			if k.cols, err = cp.colList(); err != nil {
				return err
			}
		}
		if err := cp.conflict(); err != nil {
			return err
		}
	case cp.at("CHECK"):
		cp.i++
		k.kind = kCheck
		if k.expr, err = cp.group(); err != nil {
			return err
		}
		if err := cp.conflict(); err != nil {
			return err
		}
	case cp.isColumn && cp.at("DEFAULT"):
		cp.i++
		k.kind = kDefault
		if cp.i >= len(cp.p) {
			return errors.New("missing DEFAULT value")
		}
		vs := cp.i
		switch {
		case cp.p[cp.i].punct("("):
			if _, err := cp.group(); err != nil {
				return err
			}
		case cp.p[cp.i].punct("+") || cp.p[cp.i].punct("-"):
			cp.i += 2
			if cp.i > len(cp.p) {
				return errors.New("missing DEFAULT value")
			}
		default:
			cp.i++
		}
		k.expr = cp.p[vs:cp.i]
	case cp.isColumn && cp.at("COLLATE"):
		cp.i++
		if cp.i >= len(cp.p) {
			return errors.New("missing collation name")
		}
		k.kind, k.collation = kCollate, cp.p[cp.i].ident()
		cp.i++
	case cp.isColumn && cp.at("REFERENCES"):
		cp.i++
		k.kind = kReferences
		if err := cp.foreignKey(k); err != nil {
			return err
		}
	case !cp.isColumn && cp.at("FOREIGN"):
		cp.i++
		if err := cp.need("KEY"); err != nil {
			return err
		}
		k.kind = kForeignKey
		if k.cols, err = cp.colList(); err != nil {
			return err
		}
		if err := cp.need("REFERENCES"); err != nil {
			return err
		}
		if err := cp.foreignKey(k); err != nil {
			return err
		}
	case cp.isColumn && (cp.at("DEFERRABLE") || cp.at("NOT") && cp.i+1 < len(cp.p) && cp.p[cp.i+1].is("DEFERRABLE")):
		// A DEFERRABLE clause of its own, as in REFERENCES p NOT NULL
		// DEFERRABLE: SQLite applies it to the foreign key declared
		// last, which is the column's own when it has one.
		k.deferrable = cp.at("DEFERRABLE")
		if cp.at("NOT") {
			cp.i++
		}
		cp.i++
		if cp.at("INITIALLY") {
			if cp.i+1 >= len(cp.p) || !cp.p[cp.i+1].is("DEFERRED") && !cp.p[cp.i+1].is("IMMEDIATE") {
				return fmt.Errorf("expected DEFERRED or IMMEDIATE at offset %d", tokOffset(cp.p, cp.i+1, cp.sql))
			}
			k.deferred = k.deferrable && cp.p[cp.i+1].is("DEFERRED")
			cp.i += 2
		}
		k.kind = kDefer
	case cp.isColumn && (cp.at("GENERATED") || cp.at("AS")):
		if cp.at("GENERATED") {
			cp.i++
			if err := cp.need("ALWAYS"); err != nil {
				return err
			}
		}
		if err := cp.need("AS"); err != nil {
			return err
		}
		k.kind = kGenerated
		if k.expr, err = cp.group(); err != nil {
			return err
		}
		if cp.at("STORED") || cp.at("VIRTUAL") {
			k.stored = cp.at("STORED")
			cp.i++
		}
	default:
		return fmt.Errorf("unexpected %q at offset %d", cp.p[cp.i].text, cp.p[cp.i].pos)
	}
	k.text = cp.sql[cp.p[start].pos:cp.p[cp.i-1].end]
	return nil
}

// indexDef is a parsed CREATE INDEX statement.
type indexDef struct {
	unique bool
	tail   []sqlToken   // after the table name: the indexed columns and any WHERE clause
	parts  [][]sqlToken // the indexed columns and expressions, each with any COLLATE and ASC or DESC
	where  []sqlToken   // the condition of a partial index
}

// parseIndex parses the tokens of a CREATE INDEX statement as sqlite_schema
// stores it.
func parseIndex(toks []sqlToken) (indexDef, error) {
	var d indexDef
	for i, t := range toks {
		if t.is("UNIQUE") {
			d.unique = true
		}
		if !t.is("ON") {
			continue
		}
		j := i + 2
		if j+1 < len(toks) && toks[j].punct(".") {
			j += 2
		}
		if j > len(toks) {
			break
		}
		d.tail = toks[j:]
		if open := slices.IndexFunc(d.tail, func(x sqlToken) bool { return x.punct("(") }); open >= 0 {
			if end, err := closeParen(d.tail, open); err == nil {
				d.parts = splitTop(d.tail[open+1 : end-1])
				if end < len(d.tail) && d.tail[end].is("WHERE") {
					d.where = d.tail[end+1:]
				}
			}
		}
		return d, nil
	}
	return indexDef{}, errors.New("cannot find the indexed table")
}
