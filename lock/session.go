package lock

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultAttemptTimeout bounds one round trip of a database lock attempt
// (pg_advisory_lock, GET_LOCK) or release when the locker's AttemptTimeout
// is zero.
const DefaultAttemptTimeout = 10 * time.Second

// sessionLock is the protocol [Postgres] and [MySQL] share, as the package
// documentation describes it, for a lock that belongs to the server
// session of a connection and is identified by a key of type K resolved on
// that connection.
//
// A locker builds a sessionLock from its exported fields for each call;
// only held lives on between calls.
type sessionLock[K comparable] struct {
	held           *sessionHeld[K]
	what           string // names the lock in errors and logs
	backoff        Backoff
	logger         *slog.Logger
	attemptTimeout time.Duration // zero means DefaultAttemptTimeout
	// slice is the longest wait in the server of one attempt, and unit
	// the granularity of the server's timeout: a wait is a whole number
	// of units.
	slice, unit time.Duration

	// identify resolves the lock's key on conn. Its errors are returned
	// as they are.
	identify func(ctx context.Context, conn *sql.Conn) (K, error)
	// try attempts once to take the lock, waiting for it in the server
	// for at most wait (a whole number of units; zero means not at all),
	// and reports whether it took it. A wait that runs out is not an
	// error. A wait the server cut short (a statement timeout set on the
	// session, a killed query) may be reported as an error.
	try func(ctx context.Context, conn *sql.Conn, key K, wait time.Duration) (bool, error)
	// release releases the lock; if conn's session did not hold it, it
	// returns an error that says so.
	release func(ctx context.Context, conn *sql.Conn, key K) error
	// releaseIfHeld releases the lock if conn's session holds it, after an
	// attempt failed without a usable answer. It ignores errors: a
	// connection the driver broke has ended its session, and that released
	// the lock.
	releaseIfHeld func(ctx context.Context, conn *sql.Conn, key K)
	// holder describes the session that holds the lock, or returns "" if
	// nobody does or the server cannot say.
	holder func(ctx context.Context, conn *sql.Conn, key K) string
}

// sessionHeld records the connections that hold a locker's lock, each with
// the key it was taken under.
type sessionHeld[K comparable] struct {
	mu    sync.Mutex
	conns map[*sql.Conn]K
}

// detach returns the context one statement runs under: not cancelled with
// ctx, and bounded by the attempt timeout.
func (s *sessionLock[K]) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.timeout())
}

// timeout is the attempt timeout.
func (s *sessionLock[K]) timeout() time.Duration {
	if s.attemptTimeout <= 0 {
		return DefaultAttemptTimeout
	}
	return s.attemptTimeout
}

func (s *sessionLock[K]) cancelled(ctx context.Context) error {
	return fmt.Errorf("lock: %s: %w", s.what, context.Cause(ctx))
}

func (s *sessionLock[K]) resolve(ctx context.Context, conn *sql.Conn) (K, error) {
	ctx, cancel := s.detach(ctx)
	defer cancel()
	return s.identify(ctx, conn)
}

func (s *sessionLock[K]) lock(ctx context.Context, conn *sql.Conn) error {
	if ctx.Err() != nil {
		return s.cancelled(ctx)
	}
	s.held.mu.Lock()
	_, dup := s.held.conns[conn]
	s.held.mu.Unlock()
	if dup {
		return fmt.Errorf("lock: %s: already held by this connection", s.what)
	}
	key, err := s.resolve(ctx, conn)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return s.cancelled(ctx)
	}
	if err := s.wait(ctx, conn, key); err != nil {
		return err
	}
	if ctx.Err() != nil {
		// Taken just as the caller gave up: honour the contract that an
		// error means nothing is held.
		return errors.Join(s.cancelled(ctx), s.releaseKey(ctx, conn, key))
	}
	s.held.mu.Lock()
	defer s.held.mu.Unlock()
	if s.held.conns == nil {
		s.held.conns = map[*sql.Conn]K{}
	}
	s.held.conns[conn] = key
	return nil
}

