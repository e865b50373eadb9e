package lock_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/lock/locktest"
)

// waitUntil calls cond every few milliseconds until it reports true, and
// fails the test if it returns an error or a minute passes first.
func waitUntil(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond(ctx)
		if err != nil {
			t.Fatalf("wait until %s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting until %s", what)
		case <-tick.C:
		}
	}
}

// lockAsync runs l.Lock(ctx, conn) in a goroutine; the channel receives
// its error.
func lockAsync(ctx context.Context, l lock.Locker, conn *sql.Conn) <-chan error {
	done := make(chan error, 1)
	go func() { done <- l.Lock(ctx, conn) }()
	return done
}

// ended returns the error of a Lock running in the background that must
// end: one whose lock was released or whose context is done. It fails the
// test if the Lock is still running after within and [locktest.Prompt],
// which is generous on purpose: the check is that Lock does not wait for
// some far timeout, not how fast it is.
func ended(t *testing.T, done <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(within + locktest.Prompt):
		t.Fatalf("Lock still running %v after it should have ended", within+locktest.Prompt)
		return nil
	}
}
