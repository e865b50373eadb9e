package migration_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

// badUndo is the SQLite dialect with hooks whose undo fails after doing
// its work, as when a connection breaks while its PRAGMAs are put back.
type badUndo struct {
	*sqlite.Dialect
}

var errUndo = errors.New("undo failed")

func (d badUndo) PrepareConn(ctx context.Context, conn *sql.Conn) (func(context.Context) error, error) {
	restore, err := d.Dialect.PrepareConn(ctx, conn)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return errors.Join(restore(ctx), errUndo) }, nil
}

// TestUndoFailureDiscardsConnection: whichever entry point prepared the
// locked connection (a run, the dry run, the SQL preview), a connection
// whose preparation cannot be undone is not returned to the pool half
// prepared, and the error says so.
func TestUndoFailureDiscardsConnection(t *testing.T) {
	for _, tt := range []struct {
		name string
		call func(context.Context, *migration.Manager) error
	}{
		{"up", func(ctx context.Context, m *migration.Manager) error { _, err := m.Up(ctx); return err }},
		{"validate", func(ctx context.Context, m *migration.Manager) error { return m.Validate(ctx) }},
		{"plan sql", func(ctx context.Context, m *migration.Manager) error {
			_, err := m.PlanSQL(ctx, migration.Target{Direction: migration.DirectionUp})
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			var d dialect.Dialect = badUndo{sqlite.New()}
			m, err := migration.NewManager(db, d, []migration.Migration{table("0001")})
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(t.Context(), m)
			if !errors.Is(err, errUndo) || !strings.Contains(err.Error(), "state") {
				t.Fatalf("error = %v, want the failed undo, at step state", err)
			}
			if open := db.Stats().OpenConnections; open != 0 {
				t.Fatalf("%d connection(s) still open: the half-prepared one went back to the pool", open)
			}
		})
	}
}
