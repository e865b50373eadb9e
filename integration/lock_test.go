package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/migration"
)

// reapWait bounds the polling for the server to end a session whose client
// went away: a check of eventual state, not of speed.
const reapWait = 5 * time.Second

// serverView is what a target's server says about the sessions of a
// database and the holders of its migration lock, seen from a pool of its
// own.
type serverView struct {
	// sessions counts the sessions connected to the database.
	sessions func(t *testing.T) int
	// holders lists the sessions holding or awaiting a migration lock of
	// the database, as "session granted|waiting".
	holders func(t *testing.T) []string
	// session returns the server session id of a connection.
	session func(t *testing.T, conn *sql.Conn) string
}

func viewOf(t *testing.T, d *db, probe *sql.DB) serverView {
	t.Helper()
	probe.SetMaxOpenConns(1)
	one := func(query string, args ...any) func(t *testing.T) int {
		return func(t *testing.T) int {
			t.Helper()
			var n int
			if err := probe.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			return n
		}
	}
	sessionOf := func(query string) func(t *testing.T, conn *sql.Conn) string {
		return func(t *testing.T, conn *sql.Conn) string {
			t.Helper()
			var s string
			if err := conn.QueryRowContext(t.Context(), query).Scan(&s); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			return s
		}
	}
	switch d.tgt.Name {
	case "postgres":
		return serverView{
			sessions: one(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()`),
			holders: func(t *testing.T) []string {
				t.Helper()
				return strs(t, probe, `SELECT pid::text || CASE WHEN granted THEN ' granted' ELSE ' waiting' END
					FROM pg_locks WHERE locktype = 'advisory'
					  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
					ORDER BY 1`)
			},
			session: sessionOf(`SELECT pg_backend_pid()::text`),
		}
	case "mysql":
		var dbName string
		if err := probe.QueryRowContext(t.Context(), `SELECT DATABASE()`).Scan(&dbName); err != nil {
			t.Fatal(err)
		}
		name := lock.MySQLLockName(dbName, migration.DefaultTable)
		return serverView{
			sessions: one(`SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE()`),
			holders: func(t *testing.T) []string {
				t.Helper()
				var free int
				if err := probe.QueryRowContext(t.Context(), `SELECT IS_FREE_LOCK(?)`, name).Scan(&free); err != nil {
					t.Fatal(err)
				}
				if free == 1 {
					return nil
				}
				return strs(t, probe, `SELECT CONCAT(IS_USED_LOCK(?), ' granted')`, name)
			},
			session: sessionOf(`SELECT CONNECTION_ID()`),
		}
	default: // SQLite: no server and no sessions; the lock is a file lock.
		return serverView{
			sessions: func(*testing.T) int { return 0 },
			holders: func(t *testing.T) []string {
				t.Helper()
				conn, err := probe.Conn(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				l := d.tgt.Dialect.Locker(dialect.LockOptions{Table: migration.DefaultTable})
				ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
				defer cancel()
				if err := l.Lock(ctx, conn); err != nil {
					return []string{"file lock granted"}
				}
				if err := l.Unlock(t.Context(), conn); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			session: func(*testing.T, *sql.Conn) string { return "" },
		}
	}
}

// eventually polls f until it returns "" or reapWait passes, then fails
// with what f last said.
func eventually(t *testing.T, f func() string) {
	t.Helper()
	deadline := time.Now().Add(reapWait)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", reapWait, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWaiterGivesUp: a migrator waiting for the lock whose context expires,
// or whose lock timeout passes, returns promptly with an error saying so,
// and leaves no lock, no waiting lock request and, once its pool is
// closed, no session behind on the server.
func TestWaiterGivesUp(t *testing.T) {
	const wait = 500 * time.Millisecond
	tests := []struct {
		name string
		opts []migration.Option
		ctx  func(context.Context) (context.Context, context.CancelFunc)
		want error
	}{
		{
			name: "context deadline",
			ctx:  func(ctx context.Context) (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, wait) },
			want: context.DeadlineExceeded,
		},
		{
			name: "lock timeout",
			opts: []migration.Option{migration.WithLockTimeout(wait)},
			ctx:  context.WithCancel,
			want: lock.ErrTimeout,
		},
	}
	for _, tgt := range targets() {
		for _, tt := range tests {
			t.Run(tgt.Name+"/"+tt.name, func(t *testing.T) {
				d := tgt.open(t)
				view := viewOf(t, d, d.reopen())

				// The holder: a migration blocked inside its Up, on a pool
				// of one connection whose session we know.
				d.SetMaxOpenConns(1)
				conn, err := d.Conn(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				holderSession := view.session(t, conn)
				conn.Close()
				wantHolders := []string{holderSession + " granted"}
				if tgt.Name == "sqlite" {
					wantHolders = []string{"file lock granted"}
				}
				g := newGate("slow")
				holder := hold(t, d.manager([]migration.Migration{g}), g)
				if got := view.holders(t); !slices.Equal(got, wantHolders) {
					t.Fatalf("lock holders = %q, want %q", got, wantHolders)
				}
				baseline := view.sessions(t)

				// The waiter, on a pool of its own, as another process.
				wdb := d.reopen()
				wdb.SetMaxOpenConns(1)
				conn, err = wdb.Conn(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				waiterSession := view.session(t, conn)
				conn.Close()
				w := newManager(t, wdb, tgt.Dialect, []migration.Migration{newGate("slow").Func}, tt.opts...)
				ctx, cancel := tt.ctx(t.Context())
				defer cancel()
				start := time.Now()
				_, err = w.Up(ctx)
				took := time.Since(start)
				wantStepErr(t, err, "", migration.StepLock)
				if !errors.Is(err, tt.want) {
					t.Fatalf("error = %v, want %v", err, tt.want)
				}
				t.Logf("the waiter gave up after %v: %v", took.Round(time.Millisecond), err)
				if took > wait+shortWait {
					t.Errorf("the waiter returned %v after it started, with a wait of %v", took, wait)
				}

				// The holder still holds the lock, alone: the waiter took
				// nothing and is not queued.
				if got := view.holders(t); !slices.Equal(got, wantHolders) {
					t.Fatalf("lock holders after the waiter gave up = %q, want %q alone", got, wantHolders)
				}
				if tgt.Name != "sqlite" && waiterSession == holderSession {
					t.Fatalf("waiter and holder share session %s", waiterSession)
				}
				// Closing the waiter's pool ends its session.
				if err := wdb.Close(); err != nil {
					t.Fatal(err)
				}
				eventually(t, func() string {
					if n := view.sessions(t); n != baseline {
						return fmt.Sprintf("%d sessions on the database, want %d as before the waiter", n, baseline)
					}
					return ""
				})

				g.open()
				if _, err := holder.wait(t); err != nil {
					t.Fatalf("holder: %v", err)
				}
				eventually(t, func() string {
					if got := view.holders(t); len(got) > 0 {
						return fmt.Sprintf("lock holders after the holder finished = %q, want none", got)
					}
					return ""
				})
				d.lockFree(migration.DefaultTable)
			})
		}
	}
}

// TestTwoApplications: two applications with version tables of their own
// in one database migrate at the same time without waiting for each other:
// their locks are distinct. (On SQLite the lock is a file lock on the
// whole database, and SQLite has one writer at a time: applications
// sharing a file are serialised by design, so it is not a target here.)
func TestTwoApplications(t *testing.T) {
	for _, tgt := range targets() {
		if tgt.Name == "sqlite" {
			continue
		}
		t.Run(tgt.Name, func(t *testing.T) {
			d := tgt.open(t)
			// App A is in the middle of a long migration, holding its lock.
			g := newGate("a_slow", "a_base")
			a := newManager(t, d.reopen(), tgt.Dialect, []migration.Migration{table("a_base"), g}, migration.WithTable("app_a_migrations"))
			holder := hold(t, a, g)

			// App B migrates meanwhile; waiting for A would fail it.
			b := newManager(t, d.reopen(), tgt.Dialect, []migration.Migration{table("b_base"), table("b_next", "b_base")},
				migration.WithTable("app_b_migrations"), migration.WithLockTimeout(refusedWait))
			res, err := b.Up(t.Context())
			if err != nil {
				t.Fatalf("app B while app A migrates: %v", err)
			}
			wantIDs(t, "applied by B", resultIDs(res), []string{"b_base", "b_next"})
			select {
			case <-holder.done:
				t.Fatal("app A finished before it was let through")
			default:
			}
			// A's own lock is still held: a second A waits.
			_, err = newManager(t, d.reopen(), tgt.Dialect, []migration.Migration{table("a_base"), g.Func},
				migration.WithTable("app_a_migrations"), migration.WithLockTimeout(refusedWait)).Up(t.Context())
			if !errors.Is(err, lock.ErrTimeout) {
				t.Fatalf("a second app A = %v, want lock.ErrTimeout", err)
			}

			g.open()
			res, err = holder.wait(t)
			if err != nil {
				t.Fatalf("app A: %v", err)
			}
			wantIDs(t, "applied by A", resultIDs(res), []string{"a_base", "a_slow"})
			wantIDs(t, "tables", d.tables(), []string{"t_a_base", "t_a_slow", "t_b_base", "t_b_next"})
			if h := applied(t, b); !slices.Equal(h, []string{"b_base", "b_next"}) || strings.Join(applied(t, a), ",") != "a_base,a_slow" {
				t.Fatalf("histories: A %q, B %q", applied(t, a), h)
			}
		})
	}
}

// TestCancelledMidStatement cancels a run while its migration's statement
// runs on the server. The run returns at once with the context's error.
// With transactional DDL the migration is rolled back and pending; on MySQL
// it is dirty. The lock becomes free once the server has ended the
// statement: at once on PostgreSQL (the session ends) and SQLite (the
// statement is interrupted); on MySQL the driver closes the connection
// without stopping the statement, so the session, and the lock, last until
// the statement finishes on its own.
func TestCancelledMidStatement(t *testing.T) {
	// A statement that runs far longer than the test waits for the lock
	// to come free: the lock must be free because the statement was
	// stopped, not because it ended.
	const statement = 10 * time.Minute
	slowSQL := map[string]string{
		// Minutes of work, unless interrupted.
		"sqlite":   `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT count(*) FROM c`,
		"postgres": fmt.Sprintf(`SELECT pg_sleep(%g)`, statement.Seconds()),
		// Not SLEEP, which MySQL stops when the client goes away: BENCHMARK
		// runs on, as DDL does, until it ends or the session is killed.
		"mysql": `SELECT BENCHMARK(1000000000000, MD5('strata'))`,
	}
	for _, tgt := range targets() {
		t.Run(tgt.Name, func(t *testing.T) {
			d := tgt.open(t)
			slow := table("slow")
			up := slow.UpFn
			slow.UpFn = func(ctx context.Context, tx *migration.Tx) error {
				if err := up(ctx, tx); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, slowSQL[tgt.Name])
				return err
			}
			ms := []migration.Migration{slow}
			if tgt.Name == "mysql" {
				t.Cleanup(func() { killLeftovers(t, d.reopen(), "SELECT BENCHMARK(1000000000000%") })
			}
			ctx, cancel := context.WithTimeout(t.Context(), refusedWait)
			defer cancel()
			start := time.Now()
			res, err := d.manager(ms).Up(ctx)
			took := time.Since(start)
			wantStepErr(t, err, "slow", migration.StepUp)
			if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "interrupt") {
				t.Fatalf("Up = %v, want the context's error", err)
			}
			t.Logf("Up returned after %v: %v", took.Round(time.Millisecond), err)
			if took > refusedWait+shortWait {
				t.Errorf("Up returned %v after it started, its context expired after %v", took, refusedWait)
			}
			wantIDs(t, "results", resultIDs(res), []string{"slow"})

			// The lock is free: the statement was stopped (pgx cancels it on
			// the server; on MySQL the manager ends the session).
			other := d.reopen()
			start = time.Now()
			lockFreeWithin(t, other, tgt, reapWait)
			t.Logf("the lock was free %v after Up returned", time.Since(start).Round(time.Millisecond))
			m := d.manager(ms)
			st, err := m.Status(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if tgt.Transactional() {
				wantIDs(t, "status", states(st), []string{"slow=pending"})
				wantIDs(t, "tables", d.tables(), nil)
				return
			}
			wantIDs(t, "status", states(st), []string{"slow=dirty"})
			d.exec(`DROP TABLE t_slow`)
			if err := m.Repair(t.Context(), "slow", false); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// killLeftovers kills the MySQL statements like pattern still running, so
// that a failed test leaves no busy session behind.
func killLeftovers(t *testing.T, db *sql.DB, pattern string) {
	ctx, cancel := context.WithTimeout(context.Background(), shortWait)
	defer cancel()
	rows, err := db.QueryContext(ctx, `SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()`, pattern)
	if err != nil {
		t.Errorf("look for leftover statements: %v", err)
		return
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err == nil {
			ids = append(ids, id)
		}
	}
	rows.Close()
	for _, id := range ids {
		t.Errorf("session %d still runs the cancelled migration's statement; killing it", id)
		if _, err := db.ExecContext(ctx, fmt.Sprintf("KILL %d", id)); err != nil {
			t.Log(err)
		}
	}
}

// lockFreeWithin takes and releases the migration lock from other, waiting
// at most wait for it.
func lockFreeWithin(t *testing.T, other *sql.DB, tgt Target, wait time.Duration) {
	t.Helper()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	l := tgt.Dialect.Locker(dialect.LockOptions{Table: migration.DefaultTable})
	ctx, cancel := context.WithTimeoutCause(t.Context(), wait, lock.ErrTimeout)
	defer cancel()
	if err := l.Lock(ctx, conn); err != nil {
		t.Fatalf("the migration lock is not free after %v: %v", wait, err)
	}
	if err := l.Unlock(context.WithoutCancel(ctx), conn); err != nil {
		t.Fatal(err)
	}
}
