package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/strata-go/strata/dialect"
)

// ErrForeignKeysEnforced is returned, wrapped, when a rebuild is asked for
// inside a transaction on a connection that enforces foreign keys and the
// table takes part in a foreign key: dropping the old table would fire the
// child tables' ON DELETE actions. Run it inside a strata migration, on a
// connection outside any transaction, or after PRAGMA foreign_keys=OFF was
// run before the transaction began.
var ErrForeignKeysEnforced = errors.New("sqlite: foreign keys are enforced inside the caller's transaction")

// DependencyError reports an object that would break if a column were
// removed: a view, a trigger, a generated column, or another table's
// foreign key. The rebuild that returns it has changed nothing.
type DependencyError struct {
	Table  string // the table being rebuilt
	Column string // the removed column, when known
	Kind   string // "view", "trigger", "generated column" or "foreign key"
	Name   string // the view, trigger or column; for a foreign key, its table
	Err    error  // what SQLite said compiling the object against the new table, if anything
}

// Error names the object and the column it depends on.
func (e *DependencyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q", e.Kind, e.Name)
	if e.Column != "" {
		fmt.Fprintf(&b, " depends on column %q of %q", e.Column, e.Table)
	} else {
		fmt.Fprintf(&b, " depends on a removed column of %q", e.Table)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the SQLite error, if any.
func (e *DependencyError) Unwrap() error { return e.Err }

// DropColumn drops column from table, with PostgreSQL's semantics: indexes
// and constraints that involve the column go with it, and a view, trigger,
// generated column or foreign key that uses it makes DropColumn fail with a
// [DependencyError]. It uses SQLite's native ALTER TABLE DROP COLUMN when
// that can do the job and rebuilds the table otherwise; see [RebuildTable]
// for what is preserved and for how foreign keys and transactions are
// handled.
func DropColumn(ctx context.Context, ex dialect.Execer, table, column string) error {
	return runRebuild(ctx, ex, table, fmt.Sprintf("drop column %q of table %q", column, table), []Change{RemoveColumn(column)})
}

// RebuildTable applies changes, in order, to table and rebuilds it with
// SQLite's 12-step procedure. A change names columns by the name they have
// at that point of the list, so RenameColumn("a", "b") followed by
// AlterColumn("b", ...) works. SQL text given to changes (types, defaults,
// constraints, [Using] expressions) is taken as written and must name
// columns by their new names.
//
//	err := sqlite.RebuildTable(ctx, tx, "users",
//		sqlite.RemoveColumn("legacy_flag"),
//		sqlite.RenameColumn("name", "full_name"),
//		sqlite.AlterColumn("age", sqlite.SetType("INTEGER"), sqlite.SetNotNull(), sqlite.SetDefault("0")),
//		sqlite.AddConstraint("CONSTRAINT age_ok CHECK (age >= 0)"),
//	)
//
// ex is a *migration.Tx inside a migration, or a *sql.Tx, *sql.Conn or
// *sql.DB. Without changes the table is rebuilt as it is.
func RebuildTable(ctx context.Context, ex dialect.Execer, table string, changes ...Change) error {
	return runRebuild(ctx, ex, table, fmt.Sprintf("rebuild table %q", table), changes)
}

// Change is one edit of a table's definition for [RebuildTable]. Build one
// with [RemoveColumn], [RenameColumn], [AddColumn], [AlterColumn],
// [AddConstraint], [DropConstraint], [DropUnique], [DropForeignKey],
// [DropCheck] or [Redefine].
type Change interface {
	apply(m *tableModel) error
}

// ColumnOption is one edit of a column for [AlterColumn]: [SetType],
// [SetNotNull], [DropNotNull], [SetDefault], [DropDefault] or [Using].
type ColumnOption interface {
	applyColumn(m *tableModel, c *colDef) error
}

type changeFunc func(m *tableModel) error

func (f changeFunc) apply(m *tableModel) error { return f(m) }

type optionFunc func(m *tableModel, c *colDef) error

func (f optionFunc) applyColumn(m *tableModel, c *colDef) error { return f(m, c) }

// RemoveColumn removes a column. Indexes and table constraints that involve
// it are dropped too (see [DropColumn]).
func RemoveColumn(name string) Change {
	return changeFunc(func(m *tableModel) error { return m.removeColumn(name) })
}

// RenameColumn renames a column. Indexes, triggers, views and other tables'
// foreign keys follow the new name.
func RenameColumn(from, to string) Change {
	return changeFunc(func(m *tableModel) error { return m.renameColumn(from, to) })
}

// AddColumn adds a column after the last one. definition is a column
// definition as in CREATE TABLE, such as "created_at TEXT NOT NULL DEFAULT
// (datetime('now'))"; unlike ALTER TABLE ADD COLUMN it may be NOT NULL
// without a default (if the table is empty), UNIQUE, PRIMARY KEY or have a
// non-constant default. Existing rows get the default.
func AddColumn(definition string) Change {
	return changeFunc(func(m *tableModel) error { return m.addColumn(definition) })
}

// AlterColumn changes a column's type, NOT NULL, DEFAULT, or how its values
// are computed from the old rows.
func AlterColumn(name string, opts ...ColumnOption) Change {
	return changeFunc(func(m *tableModel) error {
		c, err := m.column(name)
		if err != nil {
			return err
		}
		for _, o := range opts {
			if o == nil {
				return fmt.Errorf("alter column %q: nil option", name)
			}
			if err := o.applyColumn(m, c); err != nil {
				return fmt.Errorf("alter column %q: %w", name, err)
			}
		}
		return nil
	})
}

// SetType sets a column's declared type, such as "INTEGER" or
// "VARCHAR(20)"; "" removes it. Values are converted by the new type's
// affinity as they are copied (STRICT tables refuse values that do not
// fit); use [Using] to convert them yourself.
func SetType(typ string) ColumnOption {
	return optionFunc(func(m *tableModel, c *colDef) error { return m.setType(c, typ) })
}

// SetNotNull makes a column NOT NULL. Rows that hold NULL make the rebuild
// fail.
func SetNotNull() ColumnOption {
	return optionFunc(func(m *tableModel, c *colDef) error { return m.setNotNull(c) })
}

// DropNotNull lets a column hold NULL.
func DropNotNull() ColumnOption {
	return optionFunc(func(m *tableModel, c *colDef) error { m.dropKind(c, kNotNull); return nil })
}

// SetDefault sets a column's DEFAULT to expr: a literal such as 0 or
// 'none', or an expression such as CURRENT_TIMESTAMP or datetime('now'),
// which is parenthesised where SQLite needs it.
func SetDefault(expr string) ColumnOption {
	return optionFunc(func(m *tableModel, c *colDef) error { return m.setDefault(c, expr) })
}

// DropDefault removes a column's DEFAULT.
func DropDefault() ColumnOption {
	return optionFunc(func(m *tableModel, c *colDef) error { m.dropKind(c, kDefault); return nil })
}

// Using sets the expression that fills the column from each old row, like
// PostgreSQL's ALTER COLUMN ... TYPE ... USING: for example
// Using("CAST(price * 100 AS INTEGER)"). It is evaluated over the old
// table, whose columns already carry the new names of renamed columns.
func Using(expr string) ColumnOption {
	return optionFunc(func(m *tableModel, c *colDef) error { return m.using(c, expr) })
}

// AddConstraint adds a table constraint, written as in CREATE TABLE: for
// example "CONSTRAINT price_ok CHECK (price > 0)", "UNIQUE (a, b)" or
// "FOREIGN KEY (owner_id) REFERENCES users(id) ON DELETE CASCADE". Rows
// that violate a CHECK or UNIQUE make the rebuild fail; rows that violate a
// foreign key fail it with a [*ForeignKeyError].
func AddConstraint(definition string) Change {
	return changeFunc(func(m *tableModel) error { return m.addConstraint(definition) })
}

// DropConstraint drops the constraint named name (CONSTRAINT name ...),
// whether a table constraint or a column constraint.
func DropConstraint(name string) Change {
	return changeFunc(func(m *tableModel) error { return m.dropConstraint(name) })
}

// DropUnique drops the UNIQUE constraint on exactly these columns, named or
// not: a column's UNIQUE for one column, or UNIQUE (columns...).
func DropUnique(columns ...string) Change {
	return changeFunc(func(m *tableModel) error { return m.dropByColumns(kUnique, columns) })
}

// DropForeignKey drops the foreign key whose child columns are exactly
// these, named or not: a column's REFERENCES clause for one column, or
// FOREIGN KEY (columns...).
func DropForeignKey(columns ...string) Change {
	return changeFunc(func(m *tableModel) error { return m.dropByColumns(kForeignKey, columns) })
}

// DropCheck drops the CHECK constraints, named or not, whose expression is
// expr. Expressions are compared token by token, ignoring white space,
// comments, the case of keywords and how identifiers are quoted, so
// DropCheck("price > 0") undoes AddConstraint("CHECK (price>0)").
func DropCheck(expr string) Change {
	return changeFunc(func(m *tableModel) error { return m.dropCheck(expr) })
}

// Redefine replaces the table's whole definition: definition is what
// follows the table name in CREATE TABLE, the parenthesised list of
// columns and table constraints and any table options, such as
// "(id INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT". Columns are
// matched to the current ones by name and copied; new columns get their
// defaults; columns left out are removed, as by [RemoveColumn], except that
// the new definition's constraints are taken as given. Later changes in the
// same call apply to the new definition, so AlterColumn(name, Using(expr))
// can fill a column from others.
func Redefine(definition string) Change {
	return changeFunc(func(m *tableModel) error { return m.redefine(definition) })
}
