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
// (pg_try_advisory_lock, GET_LOCK) or release when the locker's
// AttemptTimeout is zero. See [Postgres.AttemptTimeout].
const DefaultAttemptTimeout = 10 * time.Second

// sessionLock is the protocol [Postgres] and [MySQL] share: a lock that
// belongs to the server session of a connection, identified by a key of
// type K resolved on that connection, and taken by polling a statement that
// never waits in the server. The funcs are the database's statements; each
// runs under a context that is not cancelled with the caller's but bounded
// by the attempt timeout, so that its answer is always read (a granted lock
// never stays behind unknown to us) and a cancelled caller does not break
// the connection.
//
// A locker builds a sessionLock from its exported fields for each call;
// only held lives on between calls.
type sessionLock[K comparable] struct {
	held           *sessionHeld[K]
	what           string // names the lock in errors and logs
	backoff        Backoff
	logger         *slog.Logger
	attemptTimeout time.Duration // zero means DefaultAttemptTimeout

	// identify resolves the lock's key on conn. Its errors are returned
	// as they are.
	identify func(ctx context.Context, conn *sql.Conn) (K, error)
	// try attempts once to take the lock and reports whether it did.
	try func(ctx context.Context, conn *sql.Conn, key K) (bool, error)
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
	d := s.attemptTimeout
	if d <= 0 {
		d = DefaultAttemptTimeout
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
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
	try := func(ctx context.Context) (bool, error) {
		// The attempt is not cancelled with ctx: its answer must be read,
		// or a granted lock could stay behind unknown to us.
		actx, cancel := s.detach(ctx)
		defer cancel()
		ok, err := s.try(actx, conn, key)
		if err != nil {
			rctx, rcancel := s.detach(ctx)
			defer rcancel()
			s.releaseIfHeld(rctx, conn, key)
			if ctx.Err() != nil {
				return false, fmt.Errorf("%w (%w)", context.Cause(ctx), err)
			}
			return false, err
		}
		return ok, nil
	}
	holder := func(ctx context.Context) string { return s.holderOf(ctx, conn, key) }
	if err := Poll(ctx, s.backoff, s.logger, s.what, try, holder); err != nil {
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
