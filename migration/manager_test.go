package migration_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/migration"
)

// branches is a graph with two branches that merge:
//
//	base ── a1 ── a2 ──┐
//	   └─── b1 ────────┴── merge
func branches() []migration.Migration {
	return []migration.Migration{
		table("base"), table("a1", "base"), table("a2", "a1"), table("b1", "base"), table("merge", "a2", "b1"),
	}
}

func TestUpAppliesAllAndRecords(t *testing.T) {
	db := openDB(t)
	m := newManager(t, db, branches())
	before := time.Now().UTC()
	res, err := m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied", resultIDs(res), []string{"base", "a1", "a2", "b1", "merge"})
	wantIDs(t, "tables", tables(t, db), []string{"t_a1", "t_a2", "t_b1", "t_base", "t_merge"})
	h, err := m.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range h {
		if r.Seq != int64(i+1) {
			t.Errorf("%s: seq %d, want %d", r.ID, r.Seq, i+1)
		}
		if r.Description != "create t_"+r.ID {
			t.Errorf("%s: description %q", r.ID, r.Description)
		}
		if r.AppliedAt.Before(before.Add(-time.Second)) || r.AppliedAt.Location() != time.UTC {
			t.Errorf("%s: applied at %v, want UTC after %v", r.ID, r.AppliedAt, before)
		}
		if r.Dirty || !r.Known || r.Duration <= 0 {
			t.Errorf("%s: dirty=%v known=%v duration=%v", r.ID, r.Dirty, r.Known, r.Duration)
		}
	}
	// Up to date: nothing to do, nothing returned, no error.
	res, err = m.Up(t.Context())
	if err != nil || res != nil {
		t.Fatalf("second Up = %v, %v; want nil, nil", res, err)
	}
	for _, id := range []string{"base", "a1", "a2", "b1", "merge"} {
		if n := runCount(t, db, id); n != 1 {
			t.Errorf("%s ran %d times", id, n)
		}
	}
}

func TestTargets(t *testing.T) {
	type op struct {
		call func(context.Context, *migration.Manager) ([]migration.Result, error)
		want []string // the migrations the call applies or rolls back, in order
	}
	up := func(ctx context.Context, m *migration.Manager) ([]migration.Result, error) { return m.Up(ctx) }
	upTo := func(id string) func(context.Context, *migration.Manager) ([]migration.Result, error) {
		return func(ctx context.Context, m *migration.Manager) ([]migration.Result, error) { return m.UpTo(ctx, id) }
	}
	downTo := func(id string) func(context.Context, *migration.Manager) ([]migration.Result, error) {
		return func(ctx context.Context, m *migration.Manager) ([]migration.Result, error) { return m.DownTo(ctx, id) }
	}
	down := func(ctx context.Context, m *migration.Manager) ([]migration.Result, error) { return m.Down(ctx) }
	reset := func(ctx context.Context, m *migration.Manager) ([]migration.Result, error) { return m.Reset(ctx) }
	tests := []struct {
		name        string
		ops         []op
		wantApplied []string
	}{
		{
			name:        "UpTo applies the target and its ancestors only",
			ops:         []op{{upTo("a2"), []string{"base", "a1", "a2"}}},
			wantApplied: []string{"base", "a1", "a2"},
		},
		{
			name:        "UpTo of another branch, then the merge",
			ops:         []op{{upTo("a1"), []string{"base", "a1"}}, {upTo("b1"), []string{"b1"}}, {upTo("merge"), []string{"a2", "merge"}}},
			wantApplied: []string{"base", "a1", "b1", "a2", "merge"},
		},
		{
			name:        "UpTo an applied migration does nothing",
			ops:         []op{{up, []string{"base", "a1", "a2", "b1", "merge"}}, {upTo("a1"), nil}},
			wantApplied: []string{"base", "a1", "a2", "b1", "merge"},
		},
		{
			name:        "DownTo keeps the target and its ancestors; dependants go first",
			ops:         []op{{up, []string{"base", "a1", "a2", "b1", "merge"}}, {downTo("a1"), []string{"merge", "b1", "a2"}}},
			wantApplied: []string{"base", "a1"},
		},
		{
			name:        "DownTo a branch rolls back the other branch",
			ops:         []op{{up, []string{"base", "a1", "a2", "b1", "merge"}}, {downTo("b1"), []string{"merge", "a2", "a1"}}},
			wantApplied: []string{"base", "b1"},
		},
		{
			name:        "Down rolls back the last applied",
			ops:         []op{{up, []string{"base", "a1", "a2", "b1", "merge"}}, {down, []string{"merge"}}, {down, []string{"b1"}}},
			wantApplied: []string{"base", "a1", "a2"},
		},
		{
			name:        "Reset rolls back everything, newest first",
			ops:         []op{{upTo("b1"), []string{"base", "b1"}}, {upTo("a1"), []string{"a1"}}, {reset, []string{"a1", "b1", "base"}}},
			wantApplied: nil,
		},
		{
			name:        "Down and Reset on an empty database do nothing",
			ops:         []op{{down, nil}, {reset, nil}},
			wantApplied: nil,
		},
		{
			name: "Up after DownTo of a middle branch re-applies it",
			ops: []op{
				{up, []string{"base", "a1", "a2", "b1", "merge"}},
				{downTo("a2"), []string{"merge", "b1"}},
				{up, []string{"b1", "merge"}},
			},
			wantApplied: []string{"base", "a1", "a2", "b1", "merge"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			m := newManager(t, db, branches())
			for i, o := range tt.ops {
				res, err := o.call(t.Context(), m)
				if err != nil {
					t.Fatalf("op %d: %v", i, err)
				}
				wantIDs(t, "results", resultIDs(res), o.want)
			}
			wantIDs(t, "applied", applied(t, m), tt.wantApplied)
			var wantTables []string
			for _, id := range tt.wantApplied {
				wantTables = append(wantTables, "t_"+id)
			}
			slicesSort(wantTables)
			wantIDs(t, "tables", tables(t, db), wantTables)
		})
	}
}

