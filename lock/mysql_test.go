package lock_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/strata-go/strata/internal/testdb"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/lock/locktest"
)

func TestMySQLLockName(t *testing.T) {
	long := strings.Repeat("x", 63)
	tests := []struct {
		name      string
		db, table string
		want      string // "" to check only the length
	}{
		{"short", "app", "strata_migrations", "strata:app:strata_migrations"},
		{"exactly 64", strings.Repeat("d", 64-len("strata::t")), "t", "strata:" + strings.Repeat("d", 64-len("strata::t")) + ":t"},
		{"long table", "app", long, ""},
		{"long database and table", long, long, ""},
		{"multibyte", strings.Repeat("é", 60), "t", ""},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lock.MySQLLockName(tt.db, tt.table)
			if n := utf8.RuneCountInString(got); n > lock.MySQLMaxLockName {
				t.Errorf("name %q has %d characters, want at most %d", got, n, lock.MySQLMaxLockName)
			}
			if !utf8.ValidString(got) {
				t.Errorf("name %q is not valid UTF-8", got)
			}
			if !strings.HasPrefix(got, "strata:") {
				t.Errorf("name %q does not start with strata:", got)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("name = %q, want %q", got, tt.want)
			}
			if again := lock.MySQLLockName(tt.db, tt.table); again != got {
				t.Errorf("not deterministic: %q then %q", got, again)
			}
			if prev, dup := seen[got]; dup {
				t.Errorf("name %q equals that of %s", got, prev)
			}
			seen[got] = tt.name
		})
	}
	// Long names that differ only past the cut stay distinct.
	if a, b := lock.MySQLLockName("app", long+"a"), lock.MySQLLockName("app", long+"b"); a == b {
		t.Errorf("distinct long tables share the name %q", a)
	}
}

func myDB(t *testing.T) *sql.DB {
	t.Helper()
	db, _ := mytest.New(t)
	return db
}

func TestMySQLConformance(t *testing.T) {
	db := myDB(t)
	locktest.Run(t, db, func() lock.Locker { return lock.NewMySQL("strata_migrations", nil) })
}

func TestMySQLConformanceShared(t *testing.T) {
	db := myDB(t)
	l := lock.NewMySQL("other_db.strata_migrations", nil)
	locktest.Run(t, db, func() lock.Locker { return l })
}

func TestMySQLTablesLockIndependently(t *testing.T) {
	db := myDB(t)
	var cur string
	if err := db.QueryRowContext(t.Context(), `SELECT DATABASE()`).Scan(&cur); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("t", 64)
	tests := []struct {
		name       string
		held, want string
		conflict   bool
	}{
		{"same table", "strata_migrations", "strata_migrations", true},
		{"qualified by the current database", "strata_migrations", cur + ".strata_migrations", true},
		{"long name", long, long, true},
		{"other table", "strata_migrations", "billing_migrations", false},
		{"same table in another database", "strata_migrations", "other_db.strata_migrations", false},
		{"long names differing at the end", long + "_a", long + "_b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := pin(t, db), pin(t, db)
			la, lb := lock.NewMySQL(tt.held, nil), lock.NewMySQL(tt.want, nil)
			mustLock(t, la, a)
			defer mustUnlock(t, la, a)
			if got := tryLock(t, lb, b); got == tt.conflict {
				t.Errorf("lock %q while %q is held: taken = %v, want %v", tt.want, tt.held, got, !tt.conflict)
			}
		})
	}
}

func TestMySQLLockTwiceSameConn(t *testing.T) {
	db := myDB(t)
	a, b := pin(t, db), pin(t, db)
	l := lock.NewMySQL("strata_migrations", nil)
	mustLock(t, l, a)
	if err := l.Lock(t.Context(), a); err == nil {
		t.Error("second Lock on the same connection: got nil, want an error")
	}
	mustUnlock(t, l, a)
	if !tryLock(t, l, b) {
		t.Error("still locked after one unlock")
	}
}

func TestMySQLUnlockWithCancelledContext(t *testing.T) {
	db := myDB(t)
	a, b := pin(t, db), pin(t, db)
	l := lock.NewMySQL("strata_migrations", nil)
	ctx, cancel := context.WithCancel(t.Context())
	if err := l.Lock(ctx, a); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := l.Unlock(ctx, a); err != nil {
		t.Fatalf("unlock with a cancelled context: %v", err)
	}
	if !tryLock(t, l, b) {
		t.Error("still locked after unlock with a cancelled context")
	}
	if err := a.PingContext(t.Context()); err != nil {
		t.Errorf("connection broken: %v", err)
	}
}

