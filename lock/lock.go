package lock

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// ErrTimeout is returned, wrapped, when a lock could not be taken within the
// configured wait. Callers that bound the wait with
// context.WithTimeoutCause(ctx, d, ErrTimeout) get it from [Poll].
var ErrTimeout = errors.New("lock: timed out waiting for the migration lock")

// Locker serialises migrators. Implementations must be safe for concurrent
// use and may keep per-connection state between Lock and Unlock.
type Locker interface {
	// Lock blocks until the lock is held for conn, or returns an error. It
	// must honour ctx: when ctx is done it returns an error wrapping
	// context.Cause(ctx) (so [ErrTimeout] when the caller set it as the
	// cause), and holds nothing.
	Lock(ctx context.Context, conn *sql.Conn) error
	// Unlock releases a lock taken by Lock with the same conn. Releasing a
	// lock that is not held is an error.
	Unlock(ctx context.Context, conn *sql.Conn) error
}

// Backoff bounds the pause between two attempts of [Poll]. Each pause is
// drawn at random between half and all of the current step, which starts at
// Min and doubles up to Max, so that many waiters neither spin hot nor sleep
// long after the lock is free.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff is the backoff the built-in lockers use.
var DefaultBackoff = Backoff{Min: 2 * time.Millisecond, Max: 50 * time.Millisecond}

// LogEvery is how often a waiting [Poll] logs that it is still waiting.
const LogEvery = 5 * time.Second

// Attempt tries to take a lock once, without waiting. It reports whether the
// lock was taken.
type Attempt func(ctx context.Context) (bool, error)

// Holder describes who holds a lock, for the log; it returns "" if the
// database cannot say. Nil means no description is available.
type Holder func(ctx context.Context) string

// Poll calls try until it takes the lock, fails, or ctx is done, pausing
// between attempts as b says. While it waits it logs to log (if not nil) at
// most every [LogEvery], naming what it waits for and, if holder is not nil,
// who holds it.
func Poll(ctx context.Context, b Backoff, log *slog.Logger, what string, try Attempt, holder Holder) error {
	if b.Min <= 0 {
		b = DefaultBackoff
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	start := time.Now()
	lastLog := start
	step := b.Min
	var timer *time.Timer
	for {
		if ctx.Err() != nil {
			return fmt.Errorf("wait for %s after %s: %w", what, time.Since(start).Round(time.Millisecond), context.Cause(ctx))
		}
		ok, err := try(ctx)
		if err != nil {
			return fmt.Errorf("take %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if log != nil && time.Since(lastLog) >= LogEvery {
			lastLog = time.Now()
			attrs := []any{"lock", what, "waited", time.Since(start).Round(time.Millisecond)}
			if holder != nil {
				if h := holder(ctx); h != "" {
					attrs = append(attrs, "holder", h)
				}
			}
			log.InfoContext(ctx, "waiting for migration lock", attrs...)
		}
		pause := step/2 + rand.N(step/2+1)
		if step < b.Max {
			step = min(2*step, b.Max)
		}
		if timer == nil {
			timer = time.NewTimer(pause)
			defer timer.Stop()
		} else {
			timer.Reset(pause)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s after %s: %w", what, time.Since(start).Round(time.Millisecond), context.Cause(ctx))
		case <-timer.C:
		}
	}
}
