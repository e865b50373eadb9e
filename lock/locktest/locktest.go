package locktest

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-go/strata/lock"
)

// Prompt is how soon after a release a waiter must have taken the lock, and
// how soon after its deadline a waiter must have given up. It is generous on
// purpose: the suite checks that nothing waits for a timeout, not speed.
const Prompt = 2 * time.Second

// short is the deadline of waiters that are expected to give up.
const short = 200 * time.Millisecond

// Run runs the suite as subtests of t. newLocker must return, on every
// call, a Locker for the same lock (a new value or a shared one), as two
// migrators of one database would each have; the suite calls it once per
// contender. Connections are taken from db, which must allow at least ten
// open connections. Every subtest releases what it takes, even on failure.
func Run(t *testing.T, db *sql.DB, newLocker func() lock.Locker) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"LockUnlock", testLockUnlock},
		{"UnlockNotHeld", testUnlockNotHeld},
		{"UnlockOtherConn", testUnlockOtherConn},
		{"Exclusive", testExclusive},
		{"HandOverPromptly", testHandOver},
		{"DeadlineExceeded", testDeadline},
		{"TimeoutCause", testTimeoutCause},
		{"Canceled", testCanceled},
		{"NothingLeftBehind", testNothingLeftBehind},
		{"MutualExclusion", testMutualExclusion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, &suite{db: db, newLocker: newLocker})
		})
	}
}

type suite struct {
	db        *sql.DB
	newLocker func() lock.Locker
}

// migrator is one contender: a pinned connection and its own Locker.
type migrator struct {
	t    *testing.T
	conn *sql.Conn
	l    lock.Locker

	mu   sync.Mutex
	held bool
}

// migrator pins a connection and makes a Locker for it. The cleanup
// releases the lock if the test left it held, then the connection.
func (s *suite) migrator(t *testing.T) *migrator {
	t.Helper()
	conn, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatalf("pin a connection: %v", err)
	}
	m := &migrator{t: t, conn: conn, l: s.newLocker()}
	t.Cleanup(func() {
		m.mu.Lock()
		held := m.held
		m.mu.Unlock()
		if held {
			if err := m.l.Unlock(context.Background(), conn); err != nil {
				t.Errorf("cleanup: unlock: %v", err)
			}
		}
		conn.Close()
	})
	return m
}

func (m *migrator) lock(ctx context.Context) error {
	err := m.l.Lock(ctx, m.conn)
	if err == nil {
		m.mu.Lock()
		m.held = true
		m.mu.Unlock()
	}
	return err
}

func (m *migrator) unlock(ctx context.Context) error {
	err := m.l.Unlock(ctx, m.conn)
	m.mu.Lock()
	m.held = false
	m.mu.Unlock()
	return err
}

func (m *migrator) mustLock() {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), 10*time.Second)
	defer cancel()
	if err := m.lock(ctx); err != nil {
		m.t.Fatalf("lock: %v", err)
	}
}

func (m *migrator) mustUnlock() {
	m.t.Helper()
	if err := m.unlock(context.WithoutCancel(m.t.Context())); err != nil {
		m.t.Fatalf("unlock: %v", err)
	}
}

// mustNotLock checks that m cannot take the lock within a short deadline,
// and that it gives up promptly with an error wrapping
// context.DeadlineExceeded.
func (m *migrator) mustNotLock() {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), short)
	defer cancel()
	start := time.Now()
	err := m.lock(ctx)
	took := time.Since(start)
	if err == nil {
		m.t.Fatal("lock taken while another connection holds it")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		m.t.Errorf("lock with an expired deadline: got %v, want an error wrapping context.DeadlineExceeded", err)
	}
	if took > short+Prompt {
		m.t.Errorf("lock gave up %v after a %v deadline, want within %v", took, short, Prompt)
	}
}

func testLockUnlock(t *testing.T, s *suite) {
	a := s.migrator(t)
	for range 2 {
		a.mustLock()
		a.mustUnlock()
	}
	b := s.migrator(t)
	b.mustLock()
	b.mustUnlock()
}

func testUnlockNotHeld(t *testing.T, s *suite) {
	a := s.migrator(t)
	if err := a.unlock(t.Context()); err == nil {
		t.Error("unlock without lock: got nil, want an error")
	}
	a.mustLock()
	a.mustUnlock()
	if err := a.unlock(t.Context()); err == nil {
		t.Error("second unlock: got nil, want an error")
	}
}

