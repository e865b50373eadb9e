package integration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/strata-go/strata/migration"
)

// createBad creates t_bad, the trace a failing migration leaves where DDL
// is not transactional.
func createBad(ctx context.Context, tx *migration.Tx) error {
	_, err := tx.ExecContext(ctx, `CREATE TABLE t_bad (id INTEGER PRIMARY KEY)`)
	return err
}

func nothing(context.Context, *migration.Tx) error { return nil }

func testFailures(t *testing.T, tgt Target) {
	tests := []struct {
		name string
		// bad returns the failing migration; cancel cancels the run's
		// context.
		bad      func(cancel context.CancelFunc) *migration.Func
		wantStep string
		check    func(t *testing.T, err error)
	}{
		{
			name: "failing Up",
			bad: func(context.CancelFunc) *migration.Func {
				return &migration.Func{Name: "bad", Requires: []string{"base"}, DownFn: nothing,
					UpFn: func(ctx context.Context, tx *migration.Tx) error {
						if err := createBad(ctx, tx); err != nil {
							return err
						}
						return fmt.Errorf("step two: %w", errBoom)
					}}
			},
			wantStep: migration.StepUp,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), "step two: boom") {
					t.Errorf("error = %v, want errors.Is(err, errBoom) and its text", err)
				}
			},
		},
		{
			name: "panic is recovered",
			bad: func(context.CancelFunc) *migration.Func {
				return &migration.Func{Name: "bad", Requires: []string{"base"}, DownFn: nothing,
					UpFn: func(ctx context.Context, tx *migration.Tx) error {
						if err := createBad(ctx, tx); err != nil {
							return err
						}
						var m map[string]int
						//lint:ignore SA5000 the panic is what this case is for
						m["x"] = 1 // nil map: panics
						return nil
					}}
			},
			wantStep: migration.StepUp,
			check: func(t *testing.T, err error) {
				var pe *migration.PanicError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), "nil map") || len(pe.Stack) == 0 {
					t.Errorf("error = %v, want a *migration.PanicError with the value and a stack", err)
				}
			},
		},
		{
			name: "panic with an error value",
			bad: func(context.CancelFunc) *migration.Func {
				return &migration.Func{Name: "bad", Requires: []string{"base"}, DownFn: nothing,
					UpFn: func(ctx context.Context, tx *migration.Tx) error {
						if err := createBad(ctx, tx); err != nil {
							return err
						}
						panic(errBoom)
					}}
			},
			wantStep: migration.StepUp,
			check: func(t *testing.T, err error) {
				var pe *migration.PanicError
				if !errors.As(err, &pe) || !errors.Is(err, errBoom) {
					t.Errorf("error = %v, want a *migration.PanicError wrapping errBoom", err)
				}
			},
		},
		{
			name: "SQL error",
			bad: func(context.CancelFunc) *migration.Func {
				return &migration.Func{Name: "bad", Requires: []string{"base"}, DownFn: nothing,
					UpFn: func(ctx context.Context, tx *migration.Tx) error {
						if err := createBad(ctx, tx); err != nil {
							return err
						}
						_, err := tx.ExecContext(ctx, `INSERT INTO t_nowhere (id) VALUES (1)`)
						return err
					}}
			},
			wantStep: migration.StepUp,
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "t_nowhere") {
					t.Errorf("error = %v, want the driver's error naming t_nowhere", err)
				}
			},
		},
		{
			name: "Validate stops the migration before Up",
			bad: func(context.CancelFunc) *migration.Func {
				return &migration.Func{Name: "bad", Requires: []string{"base"}, DownFn: nothing,
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
					UpFn: func(context.Context, *migration.Tx) error {
						panic("Up must not run when Validate fails")
					}}
			},
			wantStep: migration.StepValidate,
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "t_base is empty") {
					t.Errorf("error = %v, want the precondition's text", err)
				}
			},
		},
		{
			name: "context cancelled during Up",
			bad: func(cancel context.CancelFunc) *migration.Func {
				return &migration.Func{Name: "bad", Requires: []string{"base"}, DownFn: nothing,
					UpFn: func(ctx context.Context, tx *migration.Tx) error {
						if err := createBad(ctx, tx); err != nil {
							return err
						}
						cancel()
						_, err := tx.ExecContext(ctx, `INSERT INTO t_bad (id) VALUES (1)`)
						return err
					}}
			},
			wantStep: migration.StepUp,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error = %v, want context.Canceled", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tgt.open(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			m := d.manager([]migration.Migration{table("base"), tt.bad(cancel), table("after", "bad")},
				migration.WithLockTimeout(shortWait))
			res, err := m.Up(ctx)
			wantStepErr(t, err, "bad", tt.wantStep)
			if !strings.HasPrefix(err.Error(), "migration bad: "+tt.wantStep+": ") {
				t.Errorf("error text %q does not start with the migration and step", err)
			}
			tt.check(t, err)
			wantIDs(t, "results", resultIDs(res), []string{"base", "bad"})
			if res[0].Err != nil || res[1].Err == nil {
				t.Errorf("result errors = %v, %v; want nil, the failure", res[0].Err, res[1].Err)
			}
			// The lock was released, on the server too.
			d.lockFree(migration.DefaultTable)

			if tgt.Transactional() || tt.wantStep == migration.StepValidate {
				// Nothing of bad remains; it and what follows stay pending.
				wantIDs(t, "tables", d.tables(), []string{"t_base"})
			} else {
				// The failed migration is recorded dirty and blocks every
				// run until an operator repairs it.
				if !strings.Contains(err.Error(), "dirty") {
					t.Errorf("error %q does not say the migration is recorded dirty", err)
				}
				st, err := m.Status(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				wantIDs(t, "status", states(st), []string{"base=applied", "bad=dirty", "after=pending"})
				_, err = m.Up(t.Context())
				wantDirty(t, err, "bad")
				// The operator inspects what bad did, undoes it, and marks
				// it not applied.
				wantIDs(t, "tables", d.tables(), []string{"t_bad", "t_base"})
				d.exec(`DROP TABLE t_bad`)
				if err := m.Repair(t.Context(), "bad", false); err != nil {
					t.Fatalf("Repair: %v", err)
				}
			}
			wantIDs(t, "applied", applied(t, m), []string{"base"})
			pending, err := m.Pending(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			wantIDs(t, "pending", migrationIDs(pending), []string{"bad", "after"})
			st, err := m.Status(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			wantIDs(t, "status", states(st), []string{"base=applied", "bad=pending", "after=pending"})
			if tgt.Dialect.Name() == sqliteName {
				// Foreign keys are enforced again on the connection.
				var fk int
				if err := d.QueryRowContext(t.Context(), `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
					t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
				}
			}
			// The manager goes on working.
			res, err = m.Down(t.Context())
			if err != nil {
				t.Fatalf("Down after the failure: %v", err)
			}
			wantIDs(t, "rolled back", resultIDs(res), []string{"base"})
		})
	}

	t.Run("failing Down", func(t *testing.T) {
		d := tgt.open(t)
		bad := table("bad", "base")
		bad.DownFn = func(ctx context.Context, tx *migration.Tx) error {
			if _, err := tx.ExecContext(ctx, `DROP TABLE t_bad`); err != nil {
				return err
			}
			return errBoom
		}
		m := d.manager([]migration.Migration{table("base"), bad}, migration.WithLockTimeout(shortWait))
		if _, err := m.Up(t.Context()); err != nil {
			t.Fatal(err)
		}
		res, err := m.Down(t.Context())
		wantStepErr(t, err, "bad", migration.StepDown)
		if !errors.Is(err, errBoom) {
			t.Errorf("error = %v, want errBoom", err)
		}
		wantIDs(t, "results", resultIDs(res), []string{"bad"})
		d.lockFree(migration.DefaultTable)
		st, err := m.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if tgt.Transactional() {
			// Rolled back: still applied, its table still there.
			wantIDs(t, "status", states(st), []string{"base=applied", "bad=applied"})
			wantIDs(t, "tables", d.tables(), []string{"t_bad", "t_base"})
			return
		}
		// Half done: dirty until repaired. The table is gone, so the
		// operator records the Down as complete.
		wantIDs(t, "status", states(st), []string{"base=applied", "bad=dirty"})
		wantIDs(t, "tables", d.tables(), []string{"t_base"})
		_, err = m.Down(t.Context())
		wantDirty(t, err, "bad")
		if err := m.Repair(t.Context(), "bad", false); err != nil {
			t.Fatal(err)
		}
		wantIDs(t, "applied", applied(t, m), []string{"base"})
	})
}

// testDirtyAndRepair drives a migration that runs outside a transaction
// (dirty on every dialect when it fails) through both repairs.
func testDirtyAndRepair(t *testing.T, tgt Target) {
	fail := true
	flaky := &migration.Func{Name: "flaky", Requires: []string{"base"}, NoTx: true,
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			if tx.InTransaction() {
				return errors.New("a NoTx migration got a transaction")
			}
			if err := record(ctx, tx, "flaky", "up"); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `CREATE TABLE t_flaky (id INTEGER PRIMARY KEY)`); err != nil {
				return err
			}
			if fail {
				return errBoom
			}
			return nil
		},
		DownFn: func(ctx context.Context, tx *migration.Tx) error {
			_, err := tx.ExecContext(ctx, `DROP TABLE t_flaky`)
			return err
		},
	}
	d := tgt.open(t)
	m := d.manager([]migration.Migration{table("base"), flaky, table("after", "flaky")},
		migration.WithLockTimeout(shortWait))
	res, err := m.Up(t.Context())
	wantStepErr(t, err, "flaky", migration.StepUp)
	if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), "dirty") {
		t.Fatalf("Up = %v, want errBoom and a word about the dirty state", err)
	}
	wantIDs(t, "results", resultIDs(res), []string{"base", "flaky"})
	d.lockFree(migration.DefaultTable)

	// Every later run stops, naming the migration and how to repair it.
	refusals := []struct {
		name string
		call func() error
	}{
		{"Up", func() error { _, err := m.Up(t.Context()); return err }},
		{"UpTo", func() error { _, err := m.UpTo(t.Context(), "after"); return err }},
		{"Down", func() error { _, err := m.Down(t.Context()); return err }},
		{"Reset", func() error { _, err := m.Reset(t.Context()); return err }},
		{"Baseline", func() error { return m.Baseline(t.Context(), "after") }},
		{"Plan", func() error {
			_, err := m.Plan(t.Context(), migration.Target{Direction: migration.DirectionUp})
			return err
		}},
		{"Validate", func() error { return m.Validate(t.Context()) }},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) { wantDirty(t, r.call(), "flaky") })
	}
	st, err := m.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "status", states(st), []string{"base=applied", "flaky=dirty", "after=pending"})
	h, err := m.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[1].ID != "flaky" || !h[1].Dirty {
		t.Fatalf("history = %+v, want flaky dirty last", h)
	}
	if err := m.Repair(t.Context(), "base", true); err == nil || !strings.Contains(err.Error(), "not dirty") {
		t.Fatalf("Repair of a clean migration = %v, want a refusal", err)
	}
	if err := m.Repair(t.Context(), "after", true); !errors.Is(err, migration.ErrUnknownMigration) {
		t.Fatalf("Repair of a migration without a row = %v, want ErrUnknownMigration", err)
	}

	// Not applied: the operator undid it by hand; the next Up runs it
	// again.
	d.exec(`DROP TABLE t_flaky`)
	if err := m.Repair(t.Context(), "flaky", false); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied after repair", applied(t, m), []string{"base"})
	fail = false
	res, err = m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "Up after repair", resultIDs(res), []string{"flaky", "after"})
	if res, err := m.Up(t.Context()); err != nil || res != nil {
		t.Fatalf("Up when up to date = %v, %v; want nil, nil", res, err)
	}
	if n := d.runs("flaky", "up"); n != 2 {
		t.Errorf("flaky's Up ran %d times, want 2 (failed, then after the repair)", n)
	}

	// A failing Down of a NoTx migration leaves it dirty too; the
	// operator finds it did nothing and repairs it as applied.
	if _, err := m.Down(t.Context()); err != nil { // after
		t.Fatal(err)
	}
	flaky.DownFn = func(context.Context, *migration.Tx) error { return errBoom }
	if _, err := m.Down(t.Context()); !errors.Is(err, errBoom) {
		t.Fatalf("Down = %v, want errBoom", err)
	}
	_, err = m.Up(t.Context())
	wantDirty(t, err, "flaky")
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
		t.Fatalf("Up when up to date = %v, %v; want nil, nil", res, err)
	}
	if err := m.Repair(t.Context(), "flaky", true); err == nil || !strings.Contains(err.Error(), "not dirty") {
		t.Fatalf("second Repair = %v, want a refusal", err)
	}
}

// testNoTransaction runs a migration that must not run in a transaction:
// on PostgreSQL it builds an index CONCURRENTLY, which fails inside one.
func testNoTransaction(t *testing.T, tgt Target) {
	base := table("base")
	up := base.UpFn
	base.UpFn = func(ctx context.Context, tx *migration.Tx) error {
		if tx.InTransaction() != tgt.Transactional() {
			return fmt.Errorf("InTransaction() = %v, want %v", tx.InTransaction(), tgt.Transactional())
		}
		return up(ctx, tx)
	}
	concurrently := ""
	if tgt.Dialect.Name() == postgresName {
		concurrently = "CONCURRENTLY "
	}
	index := &migration.Func{Name: "index", Requires: []string{"base"}, NoTx: true,
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			if tx.InTransaction() {
				return errors.New("a NoTx migration got a transaction")
			}
			if err := record(ctx, tx, "index", "up"); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `CREATE INDEX `+concurrently+`ix_base_note ON t_base (note)`)
			return err
		},
		DownFn: func(ctx context.Context, tx *migration.Tx) error {
			if err := record(ctx, tx, "index", "down"); err != nil {
				return err
			}
			q := `DROP INDEX ` + concurrently + `ix_base_note`
			if tgt.Dialect.Name() == mysqlName {
				q += ` ON t_base`
			}
			_, err := tx.ExecContext(ctx, q)
			return err
		},
	}
	d := tgt.open(t)
	m := d.manager([]migration.Migration{base, index, table("after", "index")})
	steps, err := m.Plan(t.Context(), migration.Target{Direction: migration.DirectionUp})
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 || steps[0].NoTransaction || !steps[1].NoTransaction {
		t.Errorf("plan = %+v, want index alone marked NoTransaction", steps)
	}
	res, err := m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied", resultIDs(res), []string{"base", "index", "after"})
	if !hasIndex(d.describe(), "t_base", "ix_base_note") {
		t.Fatalf("index ix_base_note missing: %+v", d.describe())
	}
	h, err := m.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range h {
		if r.Dirty || r.Duration <= 0 {
			t.Errorf("%s: dirty=%v duration=%v, want clean with a duration", r.ID, r.Dirty, r.Duration)
		}
	}
	if res, err := m.Up(t.Context()); err != nil || res != nil {
		t.Fatalf("Up when up to date = %v, %v; want nil, nil", res, err)
	}
	res, err = m.DownTo(t.Context(), "base")
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "rolled back", resultIDs(res), []string{"after", "index"})
	if hasIndex(d.describe(), "t_base", "ix_base_note") {
		t.Fatal("index ix_base_note still there after Down")
	}
	if n := d.runs("index", "down"); n != 1 {
		t.Errorf("index's Down ran %d times", n)
	}
	d.lockFree(migration.DefaultTable)
}

func hasIndex(tables []Table, table, index string) bool {
	for _, tb := range tables {
		if tb.Name == table {
			for _, i := range tb.Indexes {
				if i == index {
					return true
				}
			}
		}
	}
	return false
}

func testDryRun(t *testing.T, tgt Target) {
	type wantErr struct{ id, step, text string }
	failingValidate := table("base")
	failingValidate.ValidateFn = func(context.Context, *migration.Tx) error {
		return errors.New("precondition not met")
	}
	needsMerge := table("needs_merge", "merge")
	needsMerge.ValidateFn = func(ctx context.Context, tx *migration.Tx) error {
		var n int
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM t_merge`).Scan(&n)
	}
	tests := []struct {
		name string
		ms   []migration.Migration
		upTo string // applied before the dry run
		// The dry run's outcome with and without transactional DDL; nil
		// is success.
		wantTx, wantNoTx *wantErr
	}{
		{name: "changes nothing", ms: branches(), upTo: "a1"},
		{name: "on a new database creates not even the version table", ms: branches()},
		{
			name: "finds a failing first Validate",
			ms:   []migration.Migration{failingValidate, table("a1", "base")},
			// Without transactional DDL, the first migration's
			// preconditions are what a dry run can check.
			wantTx:   &wantErr{"base", migration.StepValidate, "precondition not met"},
			wantNoTx: &wantErr{"base", migration.StepValidate, "precondition not met"},
		},
		{
			name: "a broken later migration is found only with transactional DDL",
			ms:   append(branches(), migration.SQL("broken", `INSERT INTO t_nowhere (id) VALUES (1)`, `SELECT 1`, "merge")),
			upTo: "a1",
			// Without transactional DDL it would have to run the earlier
			// migrations for real to get there: it does not, and says so
			// in the log.
			wantTx:   &wantErr{"broken", migration.StepUp, "t_nowhere"},
			wantNoTx: nil,
		},
		{
			name: "a later Validate sees what earlier Ups did",
			ms:   append(branches(), needsMerge),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tgt.open(t)
			var logs logBuffer
			m := d.manager(tt.ms, migration.WithLogger(logs.logger()))
			if tt.upTo != "" {
				if _, err := m.UpTo(t.Context(), tt.upTo); err != nil {
					t.Fatal(err)
				}
			}
			before, history := d.dump(), d.history(m)
			err := m.Validate(t.Context())
			want := tt.wantNoTx
			if tgt.Transactional() {
				want = tt.wantTx
			}
			switch {
			case want == nil && err != nil:
				t.Fatalf("Validate = %v, want nil", err)
			case want != nil:
				wantStepErr(t, err, want.id, want.step)
				if !strings.Contains(err.Error(), want.text) {
					t.Errorf("error = %v, want it to contain %q", err, want.text)
				}
			}
			if after := d.dump(); after != before {
				t.Errorf("dry run changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if h := d.history(m); h != history {
				t.Errorf("dry run changed the version table: %s, was %s", h, history)
			}
			if !tgt.Transactional() && !strings.Contains(logs.String(), "dry run") {
				t.Errorf("a dry run without transactional DDL does not say what it checked:\n%s", logs.String())
			}
			d.lockFree(migration.DefaultTable)
			if want == nil {
				// It was right: the real run succeeds, or fails only
				// where the dry run could not look.
				res, err := m.Up(t.Context())
				if tt.wantTx != nil && !tgt.Transactional() {
					wantStepErr(t, err, tt.wantTx.id, tt.wantTx.step)
				} else if err != nil {
					t.Fatalf("Up after a clean dry run: %v", err)
				} else if len(res) == 0 {
					t.Fatal("Up after the dry run applied nothing")
				}
			}
		})
	}
}
