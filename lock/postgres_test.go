package lock_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/lock"
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

func TestPostgresTablesLockIndependently(t *testing.T) {
	db := pg.db(t)
	if _, err := db.ExecContext(t.Context(), `CREATE SCHEMA tenant`); err != nil {
		t.Fatal(err)
	}
	testConflicts(t, db, func(table string, log *slog.Logger) lock.Locker {
		return lock.NewPostgres(table, log)
	}, []conflictCase{
		{"same table", "strata_migrations", "strata_migrations", true},
		{"qualified by the current schema", "strata_migrations", "public.strata_migrations", true},
		{"other table", "strata_migrations", "billing_migrations", false},
		{"same table in another schema", "strata_migrations", "tenant.strata_migrations", false},
		{"other schema unqualified vs qualified", "tenant.strata_migrations", "public.strata_migrations", false},
	})
}

func TestPostgresDatabasesLockIndependently(t *testing.T) {
	db1, db2 := pg.db(t), pg.db(t)
	a, b := pin(t, db1), pin(t, db2)
	la, lb := lock.NewPostgres("strata_migrations", nil), lock.NewPostgres("strata_migrations", nil)
	mustLock(t, la, a)
	defer mustUnlock(t, la, a)
	if !tryLock(t, lb, b) {
		t.Error("the version table of another database is locked too")
	}
}

func TestPostgresSearchPath(t *testing.T) {
	db := pg.db(t)
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

func TestPostgresUnlockByAnotherLocker(t *testing.T) {
	// A Locker that did not take the lock asks the server, which knows the
	// session holds it.
	db := pg.db(t)
	a, b := pin(t, db), pin(t, db)
	mustLock(t, lock.NewPostgres("strata_migrations", nil), a)
	mustUnlock(t, lock.NewPostgres("strata_migrations", nil), a)
	if !tryLock(t, lock.NewPostgres("strata_migrations", nil), b) {
		t.Error("still locked")
	}
}

// pgWaiting reports whether the session pid waits for an advisory lock,
// and since when its statement runs.
func pgWaiting(ctx context.Context, db *sql.DB, pid int64) (bool, time.Time, error) {
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
func pgAdvisoryLocks(t *testing.T, db *sql.DB, pid int64) int {
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
	db := pg.db(t)
	a, b := pin(t, db), pin(t, db)
	pid := pg.session(t, b)
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
	db := pg.db(t)
	a, b := pin(t, db), pin(t, db)
	pid := pg.session(t, b)
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
	db := pg.db(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := pin(t, db), pin(t, db)
			pid := pg.session(t, b)
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
