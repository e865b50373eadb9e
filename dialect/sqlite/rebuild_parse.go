package sqlite

import (
	"errors"
	"fmt"
	"strings"

	"github.com/strata-go/strata/dialect"
)

// This file takes SQLite's stored CREATE TABLE, CREATE INDEX and CREATE
// TRIGGER statements apart, enough for a table rebuild: a tokenizer that
// knows every kind of quoting and comment, and a parser that splits a table
// into column definitions and table constraints, each keeping its original
// text so that what is not edited is written back unchanged.

type sqlTokKind int

const (
	tkWord   sqlTokKind = iota // bare identifier or keyword
	tkQuoted                   // "ident", `ident` or [ident]
	tkString                   // 'string'
	tkBlob                     // x'hex'
	tkNumber                   // 12, 1.5e3, 0x1F
	tkPunct                    // ( ) , ; . and operator characters
)

type sqlToken struct {
	kind     sqlTokKind
	text     string // as written
	pos, end int    // byte offsets in the source
}

// is reports whether t is the bare keyword kw (case-insensitive).
func (t sqlToken) is(kw string) bool {
	return t.kind == tkWord && strings.EqualFold(t.text, kw)
}

func (t sqlToken) punct(p string) bool { return t.kind == tkPunct && t.text == p }

// name returns the identifier t stands for, unquoted; ok is false when t
// cannot be a name.
func (t sqlToken) name() (string, bool) {
	switch t.kind {
	case tkWord:
		return t.text, true
	case tkQuoted, tkString:
		return unquoteIdent(t.text), true
	}
	return "", false
}

func unquoteIdent(s string) string {
	if len(s) < 2 {
		return s
	}
	switch s[0] {
	case '"':
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	case '`':
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	case '\'':
		return strings.ReplaceAll(s[1:len(s)-1], `''`, `'`)
	case '[':
		return s[1 : len(s)-1]
	}
	return s
}

func isIdentByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= 0x80:
		return true
	case c >= '0' && c <= '9', c == '$':
		return !first
	}
	return false
}

// sqlTokens splits SQL text into tokens, dropping white space and comments.
func sqlTokens(s string) ([]sqlToken, error) {
	var toks []sqlToken
	i := 0
	for i < len(s) {
		c := s[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				i = len(s) // SQLite accepts an unterminated comment at the end
				continue
			}
			i += 2 + end + 2
			continue
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for {
				k := strings.IndexByte(s[j:], c)
				if k < 0 {
					return nil, fmt.Errorf("unterminated %c quote at offset %d", c, i)
				}
				j += k + 1
				if j < len(s) && s[j] == c {
					j++
					continue
				}
				break
			}
			kind := tkQuoted
			if c == '\'' {
				kind = tkString
			}
			toks = append(toks, sqlToken{kind, s[i:j], i, j})
			i = j
			continue
		case c == '[':
			k := strings.IndexByte(s[i:], ']')
			if k < 0 {
				return nil, fmt.Errorf("unterminated [ quote at offset %d", i)
			}
			toks = append(toks, sqlToken{tkQuoted, s[i : i+k+1], i, i + k + 1})
			i += k + 1
			continue
		case (c == 'x' || c == 'X') && i+1 < len(s) && s[i+1] == '\'':
			k := strings.IndexByte(s[i+2:], '\'')
			if k < 0 {
				return nil, fmt.Errorf("unterminated blob literal at offset %d", i)
			}
			toks = append(toks, sqlToken{tkBlob, s[i : i+2+k+1], i, i + 2 + k + 1})
			i += 2 + k + 1
			continue
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			i++
			for i < len(s) {
				d := s[i]
				if d >= '0' && d <= '9' || d == '.' || d == '_' || isIdentByte(d, false) {
					i++
					continue
				}
				if (d == '+' || d == '-') && (s[i-1] == 'e' || s[i-1] == 'E') && !strings.HasPrefix(strings.ToLower(s[start:]), "0x") {
					i++
					continue
				}
				break
			}
			toks = append(toks, sqlToken{tkNumber, s[start:i], start, i})
			continue
		case isIdentByte(c, true):
			for i < len(s) && isIdentByte(s[i], false) {
				i++
			}
			toks = append(toks, sqlToken{tkWord, s[start:i], start, i})
			continue
		}
		i++
		toks = append(toks, sqlToken{tkPunct, s[start:i], start, i})
	}
	return toks, nil
}

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

