package sqlfile_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/migration"
)

// TestPlanSQL: files are previewed from their text everywhere; a Go
// migration's statements are captured from a rolled-back dry run where DDL
// is transactional and reported as not previewable on MySQL. Nothing is
// applied.
func TestPlanSQL(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			db := tg.open(t)
			ctx := t.Context()
			goMig := &migration.Func{
				Name:     "20_go",
				Requires: []string{"10_seed_accounts"},
				UpFn: func(ctx context.Context, tx *migration.Tx) error {
					_, err := tx.ExecContext(ctx, "UPDATE accounts SET city = 'x' WHERE id = 1")
					return err
				},
				DownFn: func(ctx context.Context, tx *migration.Tx) error { return nil },
			}
			m, err := migration.NewManager(db, tg.d, append(load(t, "migrate"), goMig))
			if err != nil {
				t.Fatal(err)
			}
			steps, err := m.PlanSQL(ctx, migration.Target{Direction: migration.DirectionUp})
			if err != nil {
				t.Fatal(err)
			}
			if len(steps) != 4 {
				t.Fatalf("%d steps", len(steps))
			}
			want := []string{"CREATE TABLE accounts (\n  id int NOT NULL PRIMARY KEY,\n  email varchar(200) NOT NULL\n)", "CREATE UNIQUE INDEX accounts_email ON accounts (email)"}
			if steps[0].Preview != migration.PreviewFile || !slices.Equal(steps[0].SQL, want) {
				t.Errorf("step 0: %q %q", steps[0].Preview, steps[0].SQL)
			}
			g := steps[3]
			if tg.d.TransactionalDDL() {
				if g.Preview != migration.PreviewDryRun || !slices.Equal(g.SQL, []string{"UPDATE accounts SET city = 'x' WHERE id = 1"}) {
					t.Errorf("go step: %q %q %q", g.Preview, g.SQL, g.PreviewNote)
				}
			} else if g.Preview != migration.PreviewNone || !strings.Contains(g.PreviewNote, "cannot be previewed") {
				t.Errorf("go step on %s: %q %q", tg.name, g.Preview, g.PreviewNote)
			}
			if ok, _ := tg.d.HasTable(ctx, db, "accounts"); ok {
				t.Error("plan --sql left the accounts table behind")
			}
			if p, err := m.Pending(ctx); err != nil || len(p) != 4 {
				t.Errorf("pending after PlanSQL = %d, %v", len(p), err)
			}
		})
	}
}

// TestPlanSQLStopsAtNoTransaction: the dry run cannot roll back a
// migration that runs outside a transaction, so it stops there; files
// after it are still read, Go migrations after it are not previewed. Down
// is previewed too.
func TestPlanSQLStopsAtNoTransaction(t *testing.T) {
	tg := targets()[0] // SQLite
	db := tg.open(t)
	ctx := t.Context()
	noTx := &migration.Func{Name: "30_notx", Requires: []string{"0002_team_names"}, NoTx: true,
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			_, err := tx.ExecContext(ctx, "CREATE TABLE n (id int)")
			return err
		},
		DownFn: func(ctx context.Context, tx *migration.Tx) error {
			_, err := tx.ExecContext(ctx, "DROP TABLE n")
			return err
		}}
	after := migration.SQL("40_after", "CREATE TABLE after (id int)", "DROP TABLE after", "30_notx")
	m, err := migration.NewManager(db, tg.d, append(load(t, "strata"), noTx, after))
	if err != nil {
		t.Fatal(err)
	}
	steps, err := m.PlanSQL(ctx, migration.Target{Direction: migration.DirectionUp})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]migration.Step{}
	for _, s := range steps {
		got[s.ID] = s
	}
	if s := got["0002_team_names"]; s.Preview != migration.PreviewFile || len(s.SQL) != 1 {
		t.Errorf("no-transaction file: %q %q", s.Preview, s.SQL)
	}
	if s := got["30_notx"]; s.Preview != migration.PreviewNone || !strings.Contains(s.PreviewNote, "outside a transaction") {
		t.Errorf("no-transaction Go migration: %q %q", s.Preview, s.PreviewNote)
	}
	if s := got["40_after"]; s.Preview != migration.PreviewNone || !strings.Contains(s.PreviewNote, "stopped before") {
		t.Errorf("after the stop: %q %q", s.Preview, s.PreviewNote)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	down, err := m.PlanSQL(ctx, migration.Target{Direction: migration.DirectionDown})
	if err != nil {
		t.Fatal(err)
	}
	if len(down) != 1 || down[0].ID != "40_after" || down[0].Preview != migration.PreviewDryRun || !slices.Equal(down[0].SQL, []string{"DROP TABLE after"}) {
		t.Errorf("down plan = %+v", down)
	}
	if ok, _ := tg.d.HasTable(ctx, db, "after"); !ok {
		t.Error("the down dry run dropped the table")
	}
}
