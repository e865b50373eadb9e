package schema

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Schema is the normalised description of one database schema: what a
// migration can create, alter or drop. Two databases built by the same DDL
// describe as equal Schemas; [Compare] tells how two Schemas differ.
//
// Everything is sorted by name except the columns of a table, which keep
// their order in the table: column order is observable (SELECT *, INSERT
// without a column list), so it is part of the schema. [Normalize] restores
// the order after a Schema is built or edited by hand.
type Schema struct {
	Tables   []*Table   `json:"tables,omitempty"`
	Views    []*View    `json:"views,omitempty"`
	Triggers []*Trigger `json:"triggers,omitempty"`
	// Objects are the objects of kinds the model has no type of its own
	// for: functions, procedures, sequences, enum types, domains,
	// extensions.
	Objects []*Object `json:"objects,omitempty"`
}

// Table is a base table with its columns and constraints.
type Table struct {
	Name string `json:"name"`
	// Columns are in table order.
	Columns    []*Column   `json:"columns,omitempty"`
	PrimaryKey *PrimaryKey `json:"primary_key,omitempty"`
	// Indexes are the indexes that no constraint implies: the index of a
	// PRIMARY KEY or UNIQUE constraint is described by the constraint.
	Indexes     []*Index      `json:"indexes,omitempty"`
	ForeignKeys []*ForeignKey `json:"foreign_keys,omitempty"`
	Checks      []*Check      `json:"checks,omitempty"`
	Uniques     []*Unique     `json:"uniques,omitempty"`
	// Options are what the database records about the table as a whole,
	// one per entry, such as "WITHOUT ROWID" and "STRICT" (SQLite),
	// "ENGINE=InnoDB" (MySQL) or "PARTITION BY RANGE (day)" (PostgreSQL).
	Options []string `json:"options,omitempty"`
	Comment string   `json:"comment,omitempty"`
}

