package migration_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

// nonTransactional is SQLite pretending its DDL cannot roll back, to test
// the manager's dirty-row protocol and what it refuses without a server.
type nonTransactional struct{ *sqlite.Dialect }

func (nonTransactional) TransactionalDDL() bool { return false }

func TestAtomic(t *testing.T) {
	t.Run("all applied, progress after the commit", func(t *testing.T) {
		db := openDB(t)
		var seen []string
		m := newManager(t, db, branches(), migration.WithAtomic(),
			migration.WithProgress(func(r migration.Result) { seen = append(seen, r.ID) }))
		res, err := m.Up(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, "results", resultIDs(res), []string{"base", "a1", "a2", "b1", "merge"})
		wantIDs(t, "progress", seen, []string{"base", "a1", "a2", "b1", "merge"})
		wantIDs(t, "applied", applied(t, m), []string{"base", "a1", "a2", "b1", "merge"})
		if res, err := m.Up(t.Context()); err != nil || res != nil {
			t.Fatalf("Up when up to date = %v, %v", res, err)
		}
		res, err = m.Reset(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, "reset", resultIDs(res), []string{"merge", "b1", "a2", "a1", "base"})
		wantIDs(t, "tables", tables(t, db), nil)
	})
	t.Run("a panicking progress callback loses no result of the commit", func(t *testing.T) {
		db := openDB(t)
		m := newManager(t, db, branches(), migration.WithAtomic(),
			migration.WithProgress(func(migration.Result) { panic("progress") }))
		res, err := m.Up(t.Context())
		var pe *migration.PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("Up = %v, want the callback's panic", err)
		}
		// The transaction committed before the callback ran: every
		// migration is applied, and the results must say so.
		wantIDs(t, "applied", applied(t, m), []string{"base", "a1", "a2", "b1", "merge"})
		wantIDs(t, "results", resultIDs(res), []string{"base", "a1", "a2", "b1", "merge"})
	})
	t.Run("a failure rolls back the whole run", func(t *testing.T) {
		db := openDB(t)
		ms := append(branches(), migration.SQL("broken", `INSERT INTO t_nowhere VALUES (1)`, ``, "a1"))
		m := newManager(t, db, ms, migration.WithAtomic())
		if _, err := m.UpTo(t.Context(), "base"); err != nil {
			t.Fatal(err)
		}
		before := schemaDump(t, db)
		res, err := m.Up(t.Context())
		var me *migration.Error
		if !errors.As(err, &me) || me.ID != "broken" || !strings.Contains(err.Error(), "nothing was applied") {
			t.Fatalf("Up = %v, want the failure of broken and the whole run rolled back", err)
		}
		wantIDs(t, "results", resultIDs(res), []string{"broken"})
		if after := schemaDump(t, db); after != before {
			t.Fatalf("a failed atomic run changed the database:\n%s", after)
		}
		wantIDs(t, "applied", applied(t, m), []string{"base"})
		// The in-memory state was restored too: a later run of a good
		// subset works.
		res, err = m.UpTo(t.Context(), "a2")
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, "UpTo after the failure", resultIDs(res), []string{"a1", "a2"})
	})
	t.Run("refuses a migration outside a transaction", func(t *testing.T) {
		db := openDB(t)
		ms := []migration.Migration{table("a"), &migration.Func{Name: "concurrently", Requires: []string{"a"}, NoTx: true,
			UpFn:   func(context.Context, *migration.Tx) error { return nil },
			DownFn: func(context.Context, *migration.Tx) error { return nil }}}
		m := newManager(t, db, ms, migration.WithAtomic())
		_, err := m.Up(t.Context())
		if err == nil || !strings.Contains(err.Error(), "concurrently") || !strings.Contains(err.Error(), "atomic") {
			t.Fatalf("Up = %v, want a refusal naming the migration", err)
		}
		wantIDs(t, "applied", applied(t, m), nil)
	})
	t.Run("refused where DDL is not transactional", func(t *testing.T) {
		_, err := migration.NewManager(openDB(t), nonTransactional{sqlite.New()}, branches(), migration.WithAtomic())
		if err == nil || !strings.Contains(err.Error(), "cannot roll back DDL") {
			t.Fatalf("NewManager = %v, want a refusal", err)
		}
	})
}

// TestNonTransactionalDialect runs the dirty-row protocol that MySQL uses,
// on SQLite.
func TestNonTransactionalDialect(t *testing.T) {
	db := openDB(t)
	fail := true
	ms := append(branches(), &migration.Func{Name: "flaky", Requires: []string{"merge"},
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			if tx.InTransaction() {
				return errors.New("got a transaction")
			}
			if fail {
				return errBoom
			}
			return nil
		},
		DownFn: func(context.Context, *migration.Tx) error { return nil }})
	m, err := migration.NewManager(db, nonTransactional{sqlite.New()}, ms)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Up(t.Context())
	if !errors.Is(err, errBoom) {
		t.Fatalf("Up = %v, want errBoom", err)
	}
	wantIDs(t, "results", resultIDs(res), []string{"base", "a1", "a2", "b1", "merge", "flaky"})
	if _, err := m.Up(t.Context()); !errors.Is(err, migration.ErrDirty) {
		t.Fatalf("second Up = %v, want ErrDirty", err)
	}
	if err := m.Repair(t.Context(), "flaky", false); err != nil {
		t.Fatal(err)
	}
	fail = false
	if res, err = m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "after repair", resultIDs(res), []string{"flaky"})
	// The start-up check sees the clean state.
	if res, err := m.Up(t.Context()); err != nil || res != nil {
		t.Fatalf("Up when up to date = %v, %v", res, err)
	}
	// Rolling back an older row outside a transaction keeps the start-up
	// check honest too.
	if res, err = m.DownTo(t.Context(), "b1"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "DownTo", resultIDs(res), []string{"flaky", "merge", "a2", "a1"})
	if res, err = m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "Up again", resultIDs(res), []string{"a1", "a2", "merge", "flaky"})
	h, err := m.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range h {
		if r.Dirty || r.Duration < 0 {
			t.Errorf("row %+v", r)
		}
	}
}
