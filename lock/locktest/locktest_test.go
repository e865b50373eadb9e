package locktest_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/lock/locktest"
)

const brokenEnv = "STRATA_LOCKTEST_BROKEN"

// noLock takes nothing and releases anything.
type noLock struct{}

func (noLock) Lock(context.Context, *sql.Conn) error   { return nil }
func (noLock) Unlock(context.Context, *sql.Conn) error { return nil }

// lenient is a correct lock whose Unlock does not complain about a lock it
// does not hold.
type lenient struct{ p lock.Process }

func (l *lenient) Lock(ctx context.Context, c *sql.Conn) error { return l.p.Lock(ctx, c) }
func (l *lenient) Unlock(ctx context.Context, c *sql.Conn) error {
	l.p.Unlock(ctx, c)
	return nil
}

// noCause is a correct lock that drops the context's cause.
type noCause struct{ p lock.Process }

func (l *noCause) Lock(ctx context.Context, c *sql.Conn) error {
	if err := l.p.Lock(ctx, c); err != nil {
		return errors.New("gave up")
	}
	return nil
}
func (l *noCause) Unlock(ctx context.Context, c *sql.Conn) error { return l.p.Unlock(ctx, c) }

var broken = map[string]func() lock.Locker{
	"noLock":  func() lock.Locker { return noLock{} },
	"lenient": sync.OnceValue(func() lock.Locker { return new(lenient) }),
	"noCause": sync.OnceValue(func() lock.Locker { return new(noCause) }),
}

// TestSuiteCatchesBrokenLockers runs the suite on broken lockers in a child
// process and checks that it fails them, naming the right subtests.
func TestSuiteCatchesBrokenLockers(t *testing.T) {
	if kind := os.Getenv(brokenEnv); kind != "" {
		locktest.Run(t, locktest.StubDB(t), broken[kind])
		return
	}
	tests := []struct {
		name string
		kind string
		fail []string
	}{
		{"no lock", "noLock", []string{"UnlockNotHeld", "UnlockOtherConn", "Exclusive", "DeadlineExceeded", "MutualExclusion"}},
		{"lenient unlock", "lenient", []string{"UnlockNotHeld", "UnlockOtherConn"}},
		{"cause dropped", "noCause", []string{"DeadlineExceeded", "TimeoutCause", "Canceled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSuiteCatchesBrokenLockers$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+tt.kind)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("suite passed a broken locker:\n%s", out)
			}
			for _, name := range tt.fail {
				if !strings.Contains(string(out), "--- FAIL: TestSuiteCatchesBrokenLockers/"+name+" ") {
					t.Errorf("subtest %s did not fail:\n%s", name, out)
				}
			}
		})
	}
}
