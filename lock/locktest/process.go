package locktest

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/lock"
)

// Holder is a lock held by another process, as the hold function of
// [RunAcrossProcesses] starts it.
type Holder struct {
	// Describes is what the description the locker gives of the holder
	// (its Holder(ctx, conn) string method) must start with while this
	// process holds the lock; empty if the locker cannot say.
	Describes string
	// Kill ends the process abruptly, so that it releases nothing itself,
	// and returns once it has exited.
	Kill func()
}

// RunAcrossProcesses checks a lock that the operating system or the
// database server releases when its holder dies. hold starts another
// process that takes the lock of the version table table in db's
// database, and returns once that process holds it; newLocker returns a
// Locker of table. The test checks that the other process's lock excludes
// this one, that the locker names its holder, that the lock of another
// version table is not blocked, and that once the other process is killed
// the lock is free promptly.
func RunAcrossProcesses(t *testing.T, db *sql.DB, newLocker func(table string) lock.Locker, hold func(t *testing.T, table string) Holder) {
	t.Helper()
	const table = "strata_migrations"
	h := hold(t, table)

	l := newLocker(table)
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
	if h.Describes != "" {
		d, ok := l.(interface {
			Holder(ctx context.Context, conn *sql.Conn) string
		})
		if !ok {
			t.Errorf("%T has no Holder method to describe the holder", l)
		} else if got := d.Holder(t.Context(), conn); !strings.HasPrefix(got, h.Describes) {
			t.Errorf("Holder = %q, want it to start with %q", got, h.Describes)
		}
	}

	// Another version table in the same database is not blocked.
	other := newLocker("other_migrations")
	ctx, cancel = context.WithTimeout(t.Context(), 2*time.Second)
	if err := other.Lock(ctx, conn); err != nil {
		t.Errorf("lock another version table: %v", err)
	} else if err := other.Unlock(ctx, conn); err != nil {
		t.Error(err)
	}
	cancel()

	h.Kill()
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
