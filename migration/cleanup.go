package migration

import (
	"context"
	"fmt"
	"time"
)

// cleanupGrace is how long writes that clean up after a run (the version
// table's last rows, the lock's release, the session's restore) may go on
// once the caller's context is done: long enough for a healthy server,
// short enough that a stalled connection does not hold the caller.
const cleanupGrace = time.Second

// cleanupContext returns a context for cleaning up after work done under
// ctx: not cancelled with ctx, but cleanupGrace after ctx ended (after the
// run's context ended, if ctx carries its [cleanupClock], so that cleanups
// one after the other share one grace rather than adding theirs up).
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	end := func() time.Time {
		if clk, ok := ctx.Value(cleanupClockKey{}).(*cleanupClock); ok {
			return clk.ended().Add(cleanupGrace)
		}
		return time.Now().Add(cleanupGrace)
	}
	cause := func() error {
		return fmt.Errorf("cleanup gave up %s after the run's context ended: %w", cleanupGrace, context.Cause(ctx))
	}
	if ctx.Err() != nil {
		// The usual case: cleaning up after the run's context ended.
		return context.WithDeadlineCause(context.WithoutCancel(ctx), end(), cause())
	}
	c, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(max(time.Until(end()), 0), func() { cancel(cause()) })
	})
	return c, func() {
		stop()
		cancel(context.Canceled)
	}
}

// A cleanupClock notes when a run's context ended.
type cleanupClock struct {
	done chan struct{}
	at   time.Time
}

type cleanupClockKey struct{}

// withCleanupClock returns ctx carrying a clock that notes when ctx ends,
// unless it has one; stop releases it.
func withCleanupClock(ctx context.Context) (_ context.Context, stop func()) {
	if _, ok := ctx.Value(cleanupClockKey{}).(*cleanupClock); ok {
		return ctx, func() {}
	}
	clk := &cleanupClock{done: make(chan struct{})}
	stop = func() {}
	if ctx.Done() != nil {
		s := context.AfterFunc(ctx, func() {
			clk.at = time.Now()
			close(clk.done)
		})
		stop = func() { s() }
	}
	return context.WithValue(ctx, cleanupClockKey{}, clk), stop
}

// ended returns when the context ended, or now if the clock has not
// noted it yet (the caller knows it has ended).
func (c *cleanupClock) ended() time.Time {
	select {
	case <-c.done:
		return c.at
	default:
		return time.Now()
	}
}