// TestStartupCheckAfterRemovingAnOlderRow: the newest row carries the
// fingerprint of the applied set; rolling back an older, independent
// migration must update it, or the start-up check would call the database
// up to date with a migration missing.
func TestStartupCheckAfterRemovingAnOlderRow(t *testing.T) {
	db := openDB(t)
	m := newManager(t, db, []migration.Migration{table("a"), table("b")})
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := m.DownTo(t.Context(), "b") // a is not an ancestor of b
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "rolled back", resultIDs(res), []string{"a"})
	res, err = m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "Up", resultIDs(res), []string{"a"})
}

func TestUnknownTarget(t *testing.T) {
	m := newManager(t, openDB(t), branches())
	for name, call := range map[string]func() error{
		"UpTo":     func() error { _, err := m.UpTo(t.Context(), "nope"); return err },
		"DownTo":   func() error { _, err := m.DownTo(t.Context(), "nope"); return err },
		"Baseline": func() error { return m.Baseline(t.Context(), "nope") },
		"Plan": func() error {
			_, err := m.Plan(t.Context(), migration.Target{Direction: migration.DirectionUp, ID: "nope"})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			if !errors.Is(err, migration.ErrUnknownMigration) || !strings.Contains(err.Error(), `"nope"`) {
				t.Fatalf("error = %v, want ErrUnknownMigration naming nope", err)
			}
		})
	}
}

var errBoom = errors.New("boom")

