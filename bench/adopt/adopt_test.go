package adopt_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	mmysql "github.com/golang-migrate/migrate/v4/database/mysql"
	mpgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	msqlite "github.com/golang-migrate/migrate/v4/database/sqlite3"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/pressly/goose/v3"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/sqlfile"
)

// The goose and golang-migrate directories of the sqlfile tests, written in
// the tools' own formats.
var fixtures = os.DirFS(filepath.Join("..", "..", "migration", "sqlfile", "testdata"))

type target struct {
	name  string
	d     dialect.Dialect
	goose goose.Dialect
	open  func(t *testing.T) (*sql.DB, string)
}

func targets() []target {
	return []target{
		{"sqlite", sqlite.New(), goose.DialectSQLite3, func(t *testing.T) (*sql.DB, string) {
			path := filepath.Join(t.TempDir(), "db.sqlite")
			db, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db, path
		}},
		{"postgres", postgres.New(), goose.DialectPostgres, func(t *testing.T) (*sql.DB, string) { return pgtest.New(t) }},
		{"mysql", mysql.New(), goose.DialectMySQL, func(t *testing.T) (*sql.DB, string) { return mytest.New(t) }},
	}
}

func load(t *testing.T, dir string) []migration.Migration {
	t.Helper()
	ms, err := sqlfile.Load(fixtures, dir)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// further is a Go migration strata applies after adopting.
func further(deps ...string) migration.Migration {
	return migration.SQL("20_strata_notes", "CREATE TABLE strata_notes (id int)", "DROP TABLE strata_notes", deps...)
}

// TestAdoptGoose: goose applies the first two files of its directory;
// strata adopts them, runs none of them again, applies the third and a Go
// migration of its own, and rolls everything back.
func TestAdoptGoose(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			db, _ := tg.open(t)
			ctx := t.Context()
			sub, err := fsSub("goose")
			if err != nil {
				t.Fatal(err)
			}
			p, err := goose.NewProvider(tg.goose, db, sub, goose.WithDisableGlobalRegistry(true))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 2); err != nil {
				t.Fatal(err)
			}
			users := count(t, db, "users")

			ms := append(load(t, "goose"), further("00003_no_transaction"))
			m, err := migration.NewManager(db, tg.d, ms)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Up(ctx); err == nil || !strings.Contains(err.Error(), "adopt --from goose") {
				t.Fatalf("up before adopting = %v, want advice to adopt", err)
			}
			ids, err := m.Adopt(ctx, migration.AdoptSource{Tool: migration.ToolGoose})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"00001_create_users_table", "00002_rename_root"}; !slices.Equal(ids, want) {
				t.Fatalf("adopted %q, want %q", ids, want)
			}
			res, err := m.Up(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := resultIDs(res); !slices.Equal(got, []string{"00003_no_transaction", "20_strata_notes"}) {
				t.Errorf("up after adopting ran %q", got)
			}
			if n := count(t, db, "users"); n != users {
				t.Errorf("users has %d rows, goose left %d: a migration ran again", n, users)
			}
			if _, err := m.Reset(ctx); err != nil {
				t.Fatalf("reset: %v", err)
			}
			if ok, _ := tg.d.HasTable(ctx, db, "users"); ok {
				t.Error("users left after reset")
			}
		})
	}
}

// TestAdoptGolangMigrate: golang-migrate applies two of three migrations;
// strata adopts them and applies the rest.
func TestAdoptGolangMigrate(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			db, dsn := tg.open(t)
			ctx := t.Context()
			sub, err := fsSub("migrate")
			if err != nil {
				t.Fatal(err)
			}
			src, err := iofs.New(sub, ".")
			if err != nil {
				t.Fatal(err)
			}
			var drv database.Driver
			switch tg.name {
			case "sqlite":
				drv, err = msqlite.WithInstance(db, &msqlite.Config{})
			case "postgres":
				drv, err = mpgx.WithInstance(db, &mpgx.Config{})
			case "mysql":
				// golang-migrate sends a file as one string: its
				// MySQL driver needs multiStatements.
				cfg, perr := gomysql.ParseDSN(dsn)
				if perr != nil {
					t.Fatal(perr)
				}
				cfg.MultiStatements = true
				mdb, oerr := sql.Open("mysql", cfg.FormatDSN())
				if oerr != nil {
					t.Fatal(oerr)
				}
				t.Cleanup(func() { mdb.Close() })
				drv, err = mmysql.WithInstance(mdb, &mmysql.Config{})
			}
			if err != nil {
				t.Fatal(err)
			}
			mg, err := migrate.NewWithInstance("iofs", src, tg.name, drv)
			if err != nil {
				t.Fatal(err)
			}
			if err := mg.Steps(2); err != nil {
				t.Fatal(err)
			}

			ms := append(load(t, "migrate"), further("10_seed_accounts"))
			m, err := migration.NewManager(db, tg.d, ms)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Status(ctx); err == nil || !strings.Contains(err.Error(), "adopt --from golang-migrate") {
				t.Fatalf("status before adopting = %v, want advice to adopt", err)
			}
			ids, err := m.Adopt(ctx, migration.AdoptSource{Tool: migration.ToolGolangMigrate})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"1_create_accounts", "2_add_city_to_accounts"}; !slices.Equal(ids, want) {
				t.Fatalf("adopted %q, want %q", ids, want)
			}
			res, err := m.Up(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := resultIDs(res); !slices.Equal(got, []string{"10_seed_accounts", "20_strata_notes"}) {
				t.Errorf("up after adopting ran %q", got)
			}
			if n := count(t, db, "accounts"); n != 2 {
				t.Errorf("accounts has %d rows, want 2", n)
			}
			var v int64
			var dirty bool
			if err := db.QueryRowContext(ctx, `SELECT version, dirty FROM schema_migrations`).Scan(&v, &dirty); err != nil || v != 2 || dirty {
				t.Errorf("golang-migrate's table changed: version %d dirty %v, %v", v, dirty, err)
			}
		})
	}
}

func resultIDs(rs []migration.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}
