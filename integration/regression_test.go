package integration

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/migration"
)

// createsTableOnLookup is a dialect whose HasTable first lets "another
// process" create the version table: it reproduces, deterministically, a
// migrator that reads the version table just before another one creates
// it, and asks whether it exists just after.
type createsTableOnLookup struct {
	dialect.Dialect
	other *sql.DB
	once  sync.Once
}

func (c *createsTableOnLookup) HasTable(ctx context.Context, q dialect.Execer, table string) (bool, error) {
	var err error
	c.once.Do(func() {
		for _, stmt := range c.Dialect.VersionTableDDL(table) {
			if _, err = c.other.ExecContext(ctx, stmt); err != nil {
				return
			}
		}
	})
	if err != nil {
		return false, err
	}
	return c.Dialect.HasTable(ctx, q, table)
}

// TestVersionTableCreatedWhileReading: a version table that another
// migrator creates between this one's failed read and its existence check
// is an empty version table, not an error. A hundred processes starting at
// once on a new PostgreSQL database hit this window (TestManyProcesses).
func TestVersionTableCreatedWhileReading(t *testing.T) {
	calls := []struct {
		name string
		call func(context.Context, *migration.Manager) error
	}{
		{"Up", func(ctx context.Context, m *migration.Manager) error { _, err := m.Up(ctx); return err }},
		{"Status", func(ctx context.Context, m *migration.Manager) error { _, err := m.Status(ctx); return err }},
	}
	for _, tgt := range targets() {
		for _, c := range calls {
			t.Run(tgt.Name+"/"+c.name, func(t *testing.T) {
				d := tgt.open(t)
				racing := &createsTableOnLookup{Dialect: tgt.Dialect, other: d.reopen()}
				m := newManager(t, d.DB, racing, branches())
				if err := c.call(t.Context(), m); err != nil {
					t.Fatalf("%s on a version table created meanwhile: %v", c.name, err)
				}
			})
		}
	}
}
