package migration_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

func dialectFor(testing.TB) dialect.Dialect { return sqlite.New() }

// openDB opens a fresh SQLite database file of the test's own.
func openDB(tb testing.TB) *sql.DB {
	tb.Helper()
	db, _ := openDBPath(tb)
	return db
}

func openDBPath(tb testing.TB) (*sql.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "db", "test.db")
	db, err := sqlite.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, path
}

func newManager(tb testing.TB, db *sql.DB, ms []migration.Migration, opts ...migration.Option) *migration.Manager {
	tb.Helper()
	m, err := migration.NewManager(db, sqlite.New(), ms, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// table returns a migration creating table t_<id> (and inserting a row into
// runs, counting how often its Up ran) and dropping it on Down.
func table(id string, deps ...string) *migration.Func {
	name := "t_" + id
	return &migration.Func{
		Name:     id,
		Desc:     "create " + name,
		Requires: deps,
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS runs (id TEXT, dir TEXT)`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO runs VALUES (?, 'up')`, id); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `CREATE TABLE `+name+` (id INTEGER PRIMARY KEY)`)
			return err
		},
		DownFn: func(ctx context.Context, tx *migration.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO runs VALUES (?, 'down')`, id); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DROP TABLE `+name)
			return err
		},
	}
}

func tables(tb testing.TB, db *sql.DB) []string {
	tb.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 't\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return names
}

func applied(tb testing.TB, m *migration.Manager) []string {
	tb.Helper()
	h, err := m.History(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for _, r := range h {
		ids = append(ids, r.ID)
	}
	return ids
}

func resultIDs(rs []migration.Result) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func wantIDs(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if !slices.Equal(got, want) {
		tb.Fatalf("%s = %q, want %q", what, got, want)
	}
}

// schemaDump returns every object's SQL and every row of every table, to
// compare a database before and after something that must change nothing.
func schemaDump(tb testing.TB, db *sql.DB) string {
	tb.Helper()
	var b bytes.Buffer
	rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name`)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var typ, name, sqlText string
		if err := rows.Scan(&typ, &name, &sqlText); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s: %s\n", typ, name, sqlText)
		if typ == "table" {
			names = append(names, name)
		}
	}
	rows.Close()
	for _, n := range names {
		var count int
		if err := db.QueryRow(`SELECT count(*) FROM ` + dialect.QuoteDouble(n)).Scan(&count); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, "rows %s: %d\n", n, count)
	}
	return b.String()
}

// runCount returns how often the Up of id ran and was committed.
func runCount(tb testing.TB, db *sql.DB, id string) int {
	tb.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM runs WHERE id = ? AND dir = 'up'`, id).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func logger(b *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func sqliteOpen(path string) (*sql.DB, error) { return sqlite.Open(path) }

func openDBAt(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func slicesSort(s []string) { slices.Sort(s) }
