package integration

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/strata-go/strata/internal/testdb"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/migration"
)

// proxied opens the server target's fresh database through a TCP proxy,
// so that the test can stall the network under the manager.
func proxied(t *testing.T, tgt Target) (direct *sql.DB, via *sql.DB, p *testdb.Proxy) {
	t.Helper()
	var dsn, upstream, driver string
	var err error
	var withAddress func(string, string) (string, error)
	switch tgt.Name {
	case postgresName:
		direct, dsn = pgtest.New(t)
		upstream, err = pgtest.Address(dsn)
		withAddress, driver = pgtest.WithAddress, "pgx"
	case mysqlName:
		direct, dsn = mytest.New(t)
		upstream, err = mytest.Address(dsn)
		withAddress, driver = mytest.WithAddress, "mysql"
	default:
		t.Fatalf("no proxy for %s", tgt.Name)
	}
	if err != nil {
		t.Fatalf("this test needs a TCP server: %v", err)
	}
	p = testdb.NewProxy(t, upstream)
	pdsn, err := withAddress(dsn, p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	via, err = sql.Open(driver, pdsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { via.Close() })
	if _, err := direct.ExecContext(t.Context(), `CREATE TABLE `+runsTable+` (id VARCHAR(255) NOT NULL, dir VARCHAR(8) NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return direct, via, p
}

// upWithin runs m.Up(ctx) and returns its error and how long it took,
// failing the test if it has not returned after limit: the run would
// otherwise hang the test on a stalled connection.
func upWithin(t *testing.T, ctx context.Context, m *migration.Manager, limit time.Duration) (time.Duration, error) {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := m.Up(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(limit):
		t.Fatalf("Up had not returned %v after it started", limit)
		return 0, nil
	}
}

// TestStalledConnection: when the network stops answering under a run,
// Up returns about when its context says, not when the operating system
// gives the connection up: the writes that record a migration run outside
// a transaction, and the lock's release, get a short grace of their own
// after the context ends, not an unbounded one; and a waiter for the lock
// gives up at its WithLockTimeout.
func TestStalledConnection(t *testing.T) {
	// Bounds are generous: they tell "about the deadline" from "never".
	const deadline = 3 * time.Second
	const slack = 4 * time.Second
	for _, tgt := range targets() {
		if tgt.Name == sqliteName {
			continue // no network to stall
		}
		t.Run(tgt.Name+"/cleanup writes", func(t *testing.T) {
			direct, via, p := proxied(t, tgt)
			stall := table("stall")
			stall.NoTx = true
			up := stall.UpFn
			stall.UpFn = func(ctx context.Context, tx *migration.Tx) error {
				if err := up(ctx, tx); err != nil {
					return err
				}
				p.Stall() // the write marking it clean waits for ever
				return nil
			}
			ms := []migration.Migration{stall}
			m := newManager(t, via, tgt.Dialect, ms)
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			defer cancel()
			took, err := upWithin(t, ctx, m, deadline+time.Minute)
			t.Logf("Up returned after %v: %v", took.Round(time.Millisecond), err)
			if err == nil {
				t.Fatal("Up succeeded, but its last write cannot have reached the server")
			}
			if took > deadline+slack {
				t.Errorf("Up returned %v after it started; its context ended after %v", took.Round(time.Millisecond), deadline)
			}
			// The truth: the migration ran, its clean mark never arrived.
			st, err := newManager(t, direct, tgt.Dialect, ms).Status(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got := states(st); len(got) != 1 || (got[0] != "stall=dirty" && got[0] != "stall=running") {
				t.Errorf("status = %q, want stall dirty (or running, while the stalled session keeps the lock)", got)
			}
		})
		t.Run(tgt.Name+"/lock wait", func(t *testing.T) {
			direct, via, p := proxied(t, tgt)
			g := newGate("held")
			holder := newManager(t, direct, tgt.Dialect, []migration.Migration{g})
			r := hold(t, holder, g)
			const timeout = 2 * time.Second
			m := newManager(t, via, tgt.Dialect, []migration.Migration{g}, migration.WithLockTimeout(timeout))
			go func() {
				time.Sleep(timeout / 4)
				p.Stall()
			}()
			took, err := upWithin(t, t.Context(), m, timeout+time.Minute)
			t.Logf("Up returned after %v: %v", took.Round(time.Millisecond), err)
			if !errors.Is(err, lock.ErrTimeout) {
				t.Errorf("Up = %v, want lock.ErrTimeout", err)
			}
			if took > timeout+slack {
				t.Errorf("Up returned %v after it started; WithLockTimeout is %v", took.Round(time.Millisecond), timeout)
			}
			g.open()
			if _, err := r.wait(t); err != nil {
				t.Fatal(err)
			}
		})
	}
}
