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
	d, err := parseIndex(toks)
	if err != nil {
		return nil, err
	}
	return d.tail, nil
}

// mentions returns the names among names (compared case-insensitively)
// that toks refers to as column names: quoted identifiers, and bare words
// that are not keywords, TRUE or FALSE, function names or collation names.
func mentions(toks []sqlToken, names []string) []string {
	var found []string
	for i, t := range toks {
		if t.kind != tkWord && t.kind != tkQuoted {
			continue
		}
		if t.kind == tkWord && (isKeyword(t.text) || t.is("TRUE") || t.is("FALSE")) {
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
