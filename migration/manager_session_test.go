package migration_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

// TestTempVersionTableRefused: a version table in the temporary schema
// (SQLite's temp, PostgreSQL's pg_temp) would vanish with the connection,
// and the next process would apply every migration again: NewManager
// refuses it, whatever its case on SQLite, and accepts other schemas.
func TestTempVersionTableRefused(t *testing.T) {
	db := openDB(t)
	for _, name := range []string{"temp.strata", "TEMP.strata", "Temp.x"} {
		_, err := migration.NewManager(db, sqlite.New(), []migration.Migration{table("a")}, migration.WithTable(name))
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "temp") {
			t.Errorf("NewManager(WithTable(%q)) = %v, want a refusal naming the table", name, err)
		}
	}
	if _, err := migration.NewManager(db, sqlite.New(), []migration.Migration{table("a")}, migration.WithTable("main.strata")); err != nil {
		t.Errorf("NewManager(WithTable(%q)) = %v", "main.strata", err)
	}
	// PostgreSQL's temporary schema, by its alias or its own name.
	for _, name := range []string{"pg_temp.strata", "pg_temp_3.strata"} {
		_, err := migration.NewManager(db, postgres.New(), []migration.Migration{table("a")}, migration.WithTable(name))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("postgres: NewManager(WithTable(%q)) = %v, want a refusal naming the table", name, err)
		}
	}
	if _, err := migration.NewManager(db, postgres.New(), []migration.Migration{table("a")}, migration.WithTable("app.strata")); err != nil {
		t.Errorf("postgres: NewManager(WithTable(%q)) = %v", "app.strata", err)
	}
}

// TestTempTableDoesNotShadowVersionTable: a TEMP table named like the
// version table, created by a migration, receives none of the manager's
// writes and is gone after the run; another process reads every
// migration applied.
func TestTempTableDoesNotShadowVersionTable(t *testing.T) {
	db, path := openDBPath(t)
	db.SetMaxOpenConns(1)
	shadow := migration.SQL("0001_shadow", `CREATE TEMP TABLE strata_migrations AS SELECT * FROM main.strata_migrations WHERE 0`, ``)
	ms := []migration.Migration{shadow, table("b", "0001_shadow")}
	if _, err := newManager(t, db, ms).Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	other := openDBAt(t, path)
	st, err := newManager(t, other, ms).Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.State != migration.StateApplied {
			t.Errorf("%s is %s, want applied", s.ID, s.State)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM temp.sqlite_schema`).Scan(&n); err != nil || n != 0 {
		t.Errorf("temp objects after the run: %d (%v), want none", n, err)
	}
}

// TestInMemorySessionRestored: an in-memory database lives only as long as
// its one connection, so after a run the manager restores that
// connection's session rather than closing it: the data is still there,
// and what the migrations left (pragmas, an attached database, temporary
// tables, a transaction left open) is gone.
func TestInMemorySessionRestored(t *testing.T) {
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	probe := func() string {
		t.Helper()
		var s string
		err := db.QueryRow(`SELECT concat_ws('|', (SELECT * FROM pragma_foreign_keys), (SELECT * FROM pragma_legacy_alter_table),
			(SELECT * FROM pragma_recursive_triggers), (SELECT count(*) FROM pragma_database_list WHERE name <> 'temp'),
			(SELECT count(*) FROM temp.sqlite_schema))`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := probe()
	dirty := &migration.Func{Name: "0001_dirty", NoTx: true,
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			for _, s := range []string{`CREATE TABLE kept (id INTEGER)`, `INSERT INTO kept VALUES (1)`,
				`PRAGMA legacy_alter_table = ON`, `PRAGMA recursive_triggers = ON`, `PRAGMA foreign_keys = ON`,
				`ATTACH DATABASE ':memory:' AS aux`, `CREATE TEMP TABLE leftover (id INTEGER)`,
				`BEGIN`, `INSERT INTO kept VALUES (2)`} {
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return fmt.Errorf("%s: %w", s, err)
				}
			}
			return nil
		},
		DownFn: func(context.Context, *migration.Tx) error { return nil }}
	m := newManager(t, db, []migration.Migration{dirty, table("b", "0001_dirty")})
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := probe(); got != want {
		t.Errorf("after the run the connection has %s, want %s as before", got, want)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM kept`).Scan(&n); err != nil || n != 2 {
		t.Errorf("rows of the in-memory database after the run: %d (%v), want 2 (the transaction left open committed)", n, err)
	}
	st, err := m.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.State != migration.StateApplied {
			t.Errorf("%s is %s, want applied", s.ID, s.State)
		}
	}
}
