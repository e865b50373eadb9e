package migration_test

import (
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
