package lock

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSessionWaitFor(t *testing.T) {
	tests := []struct {
		name           string
		slice, unit    time.Duration
		attemptTimeout time.Duration
		left           time.Duration // until ctx's deadline; 0 for none
		want           time.Duration
	}{
		{"no deadline", 250 * time.Millisecond, time.Millisecond, 0, 0, 250 * time.Millisecond},
		{"far deadline", 250 * time.Millisecond, time.Millisecond, 0, time.Hour, 250 * time.Millisecond},
		{"half the attempt timeout", 250 * time.Millisecond, time.Millisecond, 300 * time.Millisecond, 0, 150 * time.Millisecond},
		{"deadline passed", 250 * time.Millisecond, time.Millisecond, 0, -time.Second, 0},
		{"whole seconds", time.Second, time.Second, 0, 0, time.Second},
		{"seconds, deadline in 1.5s", 3 * time.Second, time.Second, 0, 1500 * time.Millisecond, time.Second},
		{"seconds, deadline in 0.5s", time.Second, time.Second, 0, 500 * time.Millisecond, 0},
		{"seconds, attempt timeout 1s", time.Second, time.Second, time.Second, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if tt.left != 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.left)
				defer cancel()
			}
			s := &sessionLock[string]{slice: tt.slice, unit: tt.unit, attemptTimeout: tt.attemptTimeout}
			if got := s.waitFor(ctx); got != tt.want {
				t.Errorf("waitFor = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSessionWaitLoop runs the loop of sessionLock.lock against scripted
// answers and checks how long each attempt was allowed to wait.
func TestSessionWaitLoop(t *testing.T) {
	const slice = 2 * time.Millisecond
	errCut := errors.New("canceling statement due to statement timeout")
	errReal := errors.New("connection reset")
	type answer struct {
		ok  bool
		err error
	}
	tests := []struct {
		name      string
		answers   []answer
		wantWaits []time.Duration
		wantErr   error
	}{
		{
			name:      "waits ran out, then granted",
			answers:   []answer{{}, {}, {ok: true}},
			wantWaits: []time.Duration{slice, slice, slice},
		},
		{
			name:      "a wait cut short is retried without waiting, then waiting again",
			answers:   []answer{{err: errCut}, {}, {ok: true}},
			wantWaits: []time.Duration{slice, 0, slice},
		},
		{
			name:      "granted by the attempt that does not wait",
			answers:   []answer{{err: errCut}, {ok: true}},
			wantWaits: []time.Duration{slice, 0},
		},
		{
			name:      "the error of an attempt that does not wait is final",
			answers:   []answer{{err: errCut}, {err: errReal}},
			wantWaits: []time.Duration{slice, 0},
			wantErr:   errReal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var waits []time.Duration
			released := 0
			s := &sessionLock[string]{
				held:  &sessionHeld[string]{},
				what:  "test lock",
				slice: slice,
				unit:  time.Millisecond,
				identify: func(context.Context, *sql.Conn) (string, error) {
					return "key", nil
				},
				try: func(_ context.Context, _ *sql.Conn, _ string, wait time.Duration) (bool, error) {
					if len(waits) == len(tt.answers) {
						t.Fatalf("attempt %d, but only %d answers are scripted", len(waits)+1, len(tt.answers))
					}
					a := tt.answers[len(waits)]
					waits = append(waits, wait)
					if !a.ok && a.err == nil {
						time.Sleep(wait) // as the server would, until the wait runs out
					}
					return a.ok, a.err
				},
				release:       func(context.Context, *sql.Conn, string) error { return nil },
				releaseIfHeld: func(context.Context, *sql.Conn, string) { released++ },
				holder:        func(context.Context, *sql.Conn, string) string { return "" },
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			err := s.lock(ctx, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("lock: %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("attempts waited %v, want %v", waits, tt.wantWaits)
			}
			failed := 0
			for _, a := range tt.answers {
				if a.err != nil {
					failed++
				}
			}
			if released != failed {
				t.Errorf("releaseIfHeld ran %d times, want once per failed attempt (%d)", released, failed)
			}
		})
	}
}
