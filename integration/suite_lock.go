package integration

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/migration"
)

// watchedLocker is the dialect's own lock, counting the calls to Lock.
type watchedLocker struct {
	lock.Locker
	calls  atomic.Int32
	called chan struct{} // closed by the first call
	once   sync.Once
}

func watch(d dialect.Dialect, table string) *watchedLocker {
	return &watchedLocker{Locker: d.Locker(dialect.LockOptions{Table: table}), called: make(chan struct{})}
}

func (w *watchedLocker) Lock(ctx context.Context, conn *sql.Conn) error {
	w.calls.Add(1)
	w.once.Do(func() { close(w.called) })
	return w.Locker.Lock(ctx, conn)
}

func testLock(t *testing.T, tgt Target) {
	t.Run("a second migrator waits, then finds the work done", func(t *testing.T) {
		d := tgt.open(t)
		g := newGate("slow", "base")
		ms := []migration.Migration{table("base"), g}
		holder := hold(t, d.manager(ms), g)

		// Another process with the same binary cannot take the lock.
		_, err := newManager(t, d.reopen(), tgt.Dialect, ms, migration.WithLockTimeout(refusedWait)).Up(t.Context())
		wantStepErr(t, err, "", migration.StepLock)
		if !errors.Is(err, lock.ErrTimeout) {
			t.Fatalf("error = %v, want lock.ErrTimeout", err)
		}

		// One that waits long enough gets it once the holder is done, and
		// reads the state again under the lock: nothing is left to do.
		wl := watch(tgt.Dialect, migration.DefaultTable)
		waiter := newManager(t, d.reopen(), tgt.Dialect, ms, migration.WithLocker(wl), migration.WithLockTimeout(time.Minute))
		w := &run{done: make(chan struct{})}
		go func() {
			defer close(w.done)
			w.res, w.err = waiter.Up(context.WithoutCancel(t.Context()))
		}()
		select {
		case <-wl.called:
		case <-w.done:
			t.Fatalf("the waiter returned without waiting for the lock: %v, %v", w.res, w.err)
		case <-time.After(time.Minute):
			t.Fatal("the waiter never asked for the lock")
		}
		time.Sleep(100 * time.Millisecond) // let it poll a few times
		g.open()
		res, err := holder.wait(t)
		if err != nil {
			t.Fatalf("holder: %v", err)
		}
		wantIDs(t, "applied by the holder", resultIDs(res), []string{"base", "slow"})
		res, err = w.wait(t)
		if err != nil || len(res) != 0 {
			t.Fatalf("waiter = %v, %v; want nothing done", res, err)
		}
		for _, id := range []string{"base", "slow"} {
			if n := d.runs(id, "up"); n != 1 {
				t.Errorf("%s ran %d times", id, n)
			}
		}
		d.lockFree(migration.DefaultTable)
	})

	t.Run("an up-to-date start does not touch the lock", func(t *testing.T) {
		d := tgt.open(t)
		ms := branches()
		if _, err := d.manager(ms).Up(t.Context()); err != nil {
			t.Fatal(err)
		}
		// Someone else holds the lock, from another pool.
		other := tgt.Dialect.Locker(dialect.LockOptions{Table: migration.DefaultTable})
		conn, err := d.reopen().Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := other.Lock(t.Context(), conn); err != nil {
			t.Fatal(err)
		}
		released := false
		defer func() {
			if !released {
				other.Unlock(context.WithoutCancel(t.Context()), conn)
			}
		}()

		wl := watch(tgt.Dialect, migration.DefaultTable)
		res, err := d.manager(ms, migration.WithLocker(wl), migration.WithLockTimeout(refusedWait)).Up(t.Context())
		if err != nil || res != nil {
			t.Fatalf("up-to-date Up = %v, %v; want nil, nil without waiting", res, err)
		}
		if n := wl.calls.Load(); n != 0 {
			t.Errorf("up-to-date Up asked for the lock %d times", n)
		}
		// With work to do, a run must wait for the lock.
		more := append(branches(), table("more", "merge"))
		wl = watch(tgt.Dialect, migration.DefaultTable)
		_, err = d.manager(more, migration.WithLocker(wl), migration.WithLockTimeout(refusedWait)).Up(t.Context())
		wantStepErr(t, err, "", migration.StepLock)
		if !errors.Is(err, lock.ErrTimeout) || wl.calls.Load() != 1 {
			t.Fatalf("Up with work to do while the lock is held = %v after %d lock calls, want lock.ErrTimeout after 1", err, wl.calls.Load())
		}
		if err := other.Unlock(t.Context(), conn); err != nil {
			t.Fatal(err)
		}
		released = true
		res, err = d.manager(more, migration.WithLockTimeout(shortWait)).Up(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, "applied", resultIDs(res), []string{"more"})
	})

	t.Run("a cancelled waiter gives up and leaves the lock to the holder", func(t *testing.T) {
		d := tgt.open(t)
		g := newGate("slow")
		holder := hold(t, d.manager([]migration.Migration{g}), g)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(refusedWait, cancel)
		start := time.Now()
		_, err := newManager(t, d.reopen(), tgt.Dialect, []migration.Migration{newGate("slow").Func}).Up(ctx)
		wantStepErr(t, err, "", migration.StepLock)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		if took := time.Since(start); took > refusedWait+shortWait {
			t.Errorf("the cancelled waiter returned after %v", took)
		}
		g.open()
		if _, err := holder.wait(t); err != nil {
			t.Fatalf("holder: %v", err)
		}
		d.lockFree(migration.DefaultTable)
	})
}

