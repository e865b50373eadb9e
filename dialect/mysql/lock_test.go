package mysql_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/internal/testdb"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/lock"
)

func TestMain(m *testing.M) {
	testdb.ServeHolder(mysql.DriverName, mysql.New(), `SELECT CONNECTION_ID()`)
	os.Exit(m.Run())
}

// TestLockAcrossProcesses holds the lock in another process, checks that it
// excludes this one and names the holder, then kills the holder and checks
// that the server released its lock at once.
func TestLockAcrossProcesses(t *testing.T) {
	db, dsn := mytest.New(t)
	const table = "strata_migrations"
	h := testdb.StartHolder(t, dsn, table)

	d := mysql.New()
	l := d.Locker(dialect.LockOptions{Table: table})
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	err = l.Lock(ctx, conn)
	cancel()
	if err == nil {
		t.Fatal("lock taken while another process holds it")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("lock: %v, want context.DeadlineExceeded", err)
	}
	if got := l.(*lock.MySQL).Holder(t.Context(), conn); !strings.HasPrefix(got, "connection id "+h.Session+",") {
		t.Errorf("Holder = %q, want connection id %s", got, h.Session)
	}

	// Another version table in the same database is not blocked.
	other := d.Locker(dialect.LockOptions{Table: "other_migrations"})
	ctx, cancel = context.WithTimeout(t.Context(), 2*time.Second)
	if err := other.Lock(ctx, conn); err != nil {
		t.Errorf("lock another version table: %v", err)
	} else if err := other.Unlock(ctx, conn); err != nil {
		t.Error(err)
	}
	cancel()

	h.Kill(t)
	start := time.Now()
	ctx, cancel = context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := l.Lock(ctx, conn); err != nil {
		t.Fatalf("lock after the holder was killed: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took the lock %v after the holder was killed, want promptly", took)
	}
	if err := l.Unlock(context.WithoutCancel(ctx), conn); err != nil {
		t.Error(err)
	}
}