func TestFailures(t *testing.T) {
	tests := []struct {
		name     string
		bad      *migration.Func
		wantStep string
		check    func(t *testing.T, err error)
	}{
		{
			name: "failing Up leaves no trace",
			bad: &migration.Func{Name: "bad", Requires: []string{"base"},
				UpFn: func(ctx context.Context, tx *migration.Tx) error {
					if _, err := tx.ExecContext(ctx, `CREATE TABLE t_bad (id INTEGER)`); err != nil {
						return err
					}
					return errBoom
				},
				DownFn: func(context.Context, *migration.Tx) error { return nil }},
			wantStep: migration.StepUp,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, errBoom) {
					t.Errorf("errors.Is(err, errBoom) = false: %v", err)
				}
			},
		},
		{
			name: "panic is recovered and rolled back",
			bad: &migration.Func{Name: "bad", Requires: []string{"base"},
				UpFn: func(ctx context.Context, tx *migration.Tx) error {
					if _, err := tx.ExecContext(ctx, `CREATE TABLE t_bad (id INTEGER)`); err != nil {
						return err
					}
					var m map[string]int
					//lint:ignore SA5000 the panic is what this case is for
					m["x"] = 1 // nil map: panics
					return nil
				},
				DownFn: func(context.Context, *migration.Tx) error { return nil }},
			wantStep: migration.StepUp,
			check: func(t *testing.T, err error) {
				var pe *migration.PanicError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), "nil map") || len(pe.Stack) == 0 {
					t.Errorf("want a PanicError with stack: %v", err)
				}
			},
		},
		{
			name: "Validate stops the migration before Up",
			bad: &migration.Func{Name: "bad", Requires: []string{"base"},
				ValidateFn: func(ctx context.Context, tx *migration.Tx) error {
					var n int
					if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM t_base`).Scan(&n); err != nil {
						return err
					}
					if n == 0 {
						return errors.New("t_base is empty: load it first")
					}
					return nil
				},
				UpFn: func(ctx context.Context, tx *migration.Tx) error {
					panic("Up must not run when Validate fails")
				},
				DownFn: func(context.Context, *migration.Tx) error { return nil }},
			wantStep: migration.StepValidate,
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "t_base is empty") {
					t.Errorf("error lost the cause: %v", err)
				}
			},
		},
		{
			name:     "dangling foreign key is refused",
			bad:      migration.SQL("bad", `CREATE TABLE t_bad (id INTEGER PRIMARY KEY, base_id INTEGER REFERENCES t_base(id)); INSERT INTO t_bad VALUES (1, 42)`, `DROP TABLE t_bad`, "base"),
			wantStep: migration.StepUp,
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "t_bad rowid 1 -> t_base") {
					t.Errorf("error does not name the row: %v", err)
				}
			},
		},
		{
			name: "cancelled context",
			bad: &migration.Func{Name: "bad", Requires: []string{"base"},
				UpFn: func(ctx context.Context, tx *migration.Tx) error {
					_, err := tx.ExecContext(ctx, `CREATE TABLE t_bad (id INTEGER)`)
					return errors.Join(err, context.Canceled)
				},
				DownFn: func(context.Context, *migration.Tx) error { return nil }},
			wantStep: migration.StepUp,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("want context.Canceled: %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			m := newManager(t, db, []migration.Migration{table("base"), tt.bad, table("after", "bad")},
				migration.WithLockTimeout(5*time.Second))
			res, err := m.Up(t.Context())
			var me *migration.Error
			if !errors.As(err, &me) || me.ID != "bad" || me.Step != tt.wantStep {
				t.Fatalf("error = %#v (%v), want *migration.Error for bad at step %s", me, err, tt.wantStep)
			}
			if !strings.HasPrefix(err.Error(), "migration bad: "+tt.wantStep+": ") {
				t.Errorf("error text %q does not start with the migration and step", err)
			}
			tt.check(t, err)
			wantIDs(t, "results", resultIDs(res), []string{"base", "bad"})
			if res[1].Err == nil || res[0].Err != nil {
				t.Errorf("result errors = %v, %v", res[0].Err, res[1].Err)
			}
			// Nothing of bad remains; it and what follows it stay pending.
			wantIDs(t, "tables", tables(t, db), []string{"t_base"})
			wantIDs(t, "applied", applied(t, m), []string{"base"})
			pending, err := m.Pending(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			wantIDs(t, "pending", idsOf(pending), []string{"bad", "after"})
			// Foreign keys are enforced again on the connection.
			var fk int
			if err := db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
				t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
			}
			// The lock was released: a run that needs it gets it (a
			// lock left held would time out).
			if _, err := m.Down(t.Context()); err != nil {
				t.Fatalf("Down after the failure: %v", err)
			}
		})
	}
}

func idsOf(ms []migration.Migration) []string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID())
	}
	return ids
}

func TestDryRun(t *testing.T) {
	t.Run("changes nothing", func(t *testing.T) {
		db := openDB(t)
		m := newManager(t, db, branches())
		if _, err := m.UpTo(t.Context(), "a1"); err != nil {
			t.Fatal(err)
		}
		before := schemaDump(t, db)
		if err := m.Validate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if after := schemaDump(t, db); after != before {
			t.Fatalf("dry run changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
	t.Run("on a new database creates not even the version table", func(t *testing.T) {
		db := openDB(t)
		before := schemaDump(t, db)
		if err := newManager(t, db, branches()).Validate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if after := schemaDump(t, db); after != before {
			t.Fatalf("dry run changed the database:\n%s", after)
		}
	})
	t.Run("finds the migration that would fail", func(t *testing.T) {
		db := openDB(t)
		ms := append(branches(), migration.SQL("broken", `INSERT INTO t_nowhere VALUES (1)`, ``, "merge"))
		m := newManager(t, db, ms)
		before := schemaDump(t, db)
		err := m.Validate(t.Context())
		var me *migration.Error
		if !errors.As(err, &me) || me.ID != "broken" || me.Step != migration.StepUp || !strings.Contains(err.Error(), "t_nowhere") {
			t.Fatalf("error = %v, want one naming broken, up and t_nowhere", err)
		}
		if after := schemaDump(t, db); after != before {
			t.Fatalf("dry run changed the database:\n%s", after)
		}
	})
	t.Run("finds a dangling foreign key", func(t *testing.T) {
		db := openDB(t)
		ms := append(branches(), migration.SQL("dangling",
			`CREATE TABLE t_child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES t_base(id)); INSERT INTO t_child VALUES (1, 7)`, ``, "merge"))
		err := newManager(t, db, ms).Validate(t.Context())
		if err == nil || !strings.Contains(err.Error(), "t_child rowid 1") {
			t.Fatalf("error = %v, want the dangling row named", err)
		}
	})
}

func TestBaseline(t *testing.T) {
	db := openDB(t)
	m := newManager(t, db, branches())
	if err := m.Baseline(t.Context(), "a2"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied", applied(t, m), []string{"base", "a1", "a2"})
	wantIDs(t, "tables", tables(t, db), nil) // nothing ran
	// Baseline again, further: only the new ones are added.
	if err := m.Baseline(t.Context(), "b1"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied", applied(t, m), []string{"base", "a1", "a2", "b1"})
	res, err := m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "Up after baseline", resultIDs(res), []string{"merge"})
}

// TestUpToDateDoesNotLock: the start-up path must not wait for a lock held
// elsewhere, and a run with work to do must.
func TestUpToDateDoesNotLock(t *testing.T) {
	db, path := openDBPath(t)
	ms := branches()
	if _, err := newManager(t, db, ms).Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Another holder of the file lock (flock conflicts between open files
	// even within one process).
	other := lock.NewFile(path+".lock", nil)
	if err := other.Lock(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	defer other.Unlock(t.Context(), nil)

	var logs bytes.Buffer
	m := newManager(t, db, ms, migration.WithLockTimeout(time.Millisecond), migration.WithLogger(logger(&logs)))
	res, err := m.Up(t.Context())
	if err != nil || res != nil {
		t.Fatalf("up-to-date Up = %v, %v; want nil, nil without waiting", res, err)
	}
	if strings.Contains(logs.String(), "lock") {
		t.Errorf("up-to-date Up touched the lock:\n%s", logs.String())
	}
	m = newManager(t, db, append(ms, table("more", "merge")), migration.WithLockTimeout(20*time.Millisecond))
	_, err = m.Up(t.Context())
	var me *migration.Error
	if !errors.Is(err, lock.ErrTimeout) || !errors.As(err, &me) || me.Step != migration.StepLock {
		t.Fatalf("Up with work to do while the lock is held = %v, want lock.ErrTimeout at step lock", err)
	}
}

func TestUnknownApplied(t *testing.T) {
	db := openDB(t)
	newer := newManager(t, db, append(branches(), table("newer", "merge")))
	if _, err := newer.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	older := newManager(t, db, branches())
	st, err := older.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	last := st[len(st)-1]
	if len(st) != 6 || last.ID != "newer" || last.State != migration.StateUnknown || last.Seq != 6 {
		t.Fatalf("status = %+v, want newer reported as unknown last", st)
	}
	if res, err := older.Up(t.Context()); err != nil || res != nil {
		t.Fatalf("older Up = %v, %v; want nil, nil: an older replica must start", res, err)
	}
	for name, call := range map[string]func() error{
		"Down":   func() error { _, err := older.Down(t.Context()); return err },
		"DownTo": func() error { _, err := older.DownTo(t.Context(), "a1"); return err },
		"Reset":  func() error { _, err := older.Reset(t.Context()); return err },
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			if !errors.Is(err, migration.ErrUnknownApplied) || !strings.Contains(err.Error(), `"newer"`) {
				t.Fatalf("error = %v, want ErrUnknownApplied naming newer", err)
			}
		})
	}
	wantIDs(t, "applied", applied(t, older), []string{"base", "a1", "a2", "b1", "merge", "newer"})
}

func TestDirtyAndRepair(t *testing.T) {
	fail := true
	flaky := &migration.Func{Name: "flaky", Requires: []string{"base"}, NoTx: true,
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			if tx.InTransaction() {
				return errors.New("NoTx migration got a transaction")
			}
			if _, err := tx.ExecContext(ctx, `CREATE TABLE t_flaky (id INTEGER)`); err != nil {
				return err
			}
			if fail {
				return errBoom
			}
			return nil
		},
		DownFn: func(ctx context.Context, tx *migration.Tx) error {
			_, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS t_flaky`)
			return err
		},
	}
	db := openDB(t)
	m := newManager(t, db, []migration.Migration{table("base"), flaky, table("after", "flaky")})
	_, err := m.Up(t.Context())
	if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), "dirty") {
		t.Fatalf("Up = %v, want errBoom and a word about the dirty state", err)
	}
	// Every later run stops, naming the migration and how to repair.
	for name, call := range map[string]func() error{
		"Up":       func() error { _, err := m.Up(t.Context()); return err },
		"Down":     func() error { _, err := m.Down(t.Context()); return err },
		"Baseline": func() error { return m.Baseline(t.Context(), "after") },
		"Plan": func() error {
			_, err := m.Plan(t.Context(), migration.Target{Direction: migration.DirectionUp})
			return err
		},
		"Validate": func() error { return m.Validate(t.Context()) },
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			var me *migration.Error
			if !errors.Is(err, migration.ErrDirty) || !errors.As(err, &me) || me.ID != "flaky" || !strings.Contains(err.Error(), "repair flaky") {
				t.Fatalf("error = %v, want ErrDirty for flaky with repair advice", err)
			}
		})
	}
	st, err := m.Status(t.Context())
	if err != nil || st[1].ID != "flaky" || st[1].State != migration.StateDirty {
		t.Fatalf("status = %+v, %v; want flaky dirty", st, err)
	}
	if err := m.Repair(t.Context(), "base", true); err == nil || !strings.Contains(err.Error(), "not dirty") {
		t.Fatalf("Repair of a clean migration = %v, want refusal", err)
	}
	if err := m.Repair(t.Context(), "nope", true); !errors.Is(err, migration.ErrUnknownMigration) {
		t.Fatalf("Repair of an unknown migration = %v, want ErrUnknownMigration", err)
	}

	// Not applied: the operator undid it by hand; the next Up runs it again.
	if _, err := db.Exec(`DROP TABLE t_flaky`); err != nil {
		t.Fatal(err)
	}
	if err := m.Repair(t.Context(), "flaky", false); err != nil {
		t.Fatal(err)
	}
	fail = false
	res, err := m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "Up after repair", resultIDs(res), []string{"flaky", "after"})
	if res, err := m.Up(t.Context()); err != nil || res != nil {
		t.Fatalf("Up when up to date = %v, %v", res, err)
	}

	// A failing Down of a NoTx migration leaves it dirty too; repair as
	// applied keeps it.
	if _, err := m.Down(t.Context()); err != nil { // "after"
		t.Fatal(err)
	}
	flaky.DownFn = func(context.Context, *migration.Tx) error { return errBoom }
	if _, err := m.Down(t.Context()); !errors.Is(err, errBoom) {
		t.Fatalf("Down = %v, want errBoom", err)
	}
	if err := m.Repair(t.Context(), "flaky", true); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied", applied(t, m), []string{"base", "flaky"})
	res, err = m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "Up after repair", resultIDs(res), []string{"after"})
	if res, err := m.Up(t.Context()); err != nil || res != nil {
		t.Fatalf("Up when up to date = %v, %v", res, err)
	}
}