func TestMySQLUnlockErrors(t *testing.T) {
	db := myDB(t)
	a, b := pin(t, db), pin(t, db)
	l := lock.NewMySQL("strata_migrations", nil)
	err := l.Unlock(t.Context(), a)
	if err == nil || !strings.Contains(err.Error(), "no lock named") {
		t.Errorf("unlock of a lock nobody holds: %v, want an error saying it does not exist", err)
	}
	mustLock(t, l, a)
	defer mustUnlock(t, l, a)
	err = l.Unlock(t.Context(), b)
	if err == nil || !strings.Contains(err.Error(), "another connection") {
		t.Errorf("unlock of a lock another connection holds: %v, want an error saying so", err)
	}
}

func TestMySQLHolder(t *testing.T) {
	db := myDB(t)
	a, b := pin(t, db), pin(t, db)
	var id int64
	if err := a.QueryRowContext(t.Context(), `SELECT CONNECTION_ID()`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	l := lock.NewMySQL("strata_migrations", nil)
	if h := l.Holder(t.Context(), b); h != "" {
		t.Errorf("Holder of a free lock = %q, want empty", h)
	}
	mustLock(t, l, a)
	defer mustUnlock(t, l, a)
	h := l.Holder(t.Context(), b)
	for _, want := range []string{fmt.Sprintf("connection id %d,", id), "user ", "Sleep"} {
		if !strings.Contains(h, want) {
			t.Errorf("Holder = %q, want it to contain %q", h, want)
		}
	}
}

func TestMySQLLogsWhileWaiting(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for lock.LogEvery")
	}
	db := myDB(t)
	a, b := pin(t, db), pin(t, db)
	var id int64
	if err := a.QueryRowContext(t.Context(), `SELECT CONNECTION_ID()`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	holder := lock.NewMySQL("strata_migrations", nil)
	mustLock(t, holder, a)
	defer mustUnlock(t, holder, a)

	var buf syncBuffer
	waiter := lock.NewMySQL("strata_migrations", slog.New(slog.NewTextHandler(&buf, nil)))
	ctx, cancel := context.WithTimeoutCause(t.Context(), lock.LogEvery+time.Second, lock.ErrTimeout)
	defer cancel()
	err := waiter.Lock(ctx, b)
	if !errors.Is(err, lock.ErrTimeout) {
		t.Fatalf("lock: %v, want lock.ErrTimeout", err)
	}
	if out := buf.String(); !strings.Contains(out, "waiting for migration lock") || !strings.Contains(out, fmt.Sprintf("connection id %d", id)) {
		t.Errorf("log %q does not say who holds the lock (connection id %d)", out, id)
	}
}

// TestMySQLCancelledWhileAttemptInFlight cancels a waiter while the answer
// to its GET_LOCK, which granted the lock, is still on its way: Lock must
// read it, release the lock, and fail with the context's error, leaving
// nothing held and the connection intact.
func TestMySQLCancelledWhileAttemptInFlight(t *testing.T) {
	db, dsn := mytest.New(t)
	upstream, err := mytest.Address(dsn)
	if err != nil {
		t.Fatalf("this test needs a TCP server in %s: %v", testdb.MySQLEnv, err)
	}
	p := testdb.NewProxy(t, upstream)
	proxied, err := mytest.WithAddress(dsn, p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	pdb, err := sql.Open("mysql", proxied)
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	conn := pin(t, pdb)
	if err := conn.PingContext(t.Context()); err != nil {
		t.Fatal(err)
	}

	const d = 300 * time.Millisecond
	l := lock.NewMySQL("strata_migrations", nil)
	p.Delay(d)
	ctx, cancel := context.WithTimeout(t.Context(), d+d/2) // expires while the attempt is in flight
	defer cancel()
	start := time.Now()
	err = l.Lock(ctx, conn)
	took := time.Since(start)
	p.Delay(0)
	if err == nil {
		mustUnlock(t, l, conn)
		t.Fatal("Lock succeeded after its context expired")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("lock: %v, want context.DeadlineExceeded", err)
	}
	if took > 3*d+locktest.Prompt {
		t.Errorf("Lock returned %v after it started, want about %v", took, 3*d)
	}
	if !tryLock(t, lock.NewMySQL("strata_migrations", nil), pin(t, db)) {
		t.Error("lock left held after the waiter gave up")
	}
	if err := conn.PingContext(t.Context()); err != nil {
		t.Errorf("connection broken by the cancellation: %v", err)
	}
}
