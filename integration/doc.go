// Package integration is the conformance suite of migration.Manager: the
// whole behaviour of a run (graph targets, failures and panics, dry runs,
// baselines, rows the binary does not know, locking, dirty migrations and
// their repair, custom and schema-qualified version tables, a pool of one
// connection, and Downs that restore exactly what their Ups changed) as
// one suite that every dialect runs against a real database. Its own tests run it on a SQLite file, PostgreSQL and
// MySQL/MariaDB, and add what needs operating-system processes: a hundred
// migrators started at once, a lock holder killed with SIGKILL in the
// middle of a migration, waiters that give up, and two applications
// sharing a database.
//
// # Running the suite for a dialect
//
// A dialect, built in or not, runs the suite from its own tests with [Run]
// and a [Target]: the dialect, a way to open a fresh, empty database for
// each subtest, and a way to open that database again from its DSN (a
// second pool, as another process would have):
//
//	func TestManager(t *testing.T) {
//		integration.Run(t, integration.Target{
//			Name:     "mydialect",
//			Dialect:  mydialect.New(),
//			Open:     openFreshDatabase,         // func(*testing.T) (*sql.DB, string)
//			Reopen:   func(dsn string) (*sql.DB, error) { return sql.Open("mydriver", dsn) },
//			Describe: integration.DescribePostgres, // or a function of your own
//		})
//	}
//
// Open is called once per subtest and should drop the database in
// t.Cleanup. Describe lists tables, columns and indexes; the suite uses it
// to see what migrations created and to prove that dry runs, refused
// runs and status queries change nothing. The built-in dialects get
// theirs by name; a custom dialect picks one of [DescribeSQLite],
// [DescribePostgres] and [DescribeMySQL] if its database answers the same
// catalog queries, or writes its own.
//
// The suite's migrations use SQL that PostgreSQL, MySQL/MariaDB and SQLite
// all accept (CREATE TABLE t (id INTEGER PRIMARY KEY, note VARCHAR(100)),
// INSERT with the dialect's placeholders, CREATE INDEX, DROP TABLE), so a
// dialect for a database that speaks them needs nothing else. What the
// suite expects where databases differ by design follows from
// Dialect.TransactionalDDL: with it, a failed migration leaves no trace
// and a dry run tries every pending migration in a transaction it rolls
// back; without, a failed migration is recorded dirty and blocks every run
// until migration.Manager.Repair, and a dry run checks only the first
// pending migration's preconditions. Set [Target.Schemas] if version tables
// may be schema-qualified, as on PostgreSQL.
//
// If the dialect implements schema.Inspector, the suite also proves a
// realistic history of migrations reversible with migrationtest.Run, which
// compares the schemas the dialect describes before Up, after Down and
// after Up again; without one, that subtest logs why it did not run. Its
// trigger, whose SQL differs between databases, is left out for dialects
// other than the built-in ones.
//
// The tests of the built-in dialects need the servers named by
// STRATA_TEST_POSTGRES_DSN and STRATA_TEST_MYSQL_DSN (see
// internal/testdb); without them those targets skip, and with
// STRATA_TEST_REQUIRE_SERVERS=1 they fail instead.
package integration
