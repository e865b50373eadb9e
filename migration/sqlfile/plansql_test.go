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
