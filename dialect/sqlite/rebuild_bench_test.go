package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
)

// BenchmarkDropColumn compares, on a 20,000-row table with three indexes,
// SQLite's native ALTER TABLE DROP COLUMN, sqlite.DropColumn (which uses it
// when it can) and a forced 12-step rebuild. Each iteration drops a column
// from a fresh copy of the table; making the copy is not timed.
func BenchmarkDropColumn(b *testing.B) {
	const rows = 20000
	methods := []struct {
		name string
		run  func(ctx context.Context, db *sql.DB) error
	}{
		{"native", func(ctx context.Context, db *sql.DB) error {
			_, err := db.ExecContext(ctx, `ALTER TABLE t DROP COLUMN d`)
			return err
		}},
		{"DropColumn", func(ctx context.Context, db *sql.DB) error { return sqlite.DropColumn(ctx, db, "t", "d") }},
		{"RebuildTable", func(ctx context.Context, db *sql.DB) error {
			return sqlite.RebuildTable(ctx, db, "t", sqlite.RemoveColumn("d"), sqlite.AlterColumn("a"))
		}},
	}
	for _, m := range methods {
		b.Run(m.name, func(b *testing.B) {
			db, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := b.Context()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				setup := []string{
					`DROP TABLE IF EXISTS t`,
					`CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL, c REAL, d TEXT)`,
					fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
						INSERT INTO t SELECT i, i * 7919 %% 100003, printf('user-%%08d', i * 104729 %% 1000003), i / 3.0, hex(randomblob(16)) FROM n`, rows),
					`CREATE INDEX t_a ON t (a)`,
					`CREATE UNIQUE INDEX t_b ON t (b)`,
					`CREATE INDEX t_c_a ON t (c DESC, a)`,
				}
				for _, s := range setup {
					if _, err := db.ExecContext(ctx, s); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if err := m.run(ctx, db); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows), "rows/op")
		})
	}
}
