package integration

import (
	"context"
	"database/sql"
	"testing"

	"github.com/strata-go/strata/dialect"
)

// Target is a database the suite runs against.
type Target struct {
	// Name names the target in test output, such as "postgres".
	Name string
	// Dialect is the dialect under test. Whether it has transactional DDL
	// decides what the suite expects of failures, dry runs and repairs.
	Dialect dialect.Dialect
	// Open returns a handle to a new, empty database of the calling test's
	// own, and a DSN from which Reopen opens the same database again. The
	// suite calls it once per subtest. It should close the handle and
	// drop the database in t.Cleanup, and it may skip t when no server is
	// configured. Required.
	Open func(t *testing.T) (db *sql.DB, dsn string)
	// Reopen opens a new, independent handle to the database dsn names,
	// as another process migrating it would. The suite closes it.
	// Required.
	Reopen func(dsn string) (*sql.DB, error)
	// Describe lists the tables of the database q is connected to. Nil
	// selects [DescribeSQLite], [DescribePostgres] or [DescribeMySQL] by
	// the dialect's name ("sqlite", "postgres", "mysql"); any other
	// dialect must set it.
	Describe func(ctx context.Context, q dialect.Execer) ([]Table, error)
	// Schemas reports that the database has schemas, created with CREATE
	// SCHEMA name, and that the version table may be qualified with one
	// ("schema.table") as on PostgreSQL. The suite then tests a
	// schema-qualified version table too.
	Schemas bool
}

// Transactional reports whether the target's DDL is transactional.
func (tgt Target) Transactional() bool { return tgt.Dialect.TransactionalDDL() }

func (tgt Target) describer() func(context.Context, dialect.Execer) ([]Table, error) {
	if tgt.Describe != nil {
		return tgt.Describe
	}
	switch tgt.Dialect.Name() {
	case sqliteName:
		return DescribeSQLite
	case postgresName:
		return DescribePostgres
	case mysqlName:
		return DescribeMySQL
	}
	return nil
}

// Run runs the manager conformance suite against tgt, as subtests of t,
// each on a fresh database from tgt.Open: applying and rolling back along
// the dependency graph (Up, UpTo, Down, DownTo, Reset), failures, panics
// and cancellations with the migration and step they name, atomic runs,
// dirty migrations and both repairs, migrations outside a transaction,
// dry runs, baselines, rows of migrations the binary does not know, Plan,
// Status, History and Pending, custom and schema-qualified version tables,
// dropping a column, odd migration IDs, the lock (exclusion, hand-over, an
// up-to-date start that never touches it, a waiter that gives up),
// concurrent managers, a pool of one connection, migrations that switch the
// schema or database, change the session, leave or end a transaction
// (the version table stays where it was, the connection goes back to the
// pool as it came, the migration is recorded truthfully), drift found
// before a run and kept, and, where the dialect
// implements schema.Inspector (the built-in dialects must), that every
// migration of a realistic history is reversible, with migrationtest.Run:
// tables, constraints, indexes, a foreign key, a view, added and dropped
// columns, a data migration and, on the built-in dialects, a trigger.
//
// Where behaviour differs by design it asserts the right one for the
// target: with transactional DDL a failed migration leaves no trace and
// stays pending, and a dry run runs every migration in a transaction it
// rolls back; without, a failed migration is recorded dirty until
// repaired, a dry run checks only the first migration's preconditions,
// and atomic runs are refused.
func Run(t *testing.T, tgt Target) {
	t.Helper()
	switch {
	case tgt.Dialect == nil:
		t.Fatal("integration: Target.Dialect is nil")
	case tgt.Open == nil || tgt.Reopen == nil:
		t.Fatal("integration: Target.Open and Target.Reopen are required")
	case tgt.describer() == nil:
		t.Fatalf("integration: dialect %q is not built in: set Target.Describe", tgt.Dialect.Name())
	}
	tests := []subtest{
		{"UpAndHistory", testUpAndHistory},
		{"Targets", testTargets},
		{"UnknownTarget", testUnknownTarget},
		{"Failures", testFailures},
		{"Atomic", testAtomic},
		{"DirtyAndRepair", testDirtyAndRepair},
		{"NoTransaction", testNoTransaction},
		{"DryRun", testDryRun},
		{"Baseline", testBaseline},
		{"UnknownApplied", testUnknownApplied},
		{"PlanStatusPending", testPlanStatusPending},
		{"StatusOnNewDatabase", testStatusOnNewDatabase},
		{"CustomTable", testCustomTable},
		{"DropColumn", testDropColumn},
		{"OddIDs", testOddIDs},
		{"Lock", testLock},
		{"StatusRunning", testStatusRunning},
		{"ConcurrentManagers", testConcurrentManagers},
		{"PoolOfOne", testPoolOfOne},
		{"Reversible", testReversible},
		{"VersionTableAddressed", testVersionTableAddressed},
		{"SessionRestored", testSessionRestored},
		{"TransactionEnded", testTransactionEnded},
		{"DriftKept", testDriftKept},
	}
	if tgt.Schemas {
		tests = append(tests, subtest{"QualifiedTable", testQualifiedTable})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, tgt) })
	}
}

// subtest is one behaviour of the suite, run on a fresh database.
type subtest struct {
	name string
	fn   func(t *testing.T, tgt Target)
}
