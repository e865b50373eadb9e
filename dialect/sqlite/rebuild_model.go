package sqlite

import (
	"errors"
	"fmt"
	"strings"

	"github.com/strata-go/strata/dialect"
)

// tableModel is a table definition being edited by a list of changes.
type tableModel struct {
	table    string    // the table's stored name
	old      *tableDef // the definition before the changes
	def      *tableDef // the definition being edited
	dropped  []*colDef // columns of the old table that are removed
	deps     []error   // objects that block the removal of a column
	removals int       // how many changes were RemoveColumn
}

// newModel parses sql, the table's CREATE TABLE, and applies changes to it.
// work, if not nil, gives the names the changes know the columns by, when
// they differ from those in sql (after the columns were renamed).
func newModel(table, sql string, work []string, changes []Change) (*tableModel, error) {
	def, err := parseCreateTable(sql)
	if err != nil {
		return nil, fmt.Errorf("parse CREATE TABLE: %w", err)
	}
	old, _ := parseCreateTable(sql)
	m := &tableModel{table: table, old: old, def: def}
	if work != nil {
		cols := def.columns()
		if len(cols) != len(work) {
			return nil, fmt.Errorf("table has %d columns after renaming them, want %d", len(cols), len(work))
		}
		for i, c := range cols {
			c.work = work[i]
		}
	}
	for i, ch := range changes {
		if ch == nil {
			return nil, fmt.Errorf("change %d is nil", i+1)
		}
		if err := ch.apply(m); err != nil {
			return nil, fmt.Errorf("change %d: %w", i+1, err)
		}
	}
	if len(m.deps) > 0 {
		return nil, errors.Join(m.deps...)
	}
	return m, nil
}

