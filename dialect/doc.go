// Package dialect is the contract between the migration manager and a
// database, in the way database/sql/driver is the contract between
// database/sql and a driver. It imports no driver.
//
// The built-in dialects live in subpackages, one per driver, so that a
// program pulls in only the driver it uses: postgres (pgx), mysql
// (go-sql-driver/mysql) and sqlite (mattn/go-sqlite3, which needs cgo).
// Pass a dialect value to migration.NewManager; the registry ([Register],
// [Lookup]) exists for command lines that take a dialect by name.
//
// [Execer] is the set of methods that *sql.DB, *sql.Conn, *sql.Tx and
// *migration.Tx share; helpers such as [DropColumn] take it.
//
// # Optional interfaces
//
// A dialect grows beyond [Dialect] by implementing optional interfaces,
// found by type assertion as database/sql finds driver.Pinger: the manager
// looks them up once, when it is created, the command line when it opens
// a database. Each is declared in this package, except three that return
// types of packages this one does not import: schema.Inspector, in package
// schema, and migration.DefaultBackuper and migration.DSNBackuper, which
// return a backup.Backuper. What each one buys:
//
//   - [Hooks]: the connection is prepared around migration transactions
//     and checked before each commit (SQLite: foreign keys off, then
//     PRAGMA foreign_key_check).
//   - [Sessioner]: the locked connection's session (current schema,
//     settings, transaction modes) is saved when a run starts, strata's
//     tables are addressed in the schema saved, and the session is put back
//     after every migration.
//   - [TxProber]: a migration that ends its own transaction (COMMIT or
//     ROLLBACK in its SQL) is caught and recorded dirty.
//   - [TableChecker]: version table names that cannot work on the
//     database are refused by NewManager.
//   - [TextTyper]: the text columns the manager adds to a version table
//     created by an older strata get a type that can have a default.
//   - [Interrupter]: a session the driver gave up on while it held the
//     migration lock is ended from another connection, so the lock is free
//     at once.
//   - [Opener]: command lines can open a database of the dialect from a
//     DSN, with the connection settings the dialect wants.
//   - [ColumnDropper]: [DropColumn] works where ALTER TABLE ... DROP
//     COLUMN does not.
//   - migration.DefaultBackuper: migrations that ask for a backup need no
//     configuration.
//   - migration.DSNBackuper: command lines configure backups from the DSN.
//   - [BackupHinter]: the error for a migration that asks for a backup
//     when none is configured says how to build one.
//   - schema.Inspector: drift detection (migration.Manager.Drift) and
//     the schema recorded after each run.
//
// The built-in dialects assert which they implement at the top of their
// dialect.go (migration.DefaultBackuper and migration.DSNBackuper in
// package migration's tests).
//
// # Adding a dialect
//
//  1. Implement [Dialect]: quoting, placeholders, whether DDL is
//     transactional, the version table's DDL (columns as in
//     [VersionTableColumns]), HasTable, and a lock.Locker that serialises
//     migrators across processes and hosts on the connection it is given.
//  2. Implement the optional interfaces above that the database needs:
//     [Hooks] if it must prepare the connection around a migration's
//     transaction or check something before commit; [Sessioner] if a
//     migration's statements can change the connection's session;
//     [TxProber] if the driver can tell whether a transaction is open;
//     [ColumnDropper] if ALTER TABLE ... DROP COLUMN does not work;
//     [TableChecker] if some version table names cannot work; [TextTyper]
//     if a TEXT column cannot have a default; a backup interface if the
//     database can be backed up.
//  3. Assert conformance, to [Dialect] and to each optional interface, in
//     one place: var _ dialect.Dialect = (*Dialect)(nil).
//  4. Register it in an init function if a command line should find it by
//     name.
//  5. Run the conformance suites in your tests: the manager suite in
//     integration and the lock suite in lock/locktest.
package dialect
