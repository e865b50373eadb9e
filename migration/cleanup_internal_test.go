package migration

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCleanupContext: a cleanup context outlives the run's context by the
// grace, no more; cleanups started one after the other share the grace
// counted from when the run's context ended, so they cannot add theirs up;
// and a context that never ends leaves cleanups unbounded by it.
func TestCleanupContext(t *testing.T) {
	run, cancel := context.WithCancel(t.Context())
	run, stop := withCleanupClock(run)
	defer stop()

	first, done := cleanupContext(run)
	defer done()
	before := time.Now()
	cancel()
	if first.Err() != nil {
		t.Fatal("the cleanup context ended with the run's")
	}
	select {
	case <-first.Done():
	case <-time.After(10 * cleanupGrace):
		t.Fatalf("a cleanup context outlived the run's by %v", time.Since(before))
	}
	if !errors.Is(context.Cause(first), context.Canceled) {
		t.Errorf("cause = %v, want it to wrap the run's", context.Cause(first))
	}

	// A later cleanup gets what is left of the grace, not a grace of its own.
	second, done2 := cleanupContext(run)
	defer done2()
	deadline, ok := second.Deadline()
	if !ok || deadline.Before(before.Add(cleanupGrace)) || deadline.After(time.Now()) {
		t.Errorf("a cleanup started after the grace has deadline %v (set %v); want the run's end plus %v, already past",
			deadline, ok, cleanupGrace)
	}
	if second.Err() == nil {
		t.Error("a cleanup started after the grace ran out is not done")
	}

	forever, done3 := cleanupContext(context.Background())
	defer done3()
	select {
	case <-forever.Done():
		t.Fatal("a cleanup of a run that never ends was cut short")
	case <-time.After(2 * cleanupGrace):
	}
}