func (m *tableModel) column(name string) (*colDef, error) {
	for _, c := range m.def.columns() {
		if foldEq(c.work, name) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no column %q", name)
}

func (m *tableModel) elemOf(c *colDef) *defElem {
	for _, e := range m.def.elems {
		if e.col == c {
			return e
		}
	}
	return nil
}

func (m *tableModel) removeElem(e *defElem) {
	for i, x := range m.def.elems {
		if x == e {
			if i == 0 && len(m.def.elems) > 1 {
				m.def.elems[1].lead = e.lead
			}
			m.def.elems = append(m.def.elems[:i:i], m.def.elems[i+1:]...)
			return
		}
	}
}

// droppedNames returns the names the removed columns have in the old table.
func (m *tableModel) droppedNames() []string {
	var names []string
	for _, c := range m.dropped {
		names = append(names, c.name)
	}
	return names
}

func (m *tableModel) isSelf(parent string) bool { return foldEq(parent, m.table) }

func (m *tableModel) removeColumn(name string) error {
	m.removals++
	c, err := m.column(name)
	if err != nil {
		return err
	}
	if len(m.def.columns()) == 1 {
		return fmt.Errorf("cannot remove column %q: it is the table's only column", name)
	}
	if m.def.withoutRowid && containsFold(m.def.primaryKey(), c.name) {
		return fmt.Errorf("cannot remove column %q: it is part of the primary key of a WITHOUT ROWID table", name)
	}
	m.removeElem(m.elemOf(c))
	if c.orig >= 0 {
		m.dropped = append(m.dropped, c)
	}
	m.dropInvolving(c.name)
	return nil
}

// dropInvolving drops the constraints of other columns and the table
// constraints that involve column n, and records generated columns that
// use it.
func (m *tableModel) dropInvolving(n string) {
	names := []string{n}
	for _, e := range m.def.elems {
		var kept []*consDef
		cons := e.constraints()
		for _, k := range cons {
			drop := false
			switch k.kind {
			case kCheck:
				drop = len(mentions(k.expr, names)) > 0
			case kReferences:
				drop = m.isSelf(k.parent) && containsFold(k.parentCols, n)
			case kGenerated:
				if len(mentions(k.expr, names)) > 0 {
					m.deps = append(m.deps, &DependencyError{Table: m.table, Column: n, Kind: "generated column", Name: e.col.name})
				}
			case kPrimaryKey, kUnique:
				drop = containsFold(k.cols, n)
			case kForeignKey:
				drop = containsFold(k.cols, n) || m.isSelf(k.parent) && containsFold(k.parentCols, n)
			}
			if !drop {
				kept = append(kept, k)
			}
		}
		if len(kept) != len(cons) {
			m.keepConstraints(e, kept)
		}
	}
}

func (m *tableModel) renameColumn(from, to string) error {
	if to == "" {
		return fmt.Errorf("rename column %q: empty new name", from)
	}
	c, err := m.column(from)
	if err != nil {
		return err
	}
	if o, _ := m.column(to); o != nil && o != c {
		return fmt.Errorf("rename column %q to %q: column %q already exists", from, to, to)
	}
	c.work = to
	if c.orig < 0 {
		c.name, c.nameText = to, dialect.QuoteDouble(to)
		m.elemOf(c).dirty = true
	}
	return nil
}

// lastLead returns the white space that precedes the last element, to
// indent a new one the same way.
func (m *tableModel) lastLead(wantColumn bool) string {
	lead := " "
	for _, e := range m.def.elems {
		if e.col != nil || !wantColumn {
			lead = e.lead
		}
	}
	if strings.TrimSpace(lead) != "" || lead == "" {
		return " "
	}
	return lead
}

func (m *tableModel) addColumn(def string) error {
	toks, err := sqlTokens(def)
	if err != nil {
		return fmt.Errorf("add column: %w", err)
	}
	if len(toks) == 0 || isTableConstraintStart(toks[0]) || len(splitTop(toks)) != 1 || hasPunct(toks, ";") {
		return fmt.Errorf("add column: %q is not one column definition", def)
	}
	c, err := parseColumn(toks, def)
	if err != nil {
		return fmt.Errorf("add column: %w", err)
	}
	if o, _ := m.column(c.name); o != nil {
		return fmt.Errorf("add column %q: column already exists", c.name)
	}
	c.orig, c.work, c.from = -1, c.name, ""
	e := &defElem{lead: m.lastLead(true), text: def[toks[0].pos:toks[len(toks)-1].end], col: c}
	at := 0
	for i, x := range m.def.elems {
		if x.col != nil {
			at = i + 1
		}
	}
	m.def.elems = append(m.def.elems[:at], append([]*defElem{e}, m.def.elems[at:]...)...)
	return nil
}

func hasPunct(toks []sqlToken, p string) bool {
	for _, t := range toks {
		if t.punct(p) {
			return true
		}
	}
	return false
}

// checkFragment checks that s is a piece of SQL that cannot break out of
// the place it is put in: balanced parentheses, no statement separator.
func checkFragment(s string, commas bool) ([]sqlToken, error) {
	toks, err := sqlTokens(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errors.New("empty")
	}
	depth := 0
	for _, t := range toks {
		switch {
		case t.punct("("):
			depth++
		case t.punct(")"):
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("%q has an unbalanced )", s)
			}
		case t.punct(";"):
			return nil, fmt.Errorf("%q contains ;", s)
		case t.punct(",") && depth == 0 && !commas:
			return nil, fmt.Errorf("%q contains a comma outside parentheses", s)
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("%q has an unbalanced (", s)
	}
	return toks, nil
}

func (m *tableModel) setType(c *colDef, typ string) error {
	if strings.TrimSpace(typ) == "" {
		c.typ = ""
		m.elemOf(c).dirty = true
		return nil
	}
	toks, err := checkFragment(typ, false)
	if err != nil {
		return fmt.Errorf("type: %w", err)
	}
	for _, t := range toks {
		if isColumnConstraintStart(t) {
			return fmt.Errorf("type %q contains %s", typ, t.text)
		}
	}
	c.typ = typ[toks[0].pos:toks[len(toks)-1].end]
	m.elemOf(c).dirty = true
	return nil
}

func (m *tableModel) setNotNull(c *colDef) error {
	if c.has(kNotNull) == nil {
		c.cons = append(c.cons, &consDef{kind: kNotNull, text: "NOT NULL"})
		m.elemOf(c).dirty = true
	}
	return nil
}

func (m *tableModel) dropKind(c *colDef, kind string) {
	var kept []*consDef
	for _, k := range c.cons {
		if k.kind != kind {
			kept = append(kept, k)
		}
	}
	if len(kept) != len(c.cons) {
		c.cons = kept
		m.elemOf(c).dirty = true
	}
}

func (m *tableModel) setDefault(c *colDef, expr string) error {
	toks, err := checkFragment(expr, false)
	if err != nil {
		return fmt.Errorf("default: %w", err)
	}
	v := expr[toks[0].pos:toks[len(toks)-1].end]
	literal := len(toks) == 1 && (toks[0].kind != tkWord && toks[0].kind != tkPunct ||
		toks[0].is("NULL") || toks[0].is("TRUE") || toks[0].is("FALSE") ||
		toks[0].is("CURRENT_TIME") || toks[0].is("CURRENT_DATE") || toks[0].is("CURRENT_TIMESTAMP"))
	signed := len(toks) == 2 && (toks[0].punct("-") || toks[0].punct("+")) && toks[1].kind == tkNumber
	if end, err := closeParen(toks, 0); !literal && !signed && !(toks[0].punct("(") && err == nil && end == len(toks)) {
		v = "(" + v + ")"
	}
	k := &consDef{kind: kDefault, text: "DEFAULT " + v}
	var cons []*consDef
	done := false
	for _, old := range c.cons {
		if old.kind != kDefault {
			cons = append(cons, old)
		} else if !done {
			cons, done = append(cons, k), true
		}
	}
	if !done {
		cons = append(cons, k)
	}
	c.cons = cons
	m.elemOf(c).dirty = true
	return nil
}

func (m *tableModel) using(c *colDef, expr string) error {
	if c.generated() {
		return fmt.Errorf("using: column %q is generated, its values are computed", c.work)
	}
	toks, err := checkFragment(expr, false)
	if err != nil {
		return fmt.Errorf("using: %w", err)
	}
	c.from = "(" + expr[toks[0].pos:toks[len(toks)-1].end] + ")"
	return nil
}

func (m *tableModel) addConstraint(def string) error {
	toks, err := checkFragment(def, true)
	if err != nil {
		return fmt.Errorf("add constraint: %w", err)
	}
	if !isTableConstraintStart(toks[0]) || len(splitTop(toks)) != 1 {
		return fmt.Errorf("add constraint: %q is not one table constraint", def)
	}
	cons, err := parseConstraints(toks, def, false)
	if err != nil {
		return fmt.Errorf("add constraint %q: %w", def, err)
	}
	m.def.elems = append(m.def.elems, &defElem{lead: m.lastLead(false), text: def[toks[0].pos:toks[len(toks)-1].end], cons: cons})
	return nil
}

// dropWhere removes the constraints for which match is true and reports
// how many it removed.
func (m *tableModel) dropWhere(match func(c *colDef, k *consDef) bool) int {
	n := 0
	for _, e := range append([]*defElem(nil), m.def.elems...) {
		cons := e.constraints()
		var kept []*consDef
		for _, k := range cons {
			if match(e.col, k) {
				n++
				continue
			}
			kept = append(kept, k)
		}
		if len(kept) != len(cons) {
			m.keepConstraints(e, kept)
		}
	}
	return n
}

// keepConstraints replaces e's constraints, some of which were dropped,
// with kept, and removes e if it held table constraints and none is left.
func (m *tableModel) keepConstraints(e *defElem, kept []*consDef) {
	e.dirty = true
	if e.col != nil {
		e.col.cons = kept
	} else if e.cons = kept; len(kept) == 0 {
		m.removeElem(e)
	}
}

func (m *tableModel) dropConstraint(name string) error {
	if m.dropWhere(func(_ *colDef, k *consDef) bool { return k.name != "" && foldEq(k.name, name) }) == 0 {
		return fmt.Errorf("drop constraint: no constraint named %q", name)
	}
	return nil
}

func (m *tableModel) dropByColumns(kind string, cols []string) error {
	what := map[string]string{kUnique: "UNIQUE constraint", kForeignKey: "foreign key"}[kind]
	if len(cols) == 0 {
		return fmt.Errorf("drop %s: no columns given", what)
	}
	var names []string
	for _, n := range cols {
		c, err := m.column(n)
		if err != nil {
			return fmt.Errorf("drop %s: %w", what, err)
		}
		names = append(names, c.name)
	}
	sameSet := func(a []string) bool {
		if len(a) != len(names) {
			return false
		}
		for _, x := range a {
			if !containsFold(names, x) {
				return false
			}
		}
		return true
	}
	colKind := map[string]string{kUnique: kUnique, kForeignKey: kReferences}[kind]
	n := m.dropWhere(func(c *colDef, k *consDef) bool {
		if c != nil {
			return k.kind == colKind && len(names) == 1 && foldEq(c.name, names[0])
		}
		return k.kind == kind && sameSet(k.cols)
	})
	if n == 0 {
		return fmt.Errorf("drop %s: none on (%s)", what, strings.Join(cols, ", "))
	}
	return nil
}

func (m *tableModel) dropCheck(expr string) error {
	toks, err := checkFragment(expr, true)
	if err != nil {
		return fmt.Errorf("drop check: %w", err)
	}
	inner := toks
	if end, err := closeParen(toks, 0); toks[0].punct("(") && err == nil && end == len(toks) {
		inner = toks[1 : len(toks)-1]
	}
	n := m.dropWhere(func(_ *colDef, k *consDef) bool {
		return k.kind == kCheck && (sameTokens(k.expr, toks) || sameTokens(k.expr, inner))
	})
	if n == 0 {
		return fmt.Errorf("drop check: no CHECK (%s)", expr)
	}
	return nil
}

func (m *tableModel) redefine(definition string) error {
	toks, err := sqlTokens(definition)
	if err != nil {
		return fmt.Errorf("redefine: %w", err)
	}
	if len(toks) == 0 || !toks[0].punct("(") || hasPunct(toks, ";") {
		return errors.New("redefine: the definition must start with ( and hold one statement's column list")
	}
	def, err := parseCreateTable("CREATE TABLE " + dialect.QuoteDouble(m.table) + " " + definition)
	if err != nil {
		return fmt.Errorf("redefine: %w", err)
	}
	used := map[*colDef]bool{}
	for _, nc := range def.columns() {
		nc.orig, nc.work, nc.from = -1, nc.name, ""
		if oc, _ := m.column(nc.name); oc != nil {
			if used[oc] {
				return fmt.Errorf("redefine: column %q appears twice", nc.name)
			}
			used[oc] = true
			nc.orig, nc.from = oc.orig, oc.from
		}
	}
	var dropped []string
	for _, oc := range m.def.columns() {
		if !used[oc] && oc.orig >= 0 {
			m.dropped = append(m.dropped, oc)
			dropped = append(dropped, oc.name)
		}
	}
	for _, nc := range def.columns() {
		if g := nc.has(kGenerated); g != nil {
			for _, d := range mentions(g.expr, dropped) {
				m.deps = append(m.deps, &DependencyError{Table: m.table, Column: d, Kind: "generated column", Name: nc.name})
			}
		}
	}
	m.def = def
	return nil
}
