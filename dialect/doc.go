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
// # Adding a dialect
//
//  1. Implement [Dialect]: quoting, placeholders, whether DDL is
//     transactional, the version table's DDL (columns as in
//     [VersionTableColumns]), HasTable, and a lock.Locker that serialises
//     migrators across processes and hosts on the connection it is given.
//  2. If the database must prepare the connection around a migration's
//     transaction, or check something before commit, implement [Hooks].
//  3. If ALTER TABLE ... DROP COLUMN does not work, implement
//     [ColumnDropper].
//  4. If a migration's statements can change the connection's session
//     (the current schema, settings, transaction modes), implement
//     [Sessioner], so that the manager addresses its tables in the schema
//     the run started in and puts the session back after every migration;
//     if the driver can tell whether a transaction is open, [TxProber], so
//     that a migration ending its own transaction is caught; if some
//     version table names cannot work, [TableChecker].
//  5. Assert conformance: var _ dialect.Dialect = (*Dialect)(nil).
//  6. Register it in an init function if a command line should find it by
//     name.
//  7. Run the conformance suites in your tests: the manager suite in
//     integration and the lock suite in lock/locktest.
package dialect