func testUnlockOtherConn(t *testing.T, s *suite) {
	a, b, c := s.migrator(t), s.migrator(t), s.migrator(t)
	a.mustLock()
	if err := b.unlock(t.Context()); err == nil {
		t.Error("unlock from a connection that does not hold the lock: got nil, want an error")
	}
	c.mustNotLock() // a still holds it
	a.mustUnlock()
	c.mustLock()
	c.mustUnlock()
}

func testExclusive(t *testing.T, s *suite) {
	a, b := s.migrator(t), s.migrator(t)
	a.mustLock()
	b.mustNotLock()
	a.mustUnlock()
	b.mustLock()
	b.mustUnlock()
}

func testHandOver(t *testing.T, s *suite) {
	a, b := s.migrator(t), s.migrator(t)
	a.mustLock()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var released atomic.Int64 // unix nanoseconds of a's release
	done := make(chan error, 1)
	go func() {
		err := b.lock(ctx)
		if err == nil && released.Load() == 0 {
			err = errors.New("taken while the first connection still held it")
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	released.Store(time.Now().UnixNano())
	a.mustUnlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("waiter: %v", err)
		}
		if took := time.Since(time.Unix(0, released.Load())); took > Prompt {
			t.Errorf("waiter took the lock %v after its release, want within %v", took, Prompt)
		}
	case <-time.After(Prompt):
		cancel()
		<-done
		t.Fatalf("waiter did not take the lock within %v of its release", Prompt)
	}
	b.mustUnlock()
}

func testDeadline(t *testing.T, s *suite) {
	a, b := s.migrator(t), s.migrator(t)
	a.mustLock()
	b.mustNotLock()
	a.mustUnlock()
}

func testTimeoutCause(t *testing.T, s *suite) {
	a, b := s.migrator(t), s.migrator(t)
	a.mustLock()
	ctx, cancel := context.WithTimeoutCause(t.Context(), short, lock.ErrTimeout)
	defer cancel()
	err := b.lock(ctx)
	if err == nil {
		t.Fatal("lock taken while another connection holds it")
	}
	if !errors.Is(err, lock.ErrTimeout) {
		t.Errorf("lock with timeout cause lock.ErrTimeout: got %v, want an error wrapping lock.ErrTimeout", err)
	}
	a.mustUnlock()
}

func testCanceled(t *testing.T, s *suite) {
	a, b := s.migrator(t), s.migrator(t)
	a.mustLock()
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(short, cancel)
	start := time.Now()
	err := b.lock(ctx)
	if err == nil {
		t.Fatal("lock taken while another connection holds it")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("lock with a cancelled context: got %v, want an error wrapping context.Canceled", err)
	}
	if took := time.Since(start); took > short+Prompt {
		t.Errorf("lock gave up %v after being cancelled, want within %v", took-short, Prompt)
	}
	a.mustUnlock()
}

func testNothingLeftBehind(t *testing.T, s *suite) {
	a, b, c := s.migrator(t), s.migrator(t), s.migrator(t)
	a.mustLock()
	// Several waiters give up, some at the same moment.
	var wg sync.WaitGroup
	defer wg.Wait() // even if the test fails below
	for range 3 {
		w := s.migrator(t)
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), short)
			defer cancel()
			if err := w.lock(ctx); err == nil {
				t.Error("waiter took the lock while another connection holds it")
			}
		})
	}
	b.mustNotLock()
	wg.Wait()
	c.mustNotLock() // the holder still holds it
	a.mustUnlock()
	c.mustLock() // and nobody else does
	c.mustUnlock()
	b.mustLock() // a waiter that gave up can lock later
	b.mustUnlock()
}

func testMutualExclusion(t *testing.T, s *suite) {
	const workers, rounds = 6, 5
	ms := make([]*migrator, workers)
	for i := range ms {
		ms[i] = s.migrator(t)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var inside, maxInside, total atomic.Int64
	errs := make(chan error, workers*rounds)
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Go(func() {
			for range rounds {
				if err := m.lock(ctx); err != nil {
					errs <- err
					return
				}
				n := inside.Add(1)
				for {
					old := maxInside.Load()
					if n <= old || maxInside.CompareAndSwap(old, n) {
						break
					}
				}
				total.Add(1)
				time.Sleep(time.Millisecond)
				inside.Add(-1)
				if err := m.unlock(context.WithoutCancel(ctx)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := maxInside.Load(); got != 1 {
		t.Errorf("at most %d holders at once, want 1", got)
	}
	if got := total.Load(); got != workers*rounds {
		t.Errorf("%d turns taken, want %d", got, workers*rounds)
	}
}
