// Package mysql is the MySQL and MariaDB dialect of strata, on
// github.com/go-sql-driver/mysql through database/sql. It supports MySQL 8
// and MariaDB 10.11 or newer.
//
// Importing the package registers the dialect under "mysql" (for
// [dialect.Lookup]) and the driver under [DriverName]:
//
//	db, err := sql.Open(mysql.DriverName, "app:secret@tcp(db:3306)/app")
//	...
//	m, err := migration.NewManager(db, mysql.New(), migrations)
//
// The dialect also opens databases itself ([Dialect.Open], the optional
// [dialect.Opener] the command line uses), from the driver's DSN or a
// mysql://user:pass@host:3306/db URL, which [DriverDSN] converts.
//
// MySQL commits every DDL statement implicitly, so DDL is not
// transactional: the manager marks a migration dirty before it runs and
// clean after, and a failed migration must be repaired by hand. Keep such
// migrations to one DDL statement each where you can.
//
// Migrators are serialised by a named lock ([lock.MySQL], GET_LOCK) whose
// name derives from the database and the version table, so applications
// with different version tables never block each other.
//
// Once it holds the lock, a run first finishes or undoes a restore of the
// version table's database that was killed half way through its swap
// (see backup.MySQL), so that it never migrates old tables without their
// triggers or new tables with old views. With nothing to do that is one
// query; a run with nothing pending takes no lock and does not look.
//
// The version table is created in the connection's current database
// (DATABASE(), the one the DSN names), or in the database a qualified name
// "database.table" gives. Its description column is TEXT, which older
// servers do not allow a literal DEFAULT on, so inserts must always give
// it. Nothing relies on DSN settings such as parseTime.
package mysql
