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
// context.WithTimeoutCause(ctx, d, ErrTimeout) get it from Lock.
var ErrTimeout = errors.New("lock: timed out waiting for the migration lock")

// Locker serialises migrators. Implementations must be safe for concurrent
// use and may keep per-connection state between Lock and Unlock. The
// package documentation describes how the built-in lockers wait.
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

// Backoff bounds the pause between two attempts that do not wait in the
// server (see the package documentation). Each pause is drawn at random
// between half and all of the current step, which starts at Min and doubles
// up to Max, so that many waiters neither spin hot nor sleep long after the
// lock is free. A Min of zero means the default: Min 2ms, Max 50ms.
type Backoff struct {
	Min, Max time.Duration
}

// defaultBackoff is the backoff of a zero [Backoff].
var defaultBackoff = Backoff{Min: 2 * time.Millisecond, Max: 50 * time.Millisecond}

// LogEvery is how often a waiting locker logs that it is still waiting.
const LogEvery = 5 * time.Second

// tryFunc tries to take a lock once, without waiting. It reports whether
// the lock was taken.
type tryFunc func(ctx context.Context) (bool, error)

// holderFunc describes who holds a lock, for the log; it returns "" if the
// database cannot say. Nil means no description is available.
type holderFunc func(ctx context.Context) string

// poll calls try until it takes the lock, fails, or ctx is done, pausing
// between attempts as b says. While it waits it logs to log (if not nil) at
// most every [LogEvery], naming what it waits for and, if holder is not nil,
// who holds it.
func poll(ctx context.Context, b Backoff, log *slog.Logger, what string, try tryFunc, holder holderFunc) error {
	w := newWaiting(log, what, holder)
	pace := newPacer(b)
	defer pace.stop()
	for {
		if ctx.Err() != nil {
			return w.gaveUp(ctx)
		}
		ok, err := try(ctx)
		if err != nil {
			return fmt.Errorf("take %s: %w", what, err)
		}
		if ok {
			return nil
		}
		w.log(ctx)
		if !pace.sleep(ctx) {
			return w.gaveUp(ctx)
		}
	}
}

// waiting is the log and the error of a wait for a lock.
type waiting struct {
	logger      *slog.Logger
	what        string
	holder      holderFunc
	start, last time.Time
}

func newWaiting(log *slog.Logger, what string, holder holderFunc) *waiting {
	now := time.Now()
	return &waiting{logger: log, what: what, holder: holder, start: now, last: now}
}

// log says that the wait goes on, naming the holder, if [LogEvery] passed
// since it last did.
func (w *waiting) log(ctx context.Context) {
	if w.logger == nil || time.Since(w.last) < LogEvery {
		return
	}
	w.last = time.Now()
	attrs := []any{"lock", w.what, "waited", time.Since(w.start).Round(time.Millisecond)}
	if w.holder != nil {
		if h := w.holder(ctx); h != "" {
			attrs = append(attrs, "holder", h)
		}
	}
	w.logger.InfoContext(ctx, "waiting for migration lock", attrs...)
}

// gaveUp returns the error of a wait that ended because ctx is done.
func (w *waiting) gaveUp(ctx context.Context) error {
	return fmt.Errorf("wait for %s after %s: %w", w.what, time.Since(w.start).Round(time.Millisecond), context.Cause(ctx))
}

// pacer draws the pauses of a [Backoff].
type pacer struct {
	b     Backoff
	step  time.Duration
	timer *time.Timer
}

func newPacer(b Backoff) *pacer {
	if b.Min <= 0 {
		b = defaultBackoff
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	return &pacer{b: b, step: b.Min}
}

// sleep pauses for the next step. It reports false if ctx was done first.
func (p *pacer) sleep(ctx context.Context) bool {
	pause := p.step/2 + rand.N(p.step/2+1)
	if p.step < p.b.Max {
		p.step = min(2*p.step, p.b.Max)
	}
	if p.timer == nil {
		p.timer = time.NewTimer(pause)
	} else {
		p.timer.Reset(pause)
	}
	select {
	case <-ctx.Done():
		return false
	case <-p.timer.C:
		return true
	}
}

func (p *pacer) stop() {
	if p.timer != nil {
		p.timer.Stop()
	}
}
