package postgres_test

import (
	"os"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/internal/testdb"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/lock/locktest"
)

func TestMain(m *testing.M) {
	testdb.ServeHolder(postgres.DriverName, postgres.New(), `SELECT pg_backend_pid()`)
	os.Exit(m.Run())
}

// TestLockAcrossProcesses runs the dialect's lock against one held by
// another process, which it then kills.
func TestLockAcrossProcesses(t *testing.T) {
	db, dsn := pgtest.New(t)
	d := postgres.New()
	locktest.RunAcrossProcesses(t, db, func(table string) lock.Locker {
		return d.Locker(dialect.LockOptions{Table: table})
	}, testdb.Hold(dsn, "pid "))
}