// wait takes the lock on key for conn. Each attempt waits in the server
// for as long as waitFor allows, and the next one follows at once when the
// wait ran out. An attempt that finds the lock taken without having waited
// in the server (too little time was left before ctx's deadline, or the
// server answered long before the wait could have run out) is followed by
// a pause drawn from s.backoff, so as not to spin.
//
// An error from an attempt that waited is not trusted to be final: the
// server may have cut the wait short (a statement timeout the user set on
// the session, a killed query). The next attempt then does not wait, and
// its error is final. Should the waiting attempts keep failing so, the
// lock is still taken, by polling.
func (s *sessionLock[K]) wait(ctx context.Context, conn *sql.Conn, key K) error {
	w := newWaiting(s.logger, s.what, func(ctx context.Context) string { return s.holderOf(ctx, conn, key) })
	pace := newPacer(s.backoff)
	defer pace.stop()
	canWait, cut := true, false
	for {
		if ctx.Err() != nil {
			return w.gaveUp(ctx)
		}
		d := time.Duration(0)
		if canWait {
			d = s.waitFor(ctx)
		}
		start := time.Now()
		ok, err := s.attempt(ctx, conn, key, d)
		switch {
		case ok:
			return nil
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("take %s: %w (%w)", s.what, context.Cause(ctx), err)
		case err != nil && d > 0:
			if s.logger != nil && !cut {
				s.logger.DebugContext(ctx, "wait for migration lock cut short; trying without waiting", "lock", s.what, "error", err)
			}
			cut = true // logged once: with a short statement timeout, every wait is cut
			canWait = false
			continue
		case err != nil:
			return fmt.Errorf("take %s: %w", s.what, err)
		}
		w.log(ctx)
		canWait = true
		if d > 0 && time.Since(start) >= d/2 {
			continue // the server did the waiting
		}
		// The attempt did not wait, or the server answered long before
		// the wait could have run out: pause, so as not to spin.
		if !pace.sleep(ctx) {
			return w.gaveUp(ctx)
		}
	}
}

// waitFor returns how long the next attempt may wait in the server: at
// most s.slice, what is left until ctx's deadline and half the attempt
// timeout, rounded down to a whole number of s.unit (which may be zero).
func (s *sessionLock[K]) waitFor(ctx context.Context) time.Duration {
	d := min(s.slice, s.timeout()/2)
	if deadline, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(deadline))
	}
	if d <= 0 || s.unit <= 0 {
		return 0
	}
	return d.Truncate(s.unit)
}

// attempt runs one try under a context detached from ctx: its answer must
// be read, or a granted lock could stay behind unknown to us. If the try
// fails, the lock is released in case the session holds it.
func (s *sessionLock[K]) attempt(ctx context.Context, conn *sql.Conn, key K, wait time.Duration) (bool, error) {
	actx, cancel := s.detach(ctx)
	defer cancel()
	ok, err := s.try(actx, conn, key, wait)
	if err != nil {
		rctx, rcancel := s.detach(ctx)
		defer rcancel()
		s.releaseIfHeld(rctx, conn, key)
		return false, err
	}
	return ok, nil
}

func (s *sessionLock[K]) unlock(ctx context.Context, conn *sql.Conn) error {
	s.held.mu.Lock()
	key, ok := s.held.conns[conn]
	delete(s.held.conns, conn)
	s.held.mu.Unlock()
	if !ok {
		// Not taken through this locker; ask the server, which knows for
		// sure.
		var err error
		if key, err = s.resolve(ctx, conn); err != nil {
			return fmt.Errorf("lock: unlock: %w", err)
		}
	}
	return s.releaseKey(ctx, conn, key)
}

func (s *sessionLock[K]) releaseKey(ctx context.Context, conn *sql.Conn, key K) error {
	ctx, cancel := s.detach(ctx)
	defer cancel()
	if err := s.release(ctx, conn, key); err != nil {
		return fmt.Errorf("lock: release %s: %w", s.what, err)
	}
	return nil
}

// describe is the Holder method of the lockers.
func (s *sessionLock[K]) describe(ctx context.Context, conn *sql.Conn) string {
	key, err := s.resolve(ctx, conn)
	if err != nil {
		return ""
	}
	return s.holderOf(ctx, conn, key)
}

func (s *sessionLock[K]) holderOf(ctx context.Context, conn *sql.Conn, key K) string {
	ctx, cancel := s.detach(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.holder(ctx, conn, key)
}
