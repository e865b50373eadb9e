package lock_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-go/strata/internal/testdb"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/lock/locktest"
)

func TestPostgresKey(t *testing.T) {
	base := lock.PostgresKey("app", "public", "strata_migrations")
	if again := lock.PostgresKey("app", "public", "strata_migrations"); again != base {
		t.Fatalf("key not deterministic: %d then %d", base, again)
	}
	tests := []struct {
		name                    string
		database, schema, table string
	}{
		{"other database", "app2", "public", "strata_migrations"},
		{"other schema", "app", "tenant", "strata_migrations"},
		{"other table", "app", "public", "versions"},
		{"parts shifted", "app", "publicstrata", "_migrations"},
		{"parts swapped", "public", "app", "strata_migrations"},
	}
	seen := map[int64]string{base: "base"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := lock.PostgresKey(tt.database, tt.schema, tt.table)
			if prev, dup := seen[k]; dup {
				t.Errorf("key %d equals that of %s", k, prev)
			}
			seen[k] = tt.name
		})
	}
}

// pgDB returns a fresh database shared by the subtests of one test, whose
// pool allows many connections.
func pgDB(t *testing.T) *sql.DB {
	t.Helper()
	db, _ := pgtest.New(t)
	return db
}

func TestPostgresConformance(t *testing.T) {
	db := pgDB(t)
	locktest.Run(t, db, func() lock.Locker { return lock.NewPostgres("strata_migrations", nil) })
}

func TestPostgresConformanceShared(t *testing.T) {
	db := pgDB(t)
	l := lock.NewPostgres("app.strata_migrations", nil)
	locktest.Run(t, db, func() lock.Locker { return l })
}

// pin returns a pinned connection closed when the test ends.
func pin(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func mustLock(t *testing.T, l lock.Locker, conn *sql.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := l.Lock(ctx, conn); err != nil {
		t.Fatalf("lock: %v", err)
	}
}

func mustUnlock(t *testing.T, l lock.Locker, conn *sql.Conn) {
	t.Helper()
	if err := l.Unlock(context.WithoutCancel(t.Context()), conn); err != nil {
		t.Fatalf("unlock: %v", err)
	}
}

// tryLock tries to lock within 200ms and reports whether it did; a lock
// taken is released at once.
func tryLock(t *testing.T, l lock.Locker, conn *sql.Conn) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err := l.Lock(ctx, conn)
	if err == nil {
		mustUnlock(t, l, conn)
		return true
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock failed for another reason than the deadline: %v", err)
	}
	return false
}

func TestPostgresTablesLockIndependently(t *testing.T) {
	db := pgDB(t)
	if _, err := db.ExecContext(t.Context(), `CREATE SCHEMA tenant`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		held, want string
		conflict   bool
	}{
		{"same table", "strata_migrations", "strata_migrations", true},
		{"qualified by the current schema", "strata_migrations", "public.strata_migrations", true},
		{"other table", "strata_migrations", "billing_migrations", false},
		{"same table in another schema", "strata_migrations", "tenant.strata_migrations", false},
		{"other schema unqualified vs qualified", "tenant.strata_migrations", "public.strata_migrations", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := pin(t, db), pin(t, db)
			la, lb := lock.NewPostgres(tt.held, nil), lock.NewPostgres(tt.want, nil)
			mustLock(t, la, a)
			defer mustUnlock(t, la, a)
			if got := tryLock(t, lb, b); got == tt.conflict {
				t.Errorf("lock %q while %q is held: taken = %v, want %v", tt.want, tt.held, got, !tt.conflict)
			}
		})
	}
}

func TestPostgresDatabasesLockIndependently(t *testing.T) {
	db1, db2 := pgDB(t), pgDB(t)
	a, b := pin(t, db1), pin(t, db2)
	la, lb := lock.NewPostgres("strata_migrations", nil), lock.NewPostgres("strata_migrations", nil)
	mustLock(t, la, a)
	defer mustUnlock(t, la, a)
	if !tryLock(t, lb, b) {
		t.Error("the version table of another database is locked too")
	}
}