func TestPlanStatusPending(t *testing.T) {
	db := openDB(t)
	m := newManager(t, db, branches())
	if _, err := m.UpTo(t.Context(), "a1"); err != nil {
		t.Fatal(err)
	}
	before := schemaDump(t, db)
	steps, err := m.Plan(t.Context(), migration.Target{Direction: migration.DirectionUp})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range steps {
		ids = append(ids, s.ID)
		if s.Direction != migration.DirectionUp || s.Description != "create t_"+s.ID {
			t.Errorf("step %+v", s)
		}
	}
	wantIDs(t, "plan up", ids, []string{"a2", "b1", "merge"})
	steps, err = m.Plan(t.Context(), migration.Target{Direction: migration.DirectionDown, All: true})
	if err != nil || len(steps) != 2 || steps[0].ID != "a1" || steps[1].ID != "base" {
		t.Fatalf("plan reset = %+v, %v", steps, err)
	}
	if _, err := m.Plan(t.Context(), migration.Target{Direction: "sideways"}); err == nil {
		t.Error("Plan accepted a bad direction")
	}
	st, err := m.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, s := range st {
		states = append(states, s.ID+"="+string(s.State))
	}
	wantIDs(t, "status", states, []string{"base=applied", "a1=applied", "a2=pending", "b1=pending", "merge=pending"})
	if st[4].Dependencies[0] != "a2" || st[4].Dependencies[1] != "b1" {
		t.Errorf("merge dependencies = %q", st[4].Dependencies)
	}
	if after := schemaDump(t, db); after != before {
		t.Fatal("Plan or Status changed the database")
	}
}

