package integration

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/migration"
)

func testUpAndHistory(t *testing.T, tgt Target) {
	d := tgt.open(t)
	m := d.manager(branches())
	before := time.Now().UTC()
	res, err := m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied", resultIDs(res), branchIDs)
	for _, r := range res {
		if r.Direction != migration.DirectionUp || r.Err != nil || r.Description != "create t_"+r.ID {
			t.Errorf("result %+v", r)
		}
	}
	wantIDs(t, "tables", d.tables(), []string{"t_a1", "t_a2", "t_b1", "t_base", "t_merge"})
	h, err := m.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != len(branchIDs) {
		t.Fatalf("history has %d rows, want %d", len(h), len(branchIDs))
	}
	for i, r := range h {
		if r.ID != branchIDs[i] || r.Seq != int64(i+1) {
			t.Errorf("row %d: %s seq %d, want %s seq %d", i, r.ID, r.Seq, branchIDs[i], i+1)
		}
		if r.Description != "create t_"+r.ID {
			t.Errorf("%s: description %q", r.ID, r.Description)
		}
		if r.AppliedAt.Location() != time.UTC || r.AppliedAt.Before(before.Add(-time.Minute)) || r.AppliedAt.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s: applied at %v, want UTC and about now (%v)", r.ID, r.AppliedAt, before)
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
	// A manager of a newer binary applies only what is new.
	res, err = d.manager(append(branches(), table("next", "merge"))).Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied by the newer binary", resultIDs(res), []string{"next"})
	for _, id := range append(branchIDs, "next") {
		if n := d.runs(id, "up"); n != 1 {
			t.Errorf("%s ran %d times", id, n)
		}
	}
}

type call func(context.Context, *migration.Manager) ([]migration.Result, error)

func up(ctx context.Context, m *migration.Manager) ([]migration.Result, error)   { return m.Up(ctx) }
func down(ctx context.Context, m *migration.Manager) ([]migration.Result, error) { return m.Down(ctx) }
func reset(ctx context.Context, m *migration.Manager) ([]migration.Result, error) {
	return m.Reset(ctx)
}

func upTo(id string) call {
	return func(ctx context.Context, m *migration.Manager) ([]migration.Result, error) { return m.UpTo(ctx, id) }
}

func downTo(id string) call {
	return func(ctx context.Context, m *migration.Manager) ([]migration.Result, error) { return m.DownTo(ctx, id) }
}

func testTargets(t *testing.T, tgt Target) {
	type op struct {
		call call
		want []string // the migrations the call applies or rolls back, in order
	}
	tests := []struct {
		name        string
		ms          []migration.Migration
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
			ops:         []op{{up, branchIDs}, {upTo("a1"), nil}},
			wantApplied: branchIDs,
		},
		{
			name:        "DownTo keeps the target and its ancestors; dependants go first",
			ops:         []op{{up, branchIDs}, {downTo("a1"), []string{"merge", "b1", "a2"}}},
			wantApplied: []string{"base", "a1"},
		},
		{
			name:        "DownTo a branch rolls back the other branch",
			ops:         []op{{up, branchIDs}, {downTo("b1"), []string{"merge", "a2", "a1"}}},
			wantApplied: []string{"base", "b1"},
		},
		{
			name:        "Down rolls back the last applied",
			ops:         []op{{up, branchIDs}, {down, []string{"merge"}}, {down, []string{"b1"}}},
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
			name:        "Up after DownTo of a middle branch re-applies it",
			ops:         []op{{up, branchIDs}, {downTo("a2"), []string{"merge", "b1"}}, {up, []string{"b1", "merge"}}},
			wantApplied: branchIDs,
		},
		{
			// The newest row carries the fingerprint of the applied set:
			// rolling back an older, independent migration must update
			// it, or the start-up check would miss the gap.
			name:        "Up after rolling back an older independent migration",
			ms:          []migration.Migration{table("x"), table("y")},
			ops:         []op{{up, []string{"x", "y"}}, {downTo("y"), []string{"x"}}, {up, []string{"x"}}},
			wantApplied: []string{"y", "x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tgt.open(t)
			ms := tt.ms
			if ms == nil {
				ms = branches()
			}
			m := d.manager(ms)
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
			slices.Sort(wantTables)
			wantIDs(t, "tables", d.tables(), wantTables)
		})
	}
}

