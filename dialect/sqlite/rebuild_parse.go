package sqlite

import (
	"errors"
	"strings"
)

// This file holds what the table rebuild asks of the statements that
// sqlparse.go takes apart: a table definition written back with its edits,
// its keys, the event and table of a trigger, and the columns an
// expression mentions.

// String returns the element as written, or once edited, written anew from
// its column or constraints.
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
	}
	for _, k := range e.constraints() {
		parts = append(parts, k.text)
	}
	return e.lead + strings.Join(parts, " ") + e.trail
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
				if foldEq(strings.TrimSpace(e.col.typ), "INTEGER") && !pk.desc {
					return e.col
				}
				return nil
			}
			continue
		}
		for _, k := range e.cons {
			if k.kind == kPrimaryKey && len(k.cols) == 1 {
				for _, c := range d.columns() {
					if foldEq(c.name, k.cols[0]) && foldEq(strings.TrimSpace(c.typ), "INTEGER") {
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
		for _, k := range e.constraints() {
			if k.kind == kReferences || k.kind == kForeignKey {
				return true
			}
		}
	}
	return false
}

func (d *tableDef) hasAutoincrement() bool {
	for _, e := range d.elems {
		for _, k := range e.constraints() {
			if k.kind == kPrimaryKey && k.autoinc {
				return true
			}
		}
	}
	return false
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
			h.event = upperASCII(t.text)
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

// parseIndexSQL parses a CREATE INDEX as sqlite_schema stores it.
func parseIndexSQL(sql string) (indexDef, error) {
	toks, err := sqlTokens(sql)
	if err != nil {
		return indexDef{}, err
	}
	return parseIndex(toks)
}

// mentions returns the names among names (compared as SQLite compares
// identifiers) that the expression toks refers to as column names.
func mentions(toks []sqlToken, names []string) []string {
	var found []string
	for _, n := range columnRefs(toks) {
		for _, want := range names {
			if foldEq(n, want) && !containsFold(found, want) {
				found = append(found, want)
			}
		}
	}
	return found
}

// indexMentions is mentions for the indexed columns and WHERE clause of an
// index. An indexed column written as a bare string, 'c' or 'c' DESC, is
// the column c, as SQLite reads it; anywhere else a string is a string.
func indexMentions(d indexDef, names []string) []string {
	var refs []string
	for _, part := range d.parts {
		if len(part) > 0 && part[0].kind == tkString && (len(part) == 1 || len(part) == 2 && (part[1].is("ASC") || part[1].is("DESC"))) {
			refs = append(refs, part[0].ident())
			continue
		}
		refs = append(refs, columnRefs(part)...)
	}
	refs = append(refs, columnRefs(d.where)...)
	var found []string
	for _, n := range refs {
		for _, want := range names {
			if foldEq(n, want) && !containsFold(found, want) {
				found = append(found, want)
			}
		}
	}
	return found
}

// identKeywords are the keywords that SQLite's grammar lets stand for an
// identifier (parse.y's %fallback ID list, INDEXED and the join keywords),
// so that a column may be called key, action, left or replace without
// quotes.
var identKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`ABORT ACTION AFTER ANALYZE ASC ATTACH BEFORE BEGIN BY CASCADE CAST COLUMN
		CONFLICT DATABASE DEFERRED DESC DETACH DO EACH END EXCLUSIVE EXPLAIN FAIL FOR IGNORE IMMEDIATE
		INITIALLY INSTEAD LIKE GLOB REGEXP MATCH NO PLAN QUERY KEY OF OFFSET PRAGMA RAISE RECURSIVE
		RELEASE REPLACE RESTRICT ROW ROWS ROLLBACK SAVEPOINT TEMP TRIGGER VACUUM VIEW VIRTUAL WITH
		WITHOUT NULLS FIRST LAST CURRENT FOLLOWING PARTITION PRECEDING RANGE UNBOUNDED EXCLUDE GROUPS
		OTHERS TIES GENERATED ALWAYS MATERIALIZED REINDEX RENAME CURRENT_DATE CURRENT_TIME
		CURRENT_TIMESTAMP IF INDEXED CROSS FULL INNER LEFT NATURAL OUTER RIGHT`) {
		m[k] = true
	}
	return m
}()

// columnRefs returns the column names an expression refers to, unquoted,
// in order and with repeats. It follows the token stream the way SQLite's
// parser does where that decides what is a column: whether an operand or
// an operator is expected next (so that a keyword-named column such as
// key is a column where an operand goes, and LIKE between operands is an
// operator), the type name of CAST(x AS type), collation names after
// COLLATE, function names before "(", and table qualifiers (t.c and
// main.t.c refer to c).
func columnRefs(toks []sqlToken) []string {
	var refs []string
	expect := true // an operand comes next
	depth := 0
	var casts []int // depths of the open CAST( parentheses
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		next := func(p string) bool { return i+1 < len(toks) && toks[i+1].punct(p) }
		afterDot := i > 0 && toks[i-1].punct(".")
		switch t.kind {
		case tkPunct:
			switch t.text {
			case "(":
				depth++
				expect = true
			case ")":
				if n := len(casts); n > 0 && casts[n-1] == depth {
					casts = casts[:n-1]
				}
				depth--
				expect = false
			case ".":
				// the name after it is handled with afterDot
			default:
				expect = true
			}
			continue
		case tkString, tkBlob, tkNumber:
			expect = false
			continue
		}
		// a word or a quoted identifier
		if next(".") {
			continue // a schema or table qualifier
		}
		if afterDot {
			n, _ := t.name()
			refs = append(refs, n)
			expect = false
			continue
		}
		if i > 0 && toks[i-1].is("COLLATE") {
			expect = false
			continue
		}
		if t.kind == tkQuoted {
			if next("(") {
				continue // a function
			}
			refs = append(refs, t.ident())
			expect = false
			continue
		}
		if n := len(casts); n > 0 && casts[n-1] == depth && t.is("AS") {
			// skip the type name, up to the CAST's ")"
			for i+1 < len(toks) && !(toks[i+1].punct(")") && depth == casts[n-1]) {
				i++
				if toks[i].punct("(") {
					depth++
				} else if toks[i].punct(")") {
					depth--
				}
			}
			continue
		}
		if next("(") {
			if t.is("CAST") {
				casts = append(casts, depth+1)
			}
			continue // a function, or CAST, EXISTS, IN, ...
		}
		up := upperASCII(t.text)
		switch {
		case !isKeyword(up) && !identKeywords[up]:
			// an identifier (TRUE and FALSE too: a column so named wins)
			refs = append(refs, t.text)
			expect = false
		case identKeywords[up] && expect:
			switch up {
			case "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP":
				// a value, not a column
			default:
				refs = append(refs, t.text)
			}
			expect = false
		case up == "NOT":
			// NOT before LIKE, IN, BETWEEN, NULL... is part of the operator
		case up == "NULL" || up == "ISNULL" || up == "NOTNULL" || up == "ASC" || up == "DESC" || up == "END":
			expect = false
		default:
			expect = true
		}
	}
	return refs
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if foldEq(x, s) {
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
			if !foldEq(nx, ny) {
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

// unqualify removes the qualifiers that name the table itself from the
// column references in body, a table definition: CHECK (t.b > 0) and
// main.t.b become b, which means the same inside the table and still
// compiles while the new table has a scratch name.
func unqualify(body, table string) string {
	toks, err := sqlTokens(body)
	if err != nil {
		return body
	}
	var b strings.Builder
	last := 0
	isName := func(t sqlToken) bool { return t.kind == tkWord || t.kind == tkQuoted }
	for i := 0; i+2 < len(toks); i++ {
		t := toks[i]
		if !isName(t) || !toks[i+1].punct(".") || !isName(toks[i+2]) || !foldEq(t.ident(), table) {
			continue
		}
		if i+3 < len(toks) && toks[i+3].punct(".") {
			continue // t is a schema name here
		}
		start := t.pos
		if i >= 2 && toks[i-1].punct(".") && isName(toks[i-2]) {
			start = toks[i-2].pos
		} else if i >= 1 && toks[i-1].punct(".") {
			continue
		}
		b.WriteString(body[last:start])
		last = int(toks[i+1].end)
	}
	if last == 0 {
		return body
	}
	b.WriteString(body[last:])
	return b.String()
}

// inMain qualifies the name of the object a CREATE INDEX or CREATE TRIGGER
// (kind) creates with the schema main, unless it is qualified already.
func inMain(stmt, kind string) string {
	toks, err := sqlTokens(stmt)
	if err != nil {
		return stmt
	}
	for i, t := range toks {
		if !t.is(kind) {
			continue
		}
		i++
		if i+2 < len(toks) && toks[i].is("IF") && toks[i+1].is("NOT") && toks[i+2].is("EXISTS") {
			i += 3
		}
		if i >= len(toks) || i+1 < len(toks) && toks[i+1].punct(".") {
			return stmt
		}
		return stmt[:toks[i].pos] + "main." + stmt[toks[i].pos:]
	}
	return stmt
}

// triggerOnMain qualifies the table of a CREATE TRIGGER with the schema
// main, unless it is qualified already.
func triggerOnMain(stmt string) string {
	toks, err := sqlTokens(stmt)
	if err != nil {
		return stmt
	}
	event := false
	for i, t := range toks {
		switch {
		case t.is("INSERT") || t.is("DELETE") || t.is("UPDATE"):
			event = true
		case t.is("ON") && event:
			if i+1 >= len(toks) || i+2 < len(toks) && toks[i+2].punct(".") {
				return stmt
			}
			return stmt[:toks[i+1].pos] + "main." + stmt[toks[i+1].pos:]
		}
	}
	return stmt
}