func TestStatusOnNewDatabase(t *testing.T) {
	db := openDB(t)
	m := newManager(t, db, branches())
	st, err := m.Status(t.Context())
	if err != nil || len(st) != 5 || st[0].State != migration.StatePending {
		t.Fatalf("status = %+v, %v", st, err)
	}
	h, err := m.History(t.Context())
	if err != nil || len(h) != 0 {
		t.Fatalf("history = %+v, %v", h, err)
	}
}

func TestCustomTableLogsAndProgress(t *testing.T) {
	db := openDB(t)
	var logs bytes.Buffer
	var seen []string
	m := newManager(t, db, branches(),
		migration.WithTable("app_versions"),
		migration.WithLogger(logger(&logs)),
		migration.WithProgress(func(r migration.Result) { seen = append(seen, string(r.Direction)+":"+r.ID) }))
	if _, err := m.UpTo(t.Context(), "a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "progress", seen, []string{"up:base", "up:a1", "down:a1"})
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM app_versions`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("app_versions rows = %d, %v", n, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'strata_migrations'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("default table exists: %d, %v", n, err)
	}
	for _, want := range []string{"migration=base direction=up duration=", "migration=a1 direction=down duration="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestConcurrentRunsInOneProcess(t *testing.T) {
	_, path := openDBPath(t)
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			db, err := sqliteOpen(path)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			m, err := migration.NewManager(db, dialectFor(t), branches())
			if err != nil {
				errs <- err
				return
			}
			_, err = m.Up(context.Background())
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	db := openDBAt(t, path)
	for _, id := range []string{"base", "a1", "a2", "b1", "merge"} {
		if c := runCount(t, db, id); c != 1 {
			t.Errorf("%s ran %d times", id, c)
		}
	}
}

// TestDriftAfterPartialFailure: when a later migration fails, the earlier
// ones stay committed, and the schema they left is recorded for drift
// detection.
func TestDriftAfterPartialFailure(t *testing.T) {
	db := openDB(t)
	m := newManager(t, db, []migration.Migration{
		table("a"), table("b", "a"), migration.SQL("bad", `INSERT INTO nowhere VALUES (1)`, ``, "b"),
	})
	if _, err := m.Up(t.Context()); err == nil {
		t.Fatal("Up succeeded")
	}
	wantIDs(t, "applied", applied(t, m), []string{"a", "b"})
	report, err := m.Drift(t.Context())
	if err != nil {
		t.Fatalf("Drift = %v, want a report of the schema a and b left", err)
	}
	if report.Drifted() || report.Migration != "b" {
		t.Fatalf("report = %v (migration %q), want no drift at b", report, report.Migration)
	}
	if _, err := db.Exec(`CREATE TABLE t_by_hand (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if report, err = m.Drift(t.Context()); err != nil || !report.Drifted() || !strings.Contains(report.String(), "t_by_hand") {
		t.Fatalf("Drift after a hand change = %v, %v; want t_by_hand named", report, err)
	}
}