func testUnknownTarget(t *testing.T, tgt Target) {
	d := tgt.open(t)
	m := d.manager(branches())
	if _, err := m.UpTo(t.Context(), "a1"); err != nil {
		t.Fatal(err)
	}
	before := d.dump()
	tests := []struct {
		name string
		call func() error
	}{
		{"UpTo", func() error { _, err := m.UpTo(t.Context(), "nope"); return err }},
		{"DownTo", func() error { _, err := m.DownTo(t.Context(), "nope"); return err }},
		{"Baseline", func() error { return m.Baseline(t.Context(), "nope") }},
		{"Plan", func() error {
			_, err := m.Plan(t.Context(), migration.Target{Direction: migration.DirectionUp, ID: "nope"})
			return err
		}},
		{"Repair", func() error { return m.Repair(t.Context(), "nope", true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, migration.ErrUnknownMigration) || !strings.Contains(err.Error(), "nope") {
				t.Fatalf("error = %v, want ErrUnknownMigration naming nope", err)
			}
		})
	}
	if after := d.dump(); after != before {
		t.Errorf("refused calls changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// testAtomic: WithAtomic makes a run all or nothing where DDL is
// transactional, and is refused where it is not.
func testAtomic(t *testing.T, tgt Target) {
	if !tgt.Transactional() {
		d := tgt.open(t)
		before := d.dump()
		_, err := migration.NewManager(d.DB, tgt.Dialect, branches(), migration.WithAtomic())
		if err == nil || !strings.Contains(err.Error(), "WithAtomic") {
			t.Fatalf("NewManager with WithAtomic = %v, want a refusal", err)
		}
		if after := d.dump(); after != before {
			t.Fatalf("the refused manager changed the database:\n%s", after)
		}
		return
	}
	t.Run("all applied, progress after the commit", func(t *testing.T) {
		d := tgt.open(t)
		var seen []string
		m := d.manager(branches(), migration.WithAtomic(),
			migration.WithProgress(func(r migration.Result) { seen = append(seen, r.ID) }))
		res, err := m.Up(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, "results", resultIDs(res), branchIDs)
		wantIDs(t, "progress", seen, branchIDs)
		wantIDs(t, "applied", applied(t, m), branchIDs)
		if res, err := m.Up(t.Context()); err != nil || res != nil {
			t.Fatalf("Up when up to date = %v, %v; want nil, nil", res, err)
		}
		res, err = m.Reset(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, "reset", resultIDs(res), []string{"merge", "b1", "a2", "a1", "base"})
		wantIDs(t, "tables", d.tables(), nil)
	})
	t.Run("a failure rolls back the whole run", func(t *testing.T) {
		d := tgt.open(t)
		ms := append(branches(), migration.SQL("broken", `INSERT INTO t_nowhere (id) VALUES (1)`, `SELECT 1`, "a1"))
		m := d.manager(ms, migration.WithAtomic(), migration.WithLockTimeout(shortWait))
		if _, err := m.UpTo(t.Context(), "base"); err != nil {
			t.Fatal(err)
		}
		before := d.dump()
		res, err := m.Up(t.Context())
		wantStepErr(t, err, "broken", migration.StepUp)
		if !strings.Contains(err.Error(), "nothing was applied") || !strings.Contains(err.Error(), "t_nowhere") {
			t.Fatalf("Up = %v, want the driver's error and the whole run rolled back", err)
		}
		wantIDs(t, "results", resultIDs(res), []string{"broken"})
		if after := d.dump(); after != before {
			t.Fatalf("a failed atomic run changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		wantIDs(t, "applied", applied(t, m), []string{"base"})
		d.lockFree(migration.DefaultTable)
		res, err = m.UpTo(t.Context(), "a2")
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, "UpTo after the failure", resultIDs(res), []string{"a1", "a2"})
	})
	t.Run("refuses a migration outside a transaction", func(t *testing.T) {
		d := tgt.open(t)
		ms := []migration.Migration{table("a"), &migration.Func{Name: "concurrently", Requires: []string{"a"}, NoTx: true,
			UpFn: nothing, DownFn: nothing}}
		m := d.manager(ms, migration.WithAtomic())
		_, err := m.Up(t.Context())
		if err == nil || !strings.Contains(err.Error(), "concurrently") || !strings.Contains(err.Error(), "atomic") {
			t.Fatalf("Up = %v, want a refusal naming the migration", err)
		}
		wantIDs(t, "applied", applied(t, m), nil)
		wantIDs(t, "tables", d.tables(), nil)
	})
}
