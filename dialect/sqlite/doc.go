// Package sqlite is the SQLite dialect, on github.com/mattn/go-sqlite3
// (cgo). Importing it registers the "sqlite3" driver and the "sqlite"
// dialect.
//
// [Open] opens a database file set up for migrated applications: owner-only
// permissions, WAL, foreign keys on, a busy timeout, one connection.
//
// The migration lock is an OS file lock beside the database file
// ("<file>.lock"), released by the OS if the process dies; an in-memory
// database uses an in-process lock.
//
// Because PRAGMA foreign_keys cannot change inside a transaction, the
// dialect switches foreign key enforcement off on the locked connection
// before a run's first transaction, checks every key with PRAGMA
// foreign_key_check before each commit (a migration that leaves a dangling
// reference fails, naming the rows), and switches enforcement back on after
// the run. This is what makes table rebuilds ([DropColumn], [RebuildTable])
// safe inside migrations.
//
// # Table rebuilds
//
// SQLite's ALTER TABLE can rename a table, rename, add and (since 3.35) drop
// a column, and little else. [RebuildTable] does the rest the way SQLite's
// documentation prescribes ("Making Other Kinds Of Table Schema Changes" in
// lang_altertable.html): it creates the new table under a scratch name,
// copies every row into it, drops the old table, renames the new one into
// place and recreates the indexes and triggers, all inside one transaction
// or savepoint. [DropColumn] is the common case, and [dialect.DropColumn]
// reaches it through the dialect.
//
// The new table is written from the table's stored CREATE TABLE text, not
// from PRAGMA table_info, so everything the changes do not touch comes
// back exactly as it was written: column types, COLLATE, expression
// DEFAULTs, named and unnamed CHECK constraints, generated columns (which
// are recomputed, never copied), foreign keys in both directions including
// self-references, AUTOINCREMENT and its high-water mark in
// sqlite_sequence, WITHOUT ROWID and STRICT. Rowids are copied explicitly,
// also for tables without an INTEGER PRIMARY KEY. Indexes (partial,
// expression, UNIQUE, DESC, COLLATE) and triggers are recreated from their
// stored SQL; views and triggers of other tables are left alone and go on
// working. Renamed columns are renamed with SQLite's own ALTER TABLE RENAME
// COLUMN first, so that indexes, triggers, views and other tables' foreign
// keys follow the new name.
//
// Removing a column follows PostgreSQL: indexes and constraints that
// involve it (UNIQUE, PRIMARY KEY, CHECK, FOREIGN KEY, also those of several
// columns) are dropped with it, but a view, a trigger, a generated column or
// another table's foreign key that uses it makes the rebuild fail with a
// [DependencyError] naming the object, and nothing changes. When only
// columns are removed and SQLite's native ALTER TABLE DROP COLUMN accepts
// them, the native statement does the work in place, which is faster and
// has the same result: every view and trigger is compiled before and after
// it, as around a rebuild, because SQLite accepts some drops that break a
// view with a column list over SELECT * or a trigger that writes the
// column, and such a drop is rolled back and refused.
//
// Foreign keys: with PRAGMA foreign_keys on, dropping the old table would
// run the ON DELETE actions of its child tables and delete or change their
// rows. Inside a strata migration the SQLite dialect has switched foreign
// keys off before the transaction and checks them before the commit, so
// rebuilds are safe there. Called on a connection that is not in a
// transaction, RebuildTable switches foreign keys off itself, works in its
// own transaction and switches them back on. Called inside a caller's
// transaction while foreign keys are enforced, it refuses with
// [ErrForeignKeysEnforced] when the table takes part in any foreign key.
// Whenever it rebuilds a table it runs PRAGMA foreign_key_check on the new
// table and on its child tables before it finishes (SQLite's step 10), and
// fails with a [*ForeignKeyError] naming the rows if any key points
// nowhere, including rows that were wrong before the rebuild.
//
// Atomicity: the work runs in a transaction of its own, or under a
// SAVEPOINT of the caller's transaction, so a failure at any step,
// including a cancelled context, leaves the schema, the rows, the
// connection's pragmas and its transaction state as they were, whether or
// not the caller had a transaction open.
//
// Views, virtual tables, the shadow tables of virtual tables and SQLite's
// own sqlite_ tables cannot be rebuilt. Only tables of the main database
// are rebuilt; a name is taken literally (it may contain dots), except that
// a leading "main." is accepted; a TEMP table of the same name is left
// alone, and the table's indexes and triggers are recreated in the schema
// they came from. While one hides the table, SQLite's DROP COLUMN and
// RENAME COLUMN, which would read the table's indexes against it, are not
// used: columns are removed by the rebuild and renames are refused. Names are matched as SQLite matches them, folding the
// case of the ASCII letters only.
package sqlite
