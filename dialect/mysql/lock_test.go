package mysql_test

import (
	"os"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/internal/testdb"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/lock/locktest"
)

func TestMain(m *testing.M) {
	testdb.ServeHolder(mysql.DriverName, mysql.New(), `SELECT CONNECTION_ID()`)
	os.Exit(m.Run())
}

// TestLockAcrossProcesses runs the dialect's lock against one held by
// another process, which it then kills.
func TestLockAcrossProcesses(t *testing.T) {
	db, dsn := mytest.New(t)
	d := mysql.New()
	locktest.RunAcrossProcesses(t, db, func(table string) lock.Locker {
		return d.Locker(dialect.LockOptions{Table: table})
	}, testdb.Hold(dsn, "connection id "))
}
