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
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/lock/locktest"
)

// server is a database server whose session lock ([lock.Postgres],
// [lock.MySQL]) the tests of this file check alike.
type server struct {
	name string
	// open returns a fresh database, dropped when the test ends, whose
	// pool allows many connections, and its DSN.
	open func(t testing.TB) (*sql.DB, string)
	// driver, env, address and withAddress reach the server through a
	// proxy: the database/sql driver name, the variable of its test DSN,
	// the DSN's TCP address and the DSN with another address.
	driver, env string
	address     func(dsn string) (string, error)
	withAddress func(dsn, addr string) (string, error)
	// newLocker returns the server's locker of the version table table.
	newLocker func(table string, log *slog.Logger) lock.Locker
	// sharedTable is the table of the locker one conformance run shares
	// between all its migrators.
	sharedTable string
	// sessionQuery returns the id of a connection's session, which the
	// locker's holder description shows as fmt.Sprintf(describe, id).
	sessionQuery, describe string
	// holderSetup runs on the holder's connection in TestServerHolder,
	// whose description must then contain each of holderWants(id).
	holderSetup string
	holderWants func(id int64) []string
}

var (
	pg = server{
		name:   "postgres",
		open:   pgtest.New,
		driver: "pgx", env: testdb.PostgresEnv,
		address: pgtest.Address, withAddress: pgtest.WithAddress,
		newLocker: func(table string, log *slog.Logger) lock.Locker {
			return lock.NewPostgres(table, log)
		},
		sharedTable:  "app.strata_migrations",
		sessionQuery: `SELECT pg_backend_pid()`, describe: "pid %d",
		holderSetup: `SET application_name = 'strata holder test'`,
		holderWants: func(id int64) []string {
			return []string{fmt.Sprintf("pid %d", id), `application "strata holder test"`, "connected since", "idle since"}
		},
	}
	my = server{
		name:   "mysql",
		open:   mytest.New,
		driver: "mysql", env: testdb.MySQLEnv,
		address: mytest.Address, withAddress: mytest.WithAddress,
		newLocker: func(table string, log *slog.Logger) lock.Locker {
			return lock.NewMySQL(table, log)
		},
		sharedTable:  "other_db.strata_migrations",
		sessionQuery: `SELECT CONNECTION_ID()`, describe: "connection id %d",
		holderWants: func(id int64) []string {
			return []string{fmt.Sprintf("connection id %d,", id), "user ", "Sleep"}
		},
	}
	servers = []server{pg, my}
)

// forEachServer runs test as a subtest for each server.
func forEachServer(t *testing.T, test func(t *testing.T, s server)) {
	t.Helper()
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) { test(t, s) })
	}
}

// db returns a fresh database of s, shared by the subtests of one test.
func (s server) db(t *testing.T) *sql.DB {
	t.Helper()
	db, _ := s.open(t)
	return db
}

// locker returns a silent locker of the default version table.
func (s server) locker() lock.Locker { return s.newLocker("strata_migrations", nil) }

// session returns the id of conn's session.
func (s server) session(t *testing.T, conn *sql.Conn) int64 {
	t.Helper()
	var id int64
	if err := conn.QueryRowContext(t.Context(), s.sessionQuery).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// holderOf calls the Holder method of l, which both session lockers have.
func holderOf(ctx context.Context, l lock.Locker, conn *sql.Conn) string {
	return l.(interface {
		Holder(ctx context.Context, conn *sql.Conn) string
	}).Holder(ctx, conn)
}

func TestServerConformance(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server) {
		t.Run("separate", func(t *testing.T) {
			locktest.Run(t, s.db(t), s.locker)
		})
		t.Run("shared", func(t *testing.T) {
			l := s.newLocker(s.sharedTable, nil)
			locktest.Run(t, s.db(t), func() lock.Locker { return l })
		})
	})
}

func TestServerLockTwiceSameConn(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server) {
		db := s.db(t)
		a, b := pin(t, db), pin(t, db)
		l := s.locker()
		mustLock(t, l, a)
		if err := l.Lock(t.Context(), a); err == nil {
			t.Error("second Lock on the same connection: got nil, want an error")
		}
		mustUnlock(t, l, a) // one unlock must free it
		if !tryLock(t, l, b) {
			t.Error("still locked after one unlock")
		}
	})
}

