package schema

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Op says what happened to an object between two schemas.
type Op string

// Ops of a [Change].
const (
	Added   Op = "added"
	Removed Op = "removed"
	Changed Op = "changed"
)

// Kinds of object a [Change] names, besides the kinds of [Object].
const (
	KindTable      = "table"
	KindColumn     = "column"
	KindPrimaryKey = "primary key"
	KindIndex      = "index"
	KindUnique     = "unique"
	KindForeignKey = "foreign key"
	KindCheck      = "check"
	KindView       = "view"
	KindTrigger    = "trigger"
)

// Change is one difference between two schemas: an object added, removed or
// changed.
type Change struct {
	Op Op
	// Kind is the kind of object: one of the Kind constants, or an
	// [Object]'s kind.
	Kind string
	// Table is the table the object belongs to: empty for tables, views
	// and objects.
	Table string
	// Name is the object's name; empty for a constraint without one, which
	// Definition then identifies.
	Name string
	// Definition is the definition of the object added or removed, or of
	// the changed object in the newer schema, in SQL-like form.
	Definition string
	// Fields are what changed, for Op Changed.
	Fields []Field
}

// Field is one property of an object that differs between two schemas.
// Empty values are shown as "(none)".
type Field struct {
	Name     string
	Old, New string
}

// Object names the object the change concerns: "table users", "column
// users.email", "index users_email_idx on users", "check (price > 0) on
// items".
func (c Change) Object() string {
	switch {
	case c.Kind == KindColumn:
		return "column " + ident(c.Table) + "." + ident(c.Name)
	case c.Table == "":
		return c.Kind + " " + ident(c.Name)
	case c.Name != "":
		return c.Kind + " " + ident(c.Name) + " on " + ident(c.Table)
	case c.Kind == KindPrimaryKey:
		return c.Kind + " on " + ident(c.Table)
	default:
		return c.Kind + " " + c.Definition + " on " + ident(c.Table)
	}
}

// String returns the change on one line, or more for long values: "+ index
// i on t: (a, b)", "- column t.c: text NOT NULL", "~ column t.c: default:
// 0 → 1; type: integer → bigint".
func (c Change) String() string {
	obj := c.Object()
	switch c.Op {
	case Added, Removed:
		sign := "+ "
		if c.Op == Removed {
			sign = "- "
		}
		if c.Definition == "" || c.Name == "" && c.Kind != KindPrimaryKey && c.Table != "" && c.Kind != KindColumn {
			return sign + obj
		}
		return sign + obj + ": " + oneLine(c.Definition)
	default:
		var b strings.Builder
		b.WriteString("~ " + obj + ":")
		for i, f := range c.Fields {
			if long(f.Old) || long(f.New) {
				fmt.Fprintf(&b, "\n    %s:\n      - %s\n      + %s", f.Name, indent(show(f.Old)), indent(show(f.New)))
				continue
			}
			if i > 0 {
				b.WriteString(";")
			}
			fmt.Fprintf(&b, " %s: %s → %s", f.Name, show(f.Old), show(f.New))
		}
		return b.String()
	}
}

