package integration

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/schema"
)

// The built-in dialects describe schemas: the suite proves migrations
// reversible on each of them (its Reversible subtest).
var (
	_ schema.Inspector = (*sqlite.Dialect)(nil)
	_ schema.Inspector = (*postgres.Dialect)(nil)
	_ schema.Inspector = (*mysql.Dialect)(nil)
)

// targets are the built-in dialects on their databases: a SQLite file in
// the test's temporary directory, and fresh databases on the servers of
// STRATA_TEST_POSTGRES_DSN and STRATA_TEST_MYSQL_DSN (see package testdb:
// without them the server targets skip, or fail under
// STRATA_TEST_REQUIRE_SERVERS=1).
func targets() []Target {
	return []Target{
		{
			Name:    "sqlite",
			Dialect: sqlite.New(),
			Open: func(t *testing.T) (*sql.DB, string) {
				t.Helper()
				path := filepath.Join(t.TempDir(), "db", "test.db")
				db, err := sqlite.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db, path
			},
			Reopen: sqlite.Open,
		},
		{
			Name:    "postgres",
			Dialect: postgres.New(),
			Open:    func(t *testing.T) (*sql.DB, string) { t.Helper(); return pgtest.New(t) },
			Reopen:  reopener(postgres.DriverName),
			Schemas: true,
		},
		{
			Name:    "mysql",
			Dialect: mysql.New(),
			Open:    func(t *testing.T) (*sql.DB, string) { t.Helper(); return mytest.New(t) },
			Reopen:  reopener(mysql.DriverName),
		},
	}
}

func reopener(driver string) func(string) (*sql.DB, error) {
	return func(dsn string) (*sql.DB, error) {
		db, err := sql.Open(driver, dsn)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
}

func target(name string) (Target, bool) {
	for _, tgt := range targets() {
		if tgt.Name == name {
			return tgt, true
		}
	}
	return Target{}, false
}

// TestMain lets the test binary act as a migrator in another process: the
// process tests start it again with childEnv naming the role.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "" {
		os.Exit(m.Run())
	}
	if err := runChild(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func TestSuite(t *testing.T) {
	for _, tgt := range targets() {
		t.Run(tgt.Name, func(t *testing.T) { Run(t, tgt) })
	}
}

// opaque hides every method of a dialect but those of dialect.Dialect, as
// a custom dialect without optional interfaces has them.
type opaque struct{ dialect.Dialect }

func (opaque) Name() string { return "opaque-test" }

// TestReversibleWithoutInspector: for a custom dialect that cannot
// describe schemas, the Reversible subtest says so and passes, without
// opening a database.
func TestReversibleWithoutInspector(t *testing.T) {
	tgt := Target{
		Name:    "opaque",
		Dialect: opaque{sqlite.New()},
		Open: func(t *testing.T) (*sql.DB, string) {
			t.Error("the database was opened")
			return nil, ""
		},
		Reopen: sqlite.Open,
	}
	testReversible(t, tgt)
}