// splitTop splits toks at commas outside parentheses.
func splitTop(toks []sqlToken) [][]sqlToken {
	parts, _ := splitTopCommas(toks)
	return parts
}

// splitTopCommas splits toks at commas outside parentheses and returns the
// commas too.
func splitTopCommas(toks []sqlToken) (parts [][]sqlToken, commas []sqlToken) {
	depth, start := 0, 0
	for i, t := range toks {
		switch {
		case t.punct("("):
			depth++
		case t.punct(")"):
			depth--
		case t.punct(",") && depth == 0:
			parts = append(parts, toks[start:i])
			commas = append(commas, t)
			start = i + 1
		}
	}
	return append(parts, toks[start:]), commas
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
)

// consDef is one column or table constraint.
type consDef struct {
	name string // from CONSTRAINT name; "" when unnamed
	kind string
	text string // as written, including any CONSTRAINT name prefix

	cols       []string   // PRIMARY KEY, UNIQUE, FOREIGN KEY (table level): the table's columns
	parent     string     // REFERENCES / FOREIGN KEY: the parent table
	parentCols []string   // REFERENCES / FOREIGN KEY: the parent's columns, if given
	expr       []sqlToken // CHECK, GENERATED: the expression; DEFAULT: the value
	exprText   string
	desc       bool // PRIMARY KEY DESC (column level)
	autoinc    bool // PRIMARY KEY AUTOINCREMENT
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

func (e *defElem) String() string {
	if !e.dirty {
		return e.lead + e.text + e.trail
	}
	var parts []string
	if e.col != nil {
		parts = append(parts, e.col.nameText)
		if e.col.typ != "" {
			parts = append(parts, e.col.typ)
		}
		for _, k := range e.col.cons {
			parts = append(parts, k.text)
		}
	} else {
		for _, k := range e.cons {
			parts = append(parts, k.text)
		}
	}
	return e.lead + strings.Join(parts, " ") + e.trail
}

// tableDef is a parsed CREATE TABLE statement.
type tableDef struct {
	name         string // as stored, unquoted
	gap          string // text between the table name and "("
	elems        []*defElem
	closing      string // white space and comments before ")"
	options      string // text after ")": WITHOUT ROWID, STRICT
	withoutRowid bool
	strict       bool
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

// body returns the definition after the table name.
func (d *tableDef) body() string {
	var b strings.Builder
	b.WriteString(d.gap)
	b.WriteString("(")
	for i, e := range d.elems {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(e.String())
	}
	b.WriteString(d.closing)
	b.WriteString(")")
	b.WriteString(d.options)
	return b.String()
}

// primaryKey returns the names of the primary key columns, if declared.
func (d *tableDef) primaryKey() []string {
	for _, e := range d.elems {
		if e.col != nil {
			if e.col.has(kPrimaryKey) != nil {
				return []string{e.col.name}
			}
			continue
		}
		for _, k := range e.cons {
			if k.kind == kPrimaryKey {
				return k.cols
			}
		}
	}
	return nil
}

// rowidAlias returns the INTEGER PRIMARY KEY column, which is the rowid.
func (d *tableDef) rowidAlias() *colDef {
	if d.withoutRowid {
		return nil
	}
	for _, e := range d.elems {
		if e.col != nil {
			if pk := e.col.has(kPrimaryKey); pk != nil {
				if strings.EqualFold(strings.TrimSpace(e.col.typ), "INTEGER") && !pk.desc {
					return e.col
				}
				return nil
			}
			continue
		}
		for _, k := range e.cons {
			if k.kind == kPrimaryKey && len(k.cols) == 1 {
				for _, c := range d.columns() {
					if strings.EqualFold(c.name, k.cols[0]) && strings.EqualFold(strings.TrimSpace(c.typ), "INTEGER") {
						return c
					}
				}
				return nil
			}
		}
	}
	return nil
}

func (d *tableDef) hasForeignKeys() bool {
	for _, e := range d.elems {
		var cons []*consDef
		if e.col != nil {
			cons = e.col.cons
		} else {
			cons = e.cons
		}
		for _, k := range cons {
			if k.kind == kReferences || k.kind == kForeignKey {
				return true
			}
		}
	}
	return false
}

func (d *tableDef) hasAutoincrement() bool {
	for _, c := range d.columns() {
		if pk := c.has(kPrimaryKey); pk != nil && pk.autoinc {
			return true
		}
	}
	return false
}

// parseCreateTable parses a CREATE TABLE statement as sqlite_schema stores it.
func parseCreateTable(sql string) (*tableDef, error) {
	toks, err := sqlTokens(sql)
	if err != nil {
		return nil, err
	}
	i := 0
	expect := func(kw string) error {
		if i >= len(toks) || !toks[i].is(kw) {
			return fmt.Errorf("expected %s at offset %d", kw, tokOffset(toks, i, sql))
		}
		i++
		return nil
	}
	if err := expect("CREATE"); err != nil {
		return nil, err
	}
	if i < len(toks) && (toks[i].is("TEMP") || toks[i].is("TEMPORARY")) {
		i++
	}
	if err := expect("TABLE"); err != nil {
		return nil, err
	}
	if i+2 < len(toks) && toks[i].is("IF") && toks[i+1].is("NOT") && toks[i+2].is("EXISTS") {
		i += 3
	}
	if i >= len(toks) {
		return nil, errors.New("missing table name")
	}
	if i+2 < len(toks) && toks[i+1].punct(".") {
		i += 2
	}
	name, ok := toks[i].name()
	if !ok {
		return nil, fmt.Errorf("bad table name %q", toks[i].text)
	}
	i++
	if i >= len(toks) || !toks[i].punct("(") {
		return nil, fmt.Errorf("expected ( after the table name at offset %d", tokOffset(toks, i, sql))
	}
	d := &tableDef{name: name, gap: sql[toks[i-1].end:toks[i].pos]}
	end, err := closeParen(toks, i)
	if err != nil {
		return nil, err
	}
	inner := toks[i+1 : end-1]
	open, closeTok := toks[i], toks[end-1]
	d.options = sql[closeTok.end:]
	for _, o := range splitTop(toks[end:]) {
		switch {
		case len(o) == 2 && o[0].is("WITHOUT") && o[1].is("ROWID"):
			d.withoutRowid = true
		case len(o) == 1 && o[0].is("STRICT"):
			d.strict = true
		case len(o) == 0:
		default:
			return nil, fmt.Errorf("unknown table option %q", sql[o[0].pos:o[len(o)-1].end])
		}
	}
	parts, commas := splitTopCommas(inner)
	prevEnd := open.end
	for n, p := range parts {
		if len(p) == 0 {
			return nil, fmt.Errorf("empty definition at offset %d", prevEnd)
		}
		last := p[len(p)-1].end
		e := &defElem{lead: sql[prevEnd:p[0].pos], text: sql[p[0].pos:last]}
		if n < len(commas) {
			e.trail = sql[last:commas[n].pos]
			prevEnd = commas[n].end
		} else {
			d.closing = sql[last:closeTok.pos]
		}
		if err := parseElement(e, p, sql); err != nil {
			return nil, err
		}
		if e.col != nil && len(d.elems) > 0 && d.elems[len(d.elems)-1].col == nil {
			return nil, fmt.Errorf("column %q after a table constraint", e.col.name)
		}
		d.elems = append(d.elems, e)
	}
	if len(d.columns()) == 0 {
		return nil, errors.New("no columns")
	}
	for n, c := range d.columns() {
		c.orig, c.work, c.from = n, c.name, dialect.QuoteDouble(c.name)
	}
	return d, nil
}

func tokOffset(toks []sqlToken, i int, sql string) int {
	if i < len(toks) {
		return toks[i].pos
	}
	return len(sql)
}

func isTableConstraintStart(t sqlToken) bool {
	return t.is("CONSTRAINT") || t.is("PRIMARY") || t.is("UNIQUE") || t.is("CHECK") || t.is("FOREIGN")
}

func isColumnConstraintStart(t sqlToken) bool {
	for _, kw := range []string{"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE", "REFERENCES", "GENERATED", "AS"} {
		if t.is(kw) {
			return true
		}
	}
	return false
}

// parseElement parses one item of the table's definition list.
func parseElement(e *defElem, p []sqlToken, sql string) error {
	if isTableConstraintStart(p[0]) {
		cons, err := parseConstraints(p, sql, false)
		if err != nil {
			return err
		}
		e.cons = cons
		return nil
	}
	col, err := parseColumn(p, sql)
	if err != nil {
		return err
	}
	e.col = col
	return nil
}

func parseColumn(p []sqlToken, sql string) (*colDef, error) {
	name, ok := p[0].name()
	if !ok || p[0].kind == tkWord && !isIdentByte(p[0].text[0], true) {
		return nil, fmt.Errorf("bad column name %q", p[0].text)
	}
	c := &colDef{name: name, nameText: p[0].text, orig: -1, work: name}
	i := 1
	for i < len(p) && !isColumnConstraintStart(p[i]) {
		if p[i].punct("(") {
			j, err := closeParen(p, i)
			if err != nil {
				return nil, fmt.Errorf("column %q: type: %w", name, err)
			}
			i = j
			continue
		}
		if p[i].kind != tkWord && p[i].kind != tkQuoted && p[i].kind != tkString && p[i].kind != tkNumber && !p[i].punct("+") && !p[i].punct("-") {
			return nil, fmt.Errorf("column %q: unexpected %q in type", name, p[i].text)
		}
		i++
	}
	if i > 1 {
		c.typ = sql[p[1].pos:p[i-1].end]
	}
	cons, err := parseConstraints(p[i:], sql, true)
	if err != nil {
		return nil, fmt.Errorf("column %q: %w", name, err)
	}
	c.cons = cons
	return c, nil
}

// parseConstraints parses a run of column constraints (column true) or
// table constraints.
func parseConstraints(p []sqlToken, sql string, isColumn bool) ([]*consDef, error) {
	var out []*consDef
	i := 0
	at := func(kw string) bool { return i < len(p) && p[i].is(kw) }
	need := func(kw string) error {
		if !at(kw) {
			return fmt.Errorf("expected %s at offset %d", kw, tokOffset(p, i, sql))
		}
		i++
		return nil
	}
	group := func() ([]sqlToken, error) {
		if i >= len(p) || !p[i].punct("(") {
			return nil, fmt.Errorf("expected ( at offset %d", tokOffset(p, i, sql))
		}
		j, err := closeParen(p, i)
		if err != nil {
			return nil, err
		}
		g := p[i+1 : j-1]
		i = j
		return g, nil
	}
	conflict := func() error {
		if at("ON") {
			i++
			if err := need("CONFLICT"); err != nil {
				return err
			}
			if i >= len(p) {
				return errors.New("missing conflict resolution")
			}
			i++
		}
		return nil
	}
	colList := func() ([]string, error) {
		g, err := group()
		if err != nil {
			return nil, err
		}
		var names []string
		for _, item := range splitTop(g) {
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
	for i < len(p) {
		start := i
		k := &consDef{}
		if at("CONSTRAINT") {
			i++
			if i >= len(p) {
				return nil, errors.New("missing constraint name")
			}
			n, ok := p[i].name()
			if !ok {
				return nil, fmt.Errorf("bad constraint name %q", p[i].text)
			}
			k.name = n
			i++
			if i >= len(p) {
				k.kind = kName
				k.text = sql[p[start].pos:p[i-1].end]
				out = append(out, k)
				break
			}
		}
		switch {
		case at("PRIMARY"):
			i++
			if err := need("KEY"); err != nil {
				return nil, err
			}
			k.kind = kPrimaryKey
			if !isColumn {
				cols, err := colList()
				if err != nil {
					return nil, err
				}
				k.cols = cols
			} else if at("ASC") {
				i++
			} else if at("DESC") {
				k.desc = true
				i++
			}
			if err := conflict(); err != nil {
				return nil, err
			}
			if at("AUTOINCREMENT") {
				k.autoinc = true
				i++
			}
		case isColumn && at("NOT"):
			i++
			if err := need("NULL"); err != nil {
				return nil, err
			}
			k.kind = kNotNull
			if err := conflict(); err != nil {
				return nil, err
			}
		case isColumn && at("NULL"):
			i++
			k.kind = kNull
			if err := conflict(); err != nil {
				return nil, err
			}
		case at("UNIQUE"):
			i++
			k.kind = kUnique
			if !isColumn {
				cols, err := colList()
				if err != nil {
					return nil, err
				}
				k.cols = cols
			}
			if err := conflict(); err != nil {
				return nil, err
			}
		case at("CHECK"):
			i++
			k.kind = kCheck
			g, err := group()
			if err != nil {
				return nil, err
			}
			k.expr = g
			if len(g) > 0 {
				k.exprText = sql[g[0].pos:g[len(g)-1].end]
			}
			if err := conflict(); err != nil {
				return nil, err
			}
		case isColumn && at("DEFAULT"):
			i++
			k.kind = kDefault
			if i >= len(p) {
				return nil, errors.New("missing DEFAULT value")
			}
			vs := i
			switch {
			case p[i].punct("("):
				if _, err := group(); err != nil {
					return nil, err
				}
			case p[i].punct("+") || p[i].punct("-"):
				i += 2
				if i > len(p) {
					return nil, errors.New("missing DEFAULT value")
				}
			default:
				i++
			}
			k.expr = p[vs:i]
			k.exprText = sql[p[vs].pos:p[i-1].end]
		case isColumn && at("COLLATE"):
			i++
			if i >= len(p) {
				return nil, errors.New("missing collation name")
			}
			k.kind = kCollate
			i++
		case isColumn && at("REFERENCES"), !isColumn && at("FOREIGN"):
			if !isColumn {
				i++
				if err := need("KEY"); err != nil {
					return nil, err
				}
				cols, err := colList()
				if err != nil {
					return nil, err
				}
				k.cols = cols
				k.kind = kForeignKey
			} else {
				k.kind = kReferences
			}
			if err := need("REFERENCES"); err != nil {
				return nil, err
			}
			if i >= len(p) {
				return nil, errors.New("missing parent table")
			}
			n, ok := p[i].name()
			if !ok {
				return nil, fmt.Errorf("bad parent table %q", p[i].text)
			}
			k.parent = n
			i++
			if i < len(p) && p[i].punct("(") {
				cols, err := colList()
				if err != nil {
					return nil, err
				}
				k.parentCols = cols
			}
		fk:
			for i < len(p) {
				switch {
				case at("ON"):
					i++
					if !at("DELETE") && !at("UPDATE") {
						return nil, fmt.Errorf("expected DELETE or UPDATE at offset %d", tokOffset(p, i, sql))
					}
					i++
					switch {
					case at("SET"):
						i += 2
					case at("NO"):
						i += 2
					case at("CASCADE"), at("RESTRICT"):
						i++
					default:
						return nil, fmt.Errorf("bad foreign key action at offset %d", tokOffset(p, i, sql))
					}
				case at("MATCH"):
					i += 2
				case at("NOT") && i+1 < len(p) && p[i+1].is("DEFERRABLE"), at("DEFERRABLE"):
					if at("NOT") {
						i++
					}
					i++
					if at("INITIALLY") {
						i += 2
					}
				default:
					break fk
				}
			}
			if i > len(p) {
				return nil, errors.New("truncated foreign key clause")
			}
		case isColumn && (at("GENERATED") || at("AS")):
			if at("GENERATED") {
				i++
				if err := need("ALWAYS"); err != nil {
					return nil, err
				}
			}
			if err := need("AS"); err != nil {
				return nil, err
			}
			k.kind = kGenerated
			g, err := group()
			if err != nil {
				return nil, err
			}
			k.expr = g
			if len(g) > 0 {
				k.exprText = sql[g[0].pos:g[len(g)-1].end]
			}
			if at("STORED") || at("VIRTUAL") {
				i++
			}
		default:
			return nil, fmt.Errorf("unexpected %q at offset %d", p[i].text, p[i].pos)
		}
		k.text = sql[p[start].pos:p[i-1].end]
		out = append(out, k)
	}
	return out, nil
}

// triggerHead is what a CREATE TRIGGER says before its body.
type triggerHead struct {
	event    string   // INSERT, DELETE or UPDATE
	updateOf []string // UPDATE OF columns
	table    string
}

func parseTriggerHead(sql string) (*triggerHead, error) {
	toks, err := sqlTokens(sql)
	if err != nil {
		return nil, err
	}
	h := &triggerHead{}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.is("INSERT") || t.is("DELETE"):
			h.event = strings.ToUpper(t.text)
		case t.is("UPDATE"):
			h.event = "UPDATE"
			if i+1 < len(toks) && toks[i+1].is("OF") {
				i += 2
				for ; i < len(toks) && !toks[i].is("ON"); i++ {
					if n, ok := toks[i].name(); ok && !toks[i].punct(",") {
						h.updateOf = append(h.updateOf, n)
					}
				}
				i--
			}
		case t.is("ON") && h.event != "":
			if i+1 >= len(toks) {
				return nil, errors.New("missing trigger table")
			}
			n := toks[i+1]
			if i+3 < len(toks) && toks[i+2].punct(".") {
				n = toks[i+3]
			}
			h.table, _ = n.name()
			return h, nil
		}
	}
	return nil, errors.New("cannot find the trigger's event and table")
}

// indexTail returns the tokens of a CREATE INDEX after its table name: the
// indexed columns or expressions and any WHERE clause.
func indexTail(sql string) ([]sqlToken, error) {
	toks, err := sqlTokens(sql)
	if err != nil {
		return nil, err
	}
	for i, t := range toks {
		if t.is("ON") {
			j := i + 2
			if j+1 < len(toks) && toks[j].punct(".") {
				j += 2
			}
			if j <= len(toks) {
				return toks[j:], nil
			}
		}
	}
	return nil, errors.New("cannot find the indexed table")
}

// mentions returns the names among names (compared case-insensitively)
// that toks refers to as column names: quoted identifiers, and bare words
// that are not keywords, function names or collation names.
func mentions(toks []sqlToken, names []string) []string {
	var found []string
	for i, t := range toks {
		if t.kind != tkWord && t.kind != tkQuoted {
			continue
		}
		if t.kind == tkWord && isKeyword(t.text) {
			continue
		}
		if i+1 < len(toks) && toks[i+1].punct("(") {
			continue // a function
		}
		if i > 0 && toks[i-1].is("COLLATE") {
			continue
		}
		n, _ := t.name()
		for _, want := range names {
			if strings.EqualFold(n, want) && !containsFold(found, want) {
				found = append(found, want)
			}
		}
	}
	return found
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// sameTokens compares two token runs ignoring white space, comments, the
// case of bare words and how identifiers are quoted.
func sameTokens(a, b []sqlToken) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if (x.kind == tkWord || x.kind == tkQuoted) && (y.kind == tkWord || y.kind == tkQuoted) {
			nx, _ := x.name()
			ny, _ := y.name()
			if !strings.EqualFold(nx, ny) {
				return false
			}
			continue
		}
		if x.kind != y.kind || x.text != y.text {
			return false
		}
	}
	return true
}

var sqlKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC
	ATTACH AUTOINCREMENT BEFORE BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN
	COMMIT CONFLICT CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME
	CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO
	DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST
	FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS HAVING IF IGNORE IMMEDIATE
	IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS ISNULL JOIN KEY LAST
	LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL NULLS OF OFFSET
	ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE RANGE
	RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT
	ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION
	TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE
	WINDOW WITH WITHOUT TRUE FALSE`) {
		m[k] = true
	}
	return m
}()

func isKeyword(s string) bool { return sqlKeywords[strings.ToUpper(s)] }