// testConcurrentManagers runs managers on pools of their own at once, as
// replicas starting together would: each migration runs once.
func testConcurrentManagers(t *testing.T, tgt Target) {
	d := tgt.open(t)
	const n = 6
	pools := make([]*sql.DB, n)
	for i := range pools {
		pools[i] = d.reopen()
	}
	var wg sync.WaitGroup
	results := make([][]migration.Result, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		m := newManager(t, pools[i], tgt.Dialect, branches(), migration.WithLockTimeout(time.Minute))
		wg.Go(func() {
			<-start
			results[i], errs[i] = m.Up(t.Context())
		})
	}
	close(start)
	wg.Wait()
	var all []string
	for i := range n {
		if errs[i] != nil {
			t.Errorf("manager %d: %v", i, errs[i])
		}
		all = append(all, resultIDs(results[i])...)
	}
	slices.Sort(all)
	want := slices.Clone(branchIDs)
	slices.Sort(want)
	wantIDs(t, "applied by all managers together", all, want)
	for _, id := range branchIDs {
		if c := d.runs(id, "up"); c != 1 {
			t.Errorf("%s ran %d times", id, c)
		}
	}
}

// testPoolOfOne: every operation works when the pool has one connection,
// because migrations run on the connection that holds the lock.
func testPoolOfOne(t *testing.T, tgt Target) {
	d := tgt.open(t)
	d.SetMaxOpenConns(1)
	// A deadlock on the pool would wait for ever; this fails it instead.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	checked := table("checked", "base")
	checked.ValidateFn = func(ctx context.Context, tx *migration.Tx) error {
		var n int
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM t_base`).Scan(&n)
	}
	fail := true
	flaky := table("flaky", "checked")
	flaky.NoTx = true
	flakyUp := flaky.UpFn
	flaky.UpFn = func(ctx context.Context, tx *migration.Tx) error {
		if fail {
			return errBoom
		}
		return flakyUp(ctx, tx)
	}
	ms := []migration.Migration{table("base"), checked, flaky}
	m := d.manager(ms, migration.WithLockTimeout(shortWait))
	steps := []struct {
		name string
		fn   func() error
	}{
		{"Status", func() error { _, err := m.Status(ctx); return err }},
		{"Validate", func() error { return m.Validate(ctx) }},
		{"UpTo", func() error { _, err := m.UpTo(ctx, "checked"); return err }},
		{"Plan", func() error { _, err := m.Plan(ctx, migration.Target{Direction: migration.DirectionUp}); return err }},
		{"History", func() error { _, err := m.History(ctx); return err }},
		{"Down", func() error { _, err := m.Down(ctx); return err }},
		{"DownTo", func() error { _, err := m.DownTo(ctx, "base"); return err }},
		{"Reset", func() error { _, err := m.Reset(ctx); return err }},
		{"UpTo again", func() error { _, err := m.UpTo(ctx, "base"); return err }},
		{"Baseline", func() error { return m.Baseline(ctx, "checked") }},
		{"Up of the rest", func() error {
			if _, err := m.Up(ctx); !errors.Is(err, errBoom) {
				return errors.Join(errors.New("want errBoom"), err)
			}
			return nil
		}},
		{"Repair", func() error { return m.Repair(ctx, "flaky", false) }},
		{"Up after the repair", func() error { fail = false; _, err := m.Up(ctx); return err }},
		{"Up to date", func() error { _, err := m.Up(ctx); return err }},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			t.Fatalf("%s with a pool of one connection: %v", s.name, err)
		}
	}
	wantIDs(t, "applied", applied(t, m), []string{"base", "checked", "flaky"})
	if n := d.Stats().OpenConnections; n > 1 {
		t.Errorf("%d open connections, want at most 1", n)
	}
}

// testStatusRunning: a migration another process is applying outside a
// transaction shows as running, not dirty; once the run is over, applied.
func testStatusRunning(t *testing.T, tgt Target) {
	d := tgt.open(t)
	g := newGate("slow", "base")
	g.NoTx = true
	ms := []migration.Migration{table("base"), g}
	holder := hold(t, d.manager(ms), g)

	other := newManager(t, d.reopen(), tgt.Dialect, ms)
	st, err := other.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "status during the run", states(st), []string{"base=applied", "slow=running"})

	g.open()
	if _, err := holder.wait(t); err != nil {
		t.Fatalf("holder: %v", err)
	}
	st, err = other.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "status after the run", states(st), []string{"base=applied", "slow=applied"})
}