func TestPostgresSearchPath(t *testing.T) {
	db := pgDB(t)
	if _, err := db.ExecContext(t.Context(), `CREATE SCHEMA tenant`); err != nil {
		t.Fatal(err)
	}
	a, b := pin(t, db), pin(t, db)
	if _, err := b.ExecContext(t.Context(), `SET search_path = tenant, public`); err != nil {
		t.Fatal(err)
	}
	l := lock.NewPostgres("strata_migrations", nil)
	mustLock(t, l, a) // public.strata_migrations
	defer mustUnlock(t, l, a)
	if !tryLock(t, l, b) {
		t.Error("unqualified table under search_path tenant conflicts with public's")
	}
	if tryLock(t, lock.NewPostgres("public.strata_migrations", nil), b) {
		t.Error("public.strata_migrations free while held")
	}

	c := pin(t, db)
	if _, err := c.ExecContext(t.Context(), `SET search_path = nowhere`); err != nil {
		t.Fatal(err)
	}
	err := l.Lock(t.Context(), c)
	if err == nil {
		mustUnlock(t, l, c)
		t.Fatal("locked an unqualified table with no existing schema on the search_path")
	}
	if !strings.Contains(err.Error(), "current_schema") {
		t.Errorf("error %q does not explain the empty search_path", err)
	}
}

func TestPostgresLockTwiceSameConn(t *testing.T) {
	db := pgDB(t)
	a, b := pin(t, db), pin(t, db)
	l := lock.NewPostgres("strata_migrations", nil)
	mustLock(t, l, a)
	if err := l.Lock(t.Context(), a); err == nil {
		t.Error("second Lock on the same connection: got nil, want an error")
	}
	mustUnlock(t, l, a) // one unlock must free it
	if !tryLock(t, l, b) {
		t.Error("still locked after one unlock")
	}
}

func TestPostgresUnlockWithCancelledContext(t *testing.T) {
	db := pgDB(t)
	a, b := pin(t, db), pin(t, db)
	l := lock.NewPostgres("strata_migrations", nil)
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
	// The connection is still usable: cancelling did not break it.
	if err := a.PingContext(t.Context()); err != nil {
		t.Errorf("connection broken: %v", err)
	}
}

func TestPostgresUnlockByAnotherLocker(t *testing.T) {
	// A Locker that did not take the lock asks the server, which knows the
	// session holds it.
	db := pgDB(t)
	a, b := pin(t, db), pin(t, db)
	mustLock(t, lock.NewPostgres("strata_migrations", nil), a)
	mustUnlock(t, lock.NewPostgres("strata_migrations", nil), a)
	if !tryLock(t, lock.NewPostgres("strata_migrations", nil), b) {
		t.Error("still locked")
	}
}