func TestServerUnlockWithCancelledContext(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server) {
		db := s.db(t)
		a, b := pin(t, db), pin(t, db)
		l := s.locker()
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
	})
}

func TestServerHolder(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server) {
		db := s.db(t)
		a, b := pin(t, db), pin(t, db)
		if s.holderSetup != "" {
			if _, err := a.ExecContext(t.Context(), s.holderSetup); err != nil {
				t.Fatal(err)
			}
		}
		id := s.session(t, a)
		l := s.locker()
		if h := holderOf(t.Context(), l, b); h != "" {
			t.Errorf("Holder of a free lock = %q, want empty", h)
		}
		mustLock(t, l, a)
		defer mustUnlock(t, l, a)
		h := holderOf(t.Context(), l, b)
		for _, want := range s.holderWants(id) {
			if !strings.Contains(h, want) {
				t.Errorf("Holder = %q, want it to contain %q", h, want)
			}
		}
	})
}

func TestServerLogsWhileWaiting(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for lock.LogEvery")
	}
	forEachServer(t, func(t *testing.T, s server) {
		t.Parallel()
		db := s.db(t)
		a, b := pin(t, db), pin(t, db)
		id := s.session(t, a)
		holder := s.locker()
		mustLock(t, holder, a)
		defer mustUnlock(t, holder, a)

		var buf syncBuffer
		waiter := s.newLocker("strata_migrations", slog.New(slog.NewTextHandler(&buf, nil)))
		ctx, cancel := context.WithTimeoutCause(t.Context(), lock.LogEvery+time.Second, lock.ErrTimeout)
		defer cancel()
		err := waiter.Lock(ctx, b)
		if !errors.Is(err, lock.ErrTimeout) {
			t.Fatalf("lock: %v, want lock.ErrTimeout", err)
		}
		who := fmt.Sprintf(s.describe, id)
		if out := buf.String(); !strings.Contains(out, "waiting for migration lock") || !strings.Contains(out, who) {
			t.Errorf("log %q does not say who holds the lock (%s)", out, who)
		}
	})
}

// TestServerCancelledWhileAttemptInFlight cancels a waiter while the
// answer to its attempt (pg_try_advisory_lock, GET_LOCK), which granted
// the lock, is still on its way: Lock must read it, release the lock, and
// fail with the context's error, leaving nothing held and the connection
// intact.
func TestServerCancelledWhileAttemptInFlight(t *testing.T) {
	forEachServer(t, func(t *testing.T, s server) {
		db, dsn := s.open(t)
		upstream, err := s.address(dsn)
		if err != nil {
			t.Fatalf("this test needs a TCP server in %s: %v", s.env, err)
		}
		p := testdb.NewProxy(t, upstream)
		proxied, err := s.withAddress(dsn, p.Addr)
		if err != nil {
			t.Fatal(err)
		}
		pdb, err := sql.Open(s.driver, proxied)
		if err != nil {
			t.Fatal(err)
		}
		defer pdb.Close()
		conn := pin(t, pdb)
		if err := conn.PingContext(t.Context()); err != nil {
			t.Fatal(err)
		}

		const d = 300 * time.Millisecond
		l := s.locker()
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
		if !tryLock(t, s.locker(), pin(t, db)) {
			t.Error("lock left held after the waiter gave up")
		}
		if err := conn.PingContext(t.Context()); err != nil {
			t.Errorf("connection broken by the cancellation: %v", err)
		}
	})
}

// conflictCase is a lock of the version table want tried while another
// connection holds that of held.
type conflictCase struct {
	name       string
	held, want string
	conflict   bool
}

// testConflicts checks that the locks of tests conflict as they say.
func testConflicts(t *testing.T, db *sql.DB, newLocker func(table string, log *slog.Logger) lock.Locker, tests []conflictCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := pin(t, db), pin(t, db)
			la, lb := newLocker(tt.held, nil), newLocker(tt.want, nil)
			mustLock(t, la, a)
			defer mustUnlock(t, la, a)
			if got := tryLock(t, lb, b); got == tt.conflict {
				t.Errorf("lock %q while %q is held: taken = %v, want %v", tt.want, tt.held, got, !tt.conflict)
			}
		})
	}
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