// Column is one column of a table.
type Column struct {
	Name string `json:"name"`
	// Type is the type as the database reports it: its canonical spelling
	// where it has one (PostgreSQL, MySQL), the declared type in upper
	// case on SQLite.
	Type     string `json:"type"`
	Nullable bool   `json:"nullable,omitempty"`
	// Default is the default expression as the database reports it, or
	// empty for none (a DEFAULT NULL of a nullable column is none).
	Default string `json:"default,omitempty"`
	// Collation is the column's collation where the database records one
	// for it: always for string columns on MySQL, only where it differs
	// from the type's on PostgreSQL, only where declared on SQLite.
	Collation string `json:"collation,omitempty"`
	// Generated is the expression of a generated column, and Stored tells
	// a stored one from a virtual one.
	Generated string `json:"generated,omitempty"`
	Stored    bool   `json:"stored,omitempty"`
	// Identity says how the database numbers the column by itself:
	// "ALWAYS" or "BY DEFAULT" (a PostgreSQL identity column),
	// "AUTO_INCREMENT" (MySQL), "AUTOINCREMENT" (SQLite).
	Identity string `json:"identity,omitempty"`
	// OnUpdate is the expression MySQL sets the column to on every update
	// (ON UPDATE CURRENT_TIMESTAMP).
	OnUpdate string `json:"on_update,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// PrimaryKey is a table's primary key.
type PrimaryKey struct {
	// Name is the constraint's name; empty where the database gives none
	// (SQLite without CONSTRAINT, MySQL, whose primary key is always
	// PRIMARY).
	Name    string   `json:"name,omitempty"`
	Columns []string `json:"columns"`
}

// Index is an index that no constraint implies.
type Index struct {
	Name   string      `json:"name"`
	Parts  []IndexPart `json:"parts"`
	Unique bool        `json:"unique,omitempty"`
	// Where is the predicate of a partial index.
	Where string `json:"where,omitempty"`
	// Method is the index's access method or type where it is not the
	// default one: "gin", "hash" (PostgreSQL), "FULLTEXT" (MySQL).
	Method string `json:"method,omitempty"`
	// Include are the non-key columns of a covering index (PostgreSQL
	// INCLUDE).
	Include []string `json:"include,omitempty"`
}

// IndexPart is one key of an index: a column or an expression.
type IndexPart struct {
	Column string `json:"column,omitempty"`
	Expr   string `json:"expr,omitempty"`
	Desc   bool   `json:"desc,omitempty"`
	// Collation is the key's collation where it is not the default one.
	Collation string `json:"collation,omitempty"`
	// Length is the prefix length of a MySQL index on the first Length
	// characters of a column.
	Length int `json:"length,omitempty"`
}

// ForeignKey is a FOREIGN KEY constraint.
type ForeignKey struct {
	// Name is the constraint's name; empty where it has none (SQLite
	// without CONSTRAINT).
	Name    string   `json:"name,omitempty"`
	Columns []string `json:"columns"`
	// RefTable is the referenced table, qualified by its schema only when
	// it lives in another one.
	RefTable   string   `json:"ref_table"`
	RefColumns []string `json:"ref_columns,omitempty"`
	// OnUpdate and OnDelete are the referential actions in upper case, as
	// the database reports them ("NO ACTION", "CASCADE", ...).
	OnUpdate string `json:"on_update,omitempty"`
	OnDelete string `json:"on_delete,omitempty"`
	// Deferrable is "DEFERRABLE INITIALLY DEFERRED" or "DEFERRABLE
	// INITIALLY IMMEDIATE" for a deferrable constraint, empty otherwise.
	Deferrable string `json:"deferrable,omitempty"`
}

// Check is a CHECK constraint. On PostgreSQL an exclusion constraint is
// described as a Check whose Expr is its whole definition ("EXCLUDE USING
// ...").
type Check struct {
	// Name is the constraint's name; empty where it has none (SQLite
	// without CONSTRAINT).
	Name string `json:"name,omitempty"`
	Expr string `json:"expr"`
}

// Unique is a UNIQUE constraint. On MySQL, where a unique index and a
// unique constraint are the same thing, every unique key is a Unique.
type Unique struct {
	// Name is the constraint's name; empty where it has none (SQLite
	// without CONSTRAINT).
	Name    string   `json:"name,omitempty"`
	Columns []string `json:"columns"`
}

// View is a view, or a PostgreSQL materialized view.
type View struct {
	Name string `json:"name"`
	// Definition is the view's query as the database reports it, or on
	// SQLite its CREATE VIEW statement after the name, with white space
	// and comments normalised.
	Definition   string `json:"definition"`
	Materialized bool   `json:"materialized,omitempty"`
}

// Trigger is a trigger on a table or view.
type Trigger struct {
	Name  string `json:"name"`
	Table string `json:"table"`
	// Definition is the trigger's definition as the database reports it:
	// the whole CREATE TRIGGER statement (PostgreSQL), its timing, event
	// and body (MySQL), or its CREATE TRIGGER statement after the name
	// (SQLite).
	Definition string `json:"definition"`
}

// Object is a schema object of a kind the model has no type of its own for.
type Object struct {
	// Kind is the kind of object in lower case: "function",
	// "procedure", "sequence", "enum type", "domain", "extension".
	Kind string `json:"kind"`
	// Name is the object's name; for functions and procedures with their
	// argument types, as overloads differ only by them.
	Name       string `json:"name"`
	Definition string `json:"definition,omitempty"`
}

// Table returns the table called name, or nil.
func (s *Schema) Table(name string) *Table {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Column returns the column called name, or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Normalize sorts everything in s that has no order of its own, so that
// two descriptions of the same schema are equal value for value: tables,
// views, triggers and objects by name; the indexes and constraints of each
// table by name (unnamed constraints by definition). Columns, the columns
// of keys and the parts of indexes keep their order. Nil slices and empty
// ones are made the same.
func (s *Schema) Normalize() {
	s.Tables = compactNil(s.Tables)
	slices.SortFunc(s.Tables, func(a, b *Table) int { return cmp.Compare(a.Name, b.Name) })
	for _, t := range s.Tables {
		t.normalize()
	}
	s.Views = compactNil(s.Views)
	slices.SortFunc(s.Views, func(a, b *View) int { return cmp.Compare(a.Name, b.Name) })
	s.Triggers = compactNil(s.Triggers)
	slices.SortFunc(s.Triggers, func(a, b *Trigger) int {
		return cmp.Or(cmp.Compare(a.Table, b.Table), cmp.Compare(a.Name, b.Name))
	})
	s.Objects = compactNil(s.Objects)
	slices.SortFunc(s.Objects, func(a, b *Object) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
}

func (t *Table) normalize() {
	t.Columns = compactNil(t.Columns)
	t.Indexes = compactNil(t.Indexes)
	slices.SortFunc(t.Indexes, func(a, b *Index) int { return cmp.Compare(indexKey(a), indexKey(b)) })
	t.ForeignKeys = compactNil(t.ForeignKeys)
	slices.SortFunc(t.ForeignKeys, func(a, b *ForeignKey) int { return cmp.Compare(foreignKeyKey(a), foreignKeyKey(b)) })
	t.Checks = compactNil(t.Checks)
	slices.SortFunc(t.Checks, func(a, b *Check) int { return cmp.Compare(checkKey(a), checkKey(b)) })
	t.Uniques = compactNil(t.Uniques)
	slices.SortFunc(t.Uniques, func(a, b *Unique) int { return cmp.Compare(uniqueKey(a), uniqueKey(b)) })
	if len(t.Options) == 0 {
		t.Options = nil
	} else {
		slices.Sort(t.Options)
	}
}

// compactNil drops nil entries and turns an empty slice into nil.
func compactNil[T any](s []*T) []*T {
	s = slices.DeleteFunc(s, func(p *T) bool { return p == nil })
	if len(s) == 0 {
		return nil
	}
	return s
}

// The keys by which objects of a table are matched between two schemas:
// the name where there is one, else the definition.
func indexKey(i *Index) string { return i.Name }

func uniqueKey(u *Unique) string {
	if u.Name != "" {
		return u.Name
	}
	return "\x00" + u.String()
}

func checkKey(c *Check) string {
	if c.Name != "" {
		return c.Name
	}
	return "\x00" + c.Expr
}

func foreignKeyKey(f *ForeignKey) string {
	if f.Name != "" {
		return f.Name
	}
	return "\x00" + list(f.Columns) + " " + f.RefTable
}

// FingerprintPrefix starts every fingerprint [Schema.Fingerprint] returns.
// It names the version of the normalisation, so that a fingerprint taken by
// a later version that describes schemas differently is recognisably
// different.
const FingerprintPrefix = "v1:"

// Fingerprint returns a digest of s: FingerprintPrefix and the hex SHA-256
// of its JSON encoding, 67 characters in all. Normalised Schemas are equal
// if and only if their fingerprints are (barring SHA-256 collisions).
func (s *Schema) Fingerprint() string {
	b, err := json.Marshal(s)
	if err != nil {
		// A Schema holds only strings, bools, ints and slices of them:
		// encoding it cannot fail.
		return FingerprintPrefix + "unencodable"
	}
	sum := sha256.Sum256(b)
	return FingerprintPrefix + hex.EncodeToString(sum[:])
}

// String returns the column's definition after its name, in SQL-like
// form: "varchar(100) NOT NULL DEFAULT 'x'".
func (c *Column) String() string {
	var b strings.Builder
	b.WriteString(c.Type)
	if c.Collation != "" {
		b.WriteString(" COLLATE " + c.Collation)
	}
	if !c.Nullable {
		b.WriteString(" NOT NULL")
	}
	if c.Default != "" {
		b.WriteString(" DEFAULT " + c.Default)
	}
	if c.OnUpdate != "" {
		b.WriteString(" ON UPDATE " + c.OnUpdate)
	}
	if c.Generated != "" {
		kind := "VIRTUAL"
		if c.Stored {
			kind = "STORED"
		}
		b.WriteString(" GENERATED AS (" + c.Generated + ") " + kind)
	}
	switch c.Identity {
	case "":
	case "ALWAYS", "BY DEFAULT":
		b.WriteString(" GENERATED " + c.Identity + " AS IDENTITY")
	default:
		b.WriteString(" " + c.Identity)
	}
	if c.Comment != "" {
		b.WriteString(" COMMENT " + strconv.Quote(c.Comment))
	}
	return b.String()
}

// String returns "(a, b)".
func (p *PrimaryKey) String() string { return "(" + list(p.Columns) + ")" }

// String returns the part as in CREATE INDEX: "name", "(lower(email))",
// "name(10) DESC".
func (p IndexPart) String() string {
	s := p.Column
	if p.Expr != "" {
		s = "(" + p.Expr + ")"
	}
	if p.Length > 0 {
		s += "(" + strconv.Itoa(p.Length) + ")"
	}
	if p.Collation != "" {
		s += " COLLATE " + p.Collation
	}
	if p.Desc {
		s += " DESC"
	}
	return s
}

// String returns the index's definition after its name: "UNIQUE USING gin
// (a, (lower(b))) INCLUDE (c) WHERE a > 0".
func (i *Index) String() string {
	var b strings.Builder
	if i.Unique {
		b.WriteString("UNIQUE ")
	}
	if i.Method != "" {
		b.WriteString("USING " + i.Method + " ")
	}
	b.WriteString(i.partsString())
	if len(i.Include) > 0 {
		b.WriteString(" INCLUDE (" + list(i.Include) + ")")
	}
	if i.Where != "" {
		b.WriteString(" WHERE " + i.Where)
	}
	return b.String()
}

func (i *Index) partsString() string {
	parts := make([]string, len(i.Parts))
	for k, p := range i.Parts {
		parts[k] = p.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// String returns "(a) REFERENCES t (id) ON DELETE CASCADE".
func (f *ForeignKey) String() string {
	s := "(" + list(f.Columns) + ") " + f.references()
	if f.OnUpdate != "" {
		s += " ON UPDATE " + f.OnUpdate
	}
	if f.OnDelete != "" {
		s += " ON DELETE " + f.OnDelete
	}
	if f.Deferrable != "" {
		s += " " + f.Deferrable
	}
	return s
}

func (f *ForeignKey) references() string {
	s := "REFERENCES " + f.RefTable
	if len(f.RefColumns) > 0 {
		s += " (" + list(f.RefColumns) + ")"
	}
	return s
}

// String returns "(a, b)".
func (u *Unique) String() string { return "(" + list(u.Columns) + ")" }

func list(names []string) string { return strings.Join(names, ", ") }