func TestPostgresHolder(t *testing.T) {
	db := pgDB(t)
	a, b := pin(t, db), pin(t, db)
	if _, err := a.ExecContext(t.Context(), `SET application_name = 'strata holder test'`); err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := a.QueryRowContext(t.Context(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	l := lock.NewPostgres("strata_migrations", nil)
	if h := l.Holder(t.Context(), b); h != "" {
		t.Errorf("Holder of a free lock = %q, want empty", h)
	}
	mustLock(t, l, a)
	defer mustUnlock(t, l, a)
	h := l.Holder(t.Context(), b)
	for _, want := range []string{fmt.Sprintf("pid %d", pid), `application "strata holder test"`, "connected since", "idle since"} {
		if !strings.Contains(h, want) {
			t.Errorf("Holder = %q, want it to contain %q", h, want)
		}
	}
}

func TestPostgresLogsWhileWaiting(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for lock.LogEvery")
	}
	db := pgDB(t)
	a, b := pin(t, db), pin(t, db)
	var pid int
	if err := a.QueryRowContext(t.Context(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	holder := lock.NewPostgres("strata_migrations", nil)
	mustLock(t, holder, a)
	defer mustUnlock(t, holder, a)

	var buf syncBuffer
	waiter := lock.NewPostgres("strata_migrations", slog.New(slog.NewTextHandler(&buf, nil)))
	ctx, cancel := context.WithTimeoutCause(t.Context(), lock.LogEvery+time.Second, lock.ErrTimeout)
	defer cancel()
	err := waiter.Lock(ctx, b)
	if !errors.Is(err, lock.ErrTimeout) {
		t.Fatalf("lock: %v, want lock.ErrTimeout", err)
	}
	if out := buf.String(); !strings.Contains(out, "waiting for migration lock") || !strings.Contains(out, fmt.Sprintf("pid %d", pid)) {
		t.Errorf("log %q does not say who holds the lock (pid %d)", out, pid)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPostgresCancelledWhileAttemptInFlight cancels a waiter while the
// answer to its pg_try_advisory_lock, which granted the lock, is still on
// its way: Lock must read it, release the lock, and fail with the
// context's error, leaving nothing held and the connection intact.
func TestPostgresCancelledWhileAttemptInFlight(t *testing.T) {
	db, dsn := pgtest.New(t)
	upstream, err := pgtest.Address(dsn)
	if err != nil {
		t.Fatalf("this test needs a TCP server in %s: %v", testdb.PostgresEnv, err)
	}
	p := testdb.NewProxy(t, upstream)
	proxied, err := pgtest.WithAddress(dsn, p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	pdb, err := sql.Open("pgx", proxied)
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	conn := pin(t, pdb)
	if err := conn.PingContext(t.Context()); err != nil {
		t.Fatal(err)
	}

	const d = 300 * time.Millisecond
	l := lock.NewPostgres("strata_migrations", nil)
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
	if !tryLock(t, lock.NewPostgres("strata_migrations", nil), pin(t, db)) {
		t.Error("lock left held after the waiter gave up")
	}
	if err := conn.PingContext(t.Context()); err != nil {
		t.Errorf("connection broken by the cancellation: %v", err)
	}
}

// pgPid returns the backend pid of conn's session.
func pgPid(t *testing.T, conn *sql.Conn) int {
	t.Helper()
	var pid int
	if err := conn.QueryRowContext(t.Context(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

// pgWaiting reports whether the session pid waits for an advisory lock,
// and since when its statement runs.
func pgWaiting(ctx context.Context, db *sql.DB, pid int) (bool, time.Time, error) {
	var since time.Time
	err := db.QueryRowContext(ctx, `SELECT a.query_start
		FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
		WHERE l.pid = $1 AND l.locktype = 'advisory' AND NOT l.granted`, pid).Scan(&since)
	if errors.Is(err, sql.ErrNoRows) {
		return false, time.Time{}, nil
	}
	return err == nil, since, err
}

// pgAdvisoryLocks counts the advisory locks the session pid holds.
func pgAdvisoryLocks(t *testing.T, db *sql.DB, pid int) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_catalog.pg_locks
		WHERE pid = $1 AND locktype = 'advisory' AND granted`, pid).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPostgresHandOverInServer checks that a waiter waits inside the
// server, and that on release the server hands it the lock: the statement
// that was waiting is the one that took it, with no further attempt.
func TestPostgresHandOverInServer(t *testing.T) {
	db := pgDB(t)
	a, b := pin(t, db), pin(t, db)
	pid := pgPid(t, b)
	holder := lock.NewPostgres("strata_migrations", nil)
	mustLock(t, holder, a)
	// One wait spans the whole test, so that a new attempt would show.
	waiter := lock.NewPostgres("strata_migrations", nil)
	waiter.AttemptTimeout = time.Hour
	lock.SetWait(waiter, 10*time.Minute)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := lockAsync(ctx, waiter, b)

	var since time.Time
	waitUntil(t, "the waiter waits in the server", func(ctx context.Context) (bool, error) {
		ok, start, err := pgWaiting(ctx, db, pid)
		since = start
		return ok, err
	})
	mustUnlock(t, holder, a)
	if err := ended(t, done, 0); err != nil {
		t.Fatalf("waiter: %v", err)
	}
	defer mustUnlock(t, waiter, b)

	var last time.Time
	var query string
	if err := db.QueryRowContext(t.Context(), `SELECT query_start, query FROM pg_catalog.pg_stat_activity WHERE pid = $1`, pid).Scan(&last, &query); err != nil {
		t.Fatal(err)
	}
	if !last.Equal(since) || !strings.Contains(query, "pg_advisory_lock") {
		t.Errorf("the waiter's last statement is %q started %v, want the pg_advisory_lock that was waiting since %v", query, last, since)
	}
	if n := pgAdvisoryLocks(t, db, pid); n != 1 {
		t.Errorf("the waiter holds %d advisory locks, want 1", n)
	}
}

// TestPostgresCancelWaiter cancels a waiter while it waits in the server:
// Lock must end without waiting for the holder, hold nothing, and leave
// the connection usable.
func TestPostgresCancelWaiter(t *testing.T) {
	db := pgDB(t)
	a, b := pin(t, db), pin(t, db)
	pid := pgPid(t, b)
	holder := lock.NewPostgres("strata_migrations", nil)
	mustLock(t, holder, a)
	defer mustUnlock(t, holder, a)

	waiter := lock.NewPostgres("strata_migrations", nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := lockAsync(ctx, waiter, b)
	waitUntil(t, "the waiter waits in the server", func(ctx context.Context) (bool, error) {
		ok, _, err := pgWaiting(ctx, db, pid)
		return ok, err
	})
	cancel()
	err := ended(t, done, lock.PostgresWait)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("lock: %v, want context.Canceled", err)
	}
	if n := pgAdvisoryLocks(t, db, pid); n != 0 {
		t.Errorf("the cancelled waiter holds %d advisory locks", n)
	}
	if waiting, _, err := pgWaiting(t.Context(), db, pid); err != nil || waiting {
		t.Errorf("the cancelled waiter still waits (%v)", err)
	}
	var one int
	if err := b.QueryRowContext(t.Context(), `SELECT 1`).Scan(&one); err != nil {
		t.Errorf("connection broken by the cancellation: %v", err)
	}
	if err := waiter.Unlock(t.Context(), b); err == nil {
		t.Error("unlock after a cancelled Lock: got nil, want an error")
	}
}

// pgTimeouts returns the session's lock_timeout and statement_timeout.
func pgTimeouts(t *testing.T, conn *sql.Conn) [2]string {
	t.Helper()
	var v [2]string
	if err := conn.QueryRowContext(t.Context(), `SELECT current_setting('lock_timeout'), current_setting('statement_timeout')`).Scan(&v[0], &v[1]); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPostgresSessionTimeouts checks that Lock works under the
// lock_timeout and statement_timeout a user set on the session, and leaves
// them as they were, whether its waits ran out, were cut short or took the
// lock.
func TestPostgresSessionTimeouts(t *testing.T) {
	tests := []struct {
		name string
		set  string
		cut  bool // statement_timeout cuts the waits short
	}{
		{"longer than a wait", `SET lock_timeout = '7s'; SET statement_timeout = '9s'`, false},
		{"lock_timeout shorter than a wait", `SET lock_timeout = '1ms'`, false},
		{"statement_timeout shorter than a wait", `SET statement_timeout = '20ms'`, true},
	}
	db := pgDB(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := pin(t, db), pin(t, db)
			pid := pgPid(t, b)
			for stmt := range strings.SplitSeq(tt.set, "; ") {
				if _, err := b.ExecContext(t.Context(), stmt); err != nil {
					t.Fatal(err)
				}
			}
			before := pgTimeouts(t, b)
			holder := lock.NewPostgres("strata_migrations", nil)
			mustLock(t, holder, a)
			held := true
			defer func() {
				if held {
					mustUnlock(t, holder, a)
				}
			}()

			var buf syncBuffer
			waiter := lock.NewPostgres("strata_migrations", slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := lockAsync(ctx, waiter, b)
			if tt.cut {
				waitUntil(t, "a wait was cut short", func(context.Context) (bool, error) {
					return strings.Contains(buf.String(), "57014"), nil
				})
			}
			// Wait for a new wait in the server, after any cut.
			waitUntil(t, "the waiter waits in the server", func(ctx context.Context) (bool, error) {
				ok, _, err := pgWaiting(ctx, db, pid)
				return ok, err
			})
			cancel()
			if err := ended(t, done, lock.PostgresWait); !errors.Is(err, context.Canceled) {
				t.Fatalf("lock: %v, want context.Canceled", err)
			}
			if after := pgTimeouts(t, b); after != before {
				t.Errorf("after a cancelled Lock, lock_timeout and statement_timeout = %q, want %q", after, before)
			}

			// Granted during a wait.
			done = lockAsync(t.Context(), waiter, b)
			waitUntil(t, "the waiter waits in the server", func(ctx context.Context) (bool, error) {
				ok, _, err := pgWaiting(ctx, db, pid)
				return ok, err
			})
			mustUnlock(t, holder, a)
			held = false
			if err := ended(t, done, lock.PostgresWait); err != nil {
				t.Fatalf("lock: %v", err)
			}
			if after := pgTimeouts(t, b); after != before {
				t.Errorf("after a Lock, lock_timeout and statement_timeout = %q, want %q", after, before)
			}
			mustUnlock(t, waiter, b)
		})
	}
}