func show(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func long(v string) bool { return len(v) > 60 || strings.Contains(v, "\n") }

func indent(v string) string { return strings.ReplaceAll(v, "\n", "\n        ") }

func oneLine(v string) string { return strings.Join(strings.Fields(v), " ") }

var plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// ident shows a name bare when it is a plain identifier and quoted
// otherwise, so that odd names cannot be misread.
func ident(name string) string {
	if plainIdent.MatchString(name) {
		return name
	}
	return strconv.Quote(name)
}

// Diff is the difference between two schemas, as [Compare] returns it.
type Diff struct {
	// Changes are in the order of the objects' names, tables first, the
	// changes of each table together.
	Changes []Change
}

// Empty reports whether the schemas compared equal.
func (d Diff) Empty() bool { return len(d.Changes) == 0 }

// String returns the changes one per line (long values take more),
// prefixed "+" for what the newer schema added, "-" for what it removed
// and "~" for what it changed; "no changes" when there are none.
func (d Diff) String() string {
	if d.Empty() {
		return "no changes"
	}
	lines := make([]string, len(d.Changes))
	for i, c := range d.Changes {
		lines[i] = c.String()
	}
	return strings.Join(lines, "\n")
}

// CompareOption changes what [Compare] looks at.
type CompareOption func(*compareConfig)

type compareConfig struct {
	ignoreColumnOrder bool
}

// IgnoreColumnOrder makes [Compare] overlook the order of the columns of a
// table. By default a different order of the columns two tables share is a
// change of the table, because it is observable: a Down that drops a
// column and adds it back, which puts it last, does not restore the table.
func IgnoreColumnOrder() CompareOption {
	return func(c *compareConfig) { c.ignoreColumnOrder = true }
}

// Compare returns what changed from the schema from to the schema to. Objects are matched by
// name (tables, columns, indexes, views, triggers by table and name,
// named constraints) or, for constraints without one, by definition, so a
// changed unnamed constraint shows as one removed and one added. A nil
// Schema is an empty one. Neither schema need be normalised.
func Compare(from, to *Schema, opts ...CompareOption) Diff {
	var cfg compareConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if from == nil {
		from = &Schema{}
	}
	if to == nil {
		to = &Schema{}
	}
	var d diff
	d.cfg = cfg
	pair(from.Tables, to.Tables, func(t *Table) string { return t.Name }, func(o, n *Table) {
		switch {
		case o == nil:
			d.add(Change{Op: Added, Kind: KindTable, Name: n.Name, Definition: columnNames(n)})
		case n == nil:
			d.add(Change{Op: Removed, Kind: KindTable, Name: o.Name, Definition: columnNames(o)})
		default:
			d.table(o, n)
		}
	})
	pair(from.Views, to.Views, func(v *View) string { return v.Name }, func(o, n *View) {
		object(&d, KindView, "", o, n, func(v *View) string { return v.Name }, viewString, func(o, n *View) []Field {
			return fields(
				field("materialized", flag(o.Materialized, "materialized", "not materialized"), flag(n.Materialized, "materialized", "not materialized")),
				field("definition", o.Definition, n.Definition))
		})
	})
	pair(from.Triggers, to.Triggers, func(t *Trigger) string { return t.Table + "\x00" + t.Name }, func(o, n *Trigger) {
		table := cmp.Or(o, n).Table
		object(&d, KindTrigger, table, o, n, func(t *Trigger) string { return t.Name }, func(t *Trigger) string { return t.Definition }, func(o, n *Trigger) []Field {
			return fields(field("definition", o.Definition, n.Definition))
		})
	})
	pair(from.Objects, to.Objects, func(o *Object) string { return o.Kind + "\x00" + o.Name }, func(o, n *Object) {
		kind := cmp.Or(o, n).Kind
		object(&d, kind, "", o, n, func(o *Object) string { return o.Name }, func(o *Object) string { return o.Definition }, func(o, n *Object) []Field {
			return fields(field("definition", o.Definition, n.Definition))
		})
	})
	return Diff{Changes: d.changes}
}

type diff struct {
	cfg     compareConfig
	changes []Change
}

func (d *diff) add(c Change) { d.changes = append(d.changes, c) }

// object records the change, if any, of one object matched in two schemas:
// o or n is nil when it is only in one of them.
func object[T any](d *diff, kind, table string, o, n *T, name func(*T) string, def func(*T) string, changed func(o, n *T) []Field) {
	switch {
	case o == nil:
		d.add(Change{Op: Added, Kind: kind, Table: table, Name: name(n), Definition: def(n)})
	case n == nil:
		d.add(Change{Op: Removed, Kind: kind, Table: table, Name: name(o), Definition: def(o)})
	default:
		if fs := changed(o, n); len(fs) > 0 {
			d.add(Change{Op: Changed, Kind: kind, Table: table, Name: name(n), Definition: def(n), Fields: fs})
		}
	}
}

func (d *diff) table(o, n *Table) {
	t := n.Name
	var tf []Field
	tf = append(tf, field("options", strings.Join(o.Options, ", "), strings.Join(n.Options, ", ")))
	tf = append(tf, field("comment", o.Comment, n.Comment))
	if !d.cfg.ignoreColumnOrder {
		if oo, no := sharedOrder(o, n), sharedOrder(n, o); !slices.Equal(oo, no) {
			tf = append(tf, Field{Name: "column order", Old: "(" + list(oo) + ")", New: "(" + list(no) + ")"})
		}
	}
	if fs := fields(tf...); len(fs) > 0 {
		d.add(Change{Op: Changed, Kind: KindTable, Name: t, Definition: columnNames(n), Fields: fs})
	}

	// Columns in the old table's order, then those the new one added.
	cols := func(c *Column) string { return c.Name }
	oc, nc := keyed(o.Columns, cols), keyed(n.Columns, cols)
	for _, c := range o.Columns {
		object(d, KindColumn, t, c, nc[c.Name], cols, (*Column).String, columnFields)
	}
	for _, c := range n.Columns {
		if oc[c.Name] == nil {
			object(d, KindColumn, t, nil, c, cols, (*Column).String, columnFields)
		}
	}

	switch {
	case o.PrimaryKey == nil && n.PrimaryKey == nil:
	default:
		object(d, KindPrimaryKey, t, o.PrimaryKey, n.PrimaryKey, func(p *PrimaryKey) string { return p.Name }, (*PrimaryKey).String, func(o, n *PrimaryKey) []Field {
			return fields(field("name", o.Name, n.Name), field("columns", o.String(), n.String()))
		})
	}
	pair(o.Indexes, n.Indexes, indexKey, func(o, n *Index) {
		object(d, KindIndex, t, o, n, func(i *Index) string { return i.Name }, (*Index).String, func(o, n *Index) []Field {
			return fields(
				field("unique", flag(o.Unique, "unique", "not unique"), flag(n.Unique, "unique", "not unique")),
				field("method", o.Method, n.Method),
				field("parts", o.partsString(), n.partsString()),
				field("include", list(o.Include), list(n.Include)),
				field("where", o.Where, n.Where))
		})
	})
	pair(o.Uniques, n.Uniques, uniqueKey, func(o, n *Unique) {
		object(d, KindUnique, t, o, n, func(u *Unique) string { return u.Name }, (*Unique).String, func(o, n *Unique) []Field {
			return fields(field("columns", o.String(), n.String()))
		})
	})
	pair(o.ForeignKeys, n.ForeignKeys, foreignKeyKey, func(o, n *ForeignKey) {
		object(d, KindForeignKey, t, o, n, func(f *ForeignKey) string { return f.Name }, (*ForeignKey).String, func(o, n *ForeignKey) []Field {
			return fields(
				field("columns", "("+list(o.Columns)+")", "("+list(n.Columns)+")"),
				field("references", o.references(), n.references()),
				field("on update", o.OnUpdate, n.OnUpdate),
				field("on delete", o.OnDelete, n.OnDelete),
				field("deferrable", o.Deferrable, n.Deferrable))
		})
	})
	pair(o.Checks, n.Checks, checkKey, func(o, n *Check) {
		object(d, KindCheck, t, o, n, func(c *Check) string { return c.Name }, func(c *Check) string { return c.Expr }, func(o, n *Check) []Field {
			return fields(field("expression", o.Expr, n.Expr))
		})
	})
}

func columnFields(o, n *Column) []Field {
	return fields(
		field("type", o.Type, n.Type),
		field("nullable", flag(o.Nullable, "NULL", "NOT NULL"), flag(n.Nullable, "NULL", "NOT NULL")),
		field("default", o.Default, n.Default),
		field("collation", o.Collation, n.Collation),
		field("generated", generated(o), generated(n)),
		field("identity", o.Identity, n.Identity),
		field("on update", o.OnUpdate, n.OnUpdate),
		field("comment", o.Comment, n.Comment))
}

func generated(c *Column) string {
	switch {
	case c.Generated == "":
		return ""
	case c.Stored:
		return c.Generated + " STORED"
	default:
		return c.Generated + " VIRTUAL"
	}
}

func viewString(v *View) string {
	if v.Materialized {
		return "MATERIALIZED " + v.Definition
	}
	return v.Definition
}

func columnNames(t *Table) string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = ident(c.Name)
	}
	return "(" + list(names) + ")"
}

