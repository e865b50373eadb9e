package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/strata-go/strata/migration"
)

// record inserts a row into the runs table: migration id ran in direction
// dir.
func record(ctx context.Context, tx *migration.Tx, id, dir string) error {
	p := tx.Dialect().Placeholder
	_, err := tx.ExecContext(ctx, `INSERT INTO `+runsTable+` (id, dir) VALUES (`+p(1)+`, `+p(2)+`)`, id, dir)
	return err
}

// table returns a migration that records its run and creates table t_<id>,
// and whose Down records its run and drops the table. Its SQL works on
// every built-in dialect.
func table(id string, deps ...string) *migration.Func {
	name := "t_" + id
	return &migration.Func{
		Name:     id,
		Desc:     "create " + name,
		Requires: deps,
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			if err := record(ctx, tx, id, "up"); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `CREATE TABLE `+tx.Dialect().QuoteIdent(name)+` (id INTEGER PRIMARY KEY, note VARCHAR(100))`)
			return err
		},
		DownFn: func(ctx context.Context, tx *migration.Tx) error {
			if err := record(ctx, tx, id, "down"); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DROP TABLE `+tx.Dialect().QuoteIdent(name))
			return err
		},
	}
}

// branches is a graph with two branches that merge:
//
//	base ── a1 ── a2 ──┐
//	   └─── b1 ────────┴── merge
func branches() []migration.Migration {
	return []migration.Migration{
		table("base"), table("a1", "base"), table("a2", "a1"), table("b1", "base"), table("merge", "a2", "b1"),
	}
}

// branchIDs is the order in which Up applies branches().
var branchIDs = []string{"base", "a1", "a2", "b1", "merge"}

// chain returns n migrations m00, m01, ..., each depending on the one
// before.
func chain(n int) []migration.Migration {
	ms := make([]migration.Migration, n)
	for i := range ms {
		if i == 0 {
			ms[i] = table("m00")
		} else {
			ms[i] = table(fmt.Sprintf("m%02d", i), fmt.Sprintf("m%02d", i-1))
		}
	}
	return ms
}

// gate is a migration that blocks inside its Up, holding the migration
// lock, until it is let through: it stands for a long migration another
// migrator is running.
type gate struct {
	*migration.Func
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

// newGate returns a gate migration with the given ID: its Up records its
// run, creates t_<id>, then waits for [gate.open] (or its context).
func newGate(id string, deps ...string) *gate {
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	g.Func = table(id, deps...)
	up := g.UpFn
	g.UpFn = func(ctx context.Context, tx *migration.Tx) error {
		if err := up(ctx, tx); err != nil {
			return err
		}
		close(g.entered)
		select {
		case <-g.release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// run is a Manager run in a goroutine of its own.
type run struct {
	done chan struct{}
	res  []migration.Result
	err  error
}

func (r *run) wait(t *testing.T) ([]migration.Result, error) {
	t.Helper()
	select {
	case <-r.done:
		return r.res, r.err
	case <-time.After(time.Minute):
		t.Fatal("the run did not return within a minute")
		return nil, nil
	}
}

// hold runs m.Up in the background and returns once it is inside g's Up,
// holding the migration lock. The test must open g and wait for the run;
// if it does not (it failed), the cleanup does.
func hold(t *testing.T, m *migration.Manager, g *gate) *run {
	t.Helper()
	r := &run{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.res, r.err = m.Up(context.WithoutCancel(t.Context()))
	}()
	t.Cleanup(func() {
		g.open()
		<-r.done
	})
	select {
	case <-g.entered:
		return r
	case <-r.done:
		t.Fatalf("the holding run returned before reaching %s: %v", g.ID(), r.err)
	case <-time.After(time.Minute):
		t.Fatalf("the holding run did not reach %s within a minute", g.ID())
	}
	return nil
}