// sharedOrder returns the names of a's columns that b has too, in a's
// order.
func sharedOrder(a, b *Table) []string {
	var names []string
	for _, c := range a.Columns {
		if b.Column(c.Name) != nil {
			names = append(names, c.Name)
		}
	}
	return names
}

func flag(v bool, yes, no string) string {
	if v {
		return yes
	}
	return no
}

func field(name, o, n string) Field { return Field{Name: name, Old: o, New: n} }

// fields returns those of fs whose values differ.
func fields(fs ...Field) []Field {
	return slices.DeleteFunc(fs, func(f Field) bool { return f.Old == f.New })
}

// keyed indexes s by key. A key seen again is made unique with a counter,
// so that duplicates (two identical unnamed constraints) pair up in order.
func keyed[T any](s []*T, key func(*T) string) map[string]*T {
	m := make(map[string]*T, len(s))
	for _, v := range s {
		if v == nil {
			continue
		}
		k := key(v)
		for i := 2; m[k] != nil; i++ {
			k = key(v) + "\x00#" + strconv.Itoa(i)
		}
		m[k] = v
	}
	return m
}

// pair calls f for every key of a and b, in key order, with the values of
// that key in a and b (nil where missing).
func pair[T any](a, b []*T, key func(*T) string, f func(o, n *T)) {
	am, bm := keyed(a, key), keyed(b, key)
	keys := make([]string, 0, len(am)+len(bm))
	for k := range am {
		keys = append(keys, k)
	}
	for k := range bm {
		if am[k] == nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		f(am[k], bm[k])
	}
}
