package sqlfile_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/sqlfile"
)

type target struct {
	name string
	d    dialect.Dialect
	open func(t *testing.T) *sql.DB
}

func targets() []target {
	return []target{
		{"sqlite", sqlite.New(), func(t *testing.T) *sql.DB {
			db, err := sqlite.Open(filepath.Join(t.TempDir(), "db.sqlite"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
		{"postgres", postgres.New(), func(t *testing.T) *sql.DB { db, _ := pgtest.New(t); return db }},
		{"mysql", mysql.New(), func(t *testing.T) *sql.DB { db, _ := mytest.New(t); return db }},
	}
}

func load(t *testing.T, dir string) []migration.Migration {
	t.Helper()
	ms, err := sqlfile.Load(os.DirFS("testdata"), dir)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func ids(ms []migration.Migration) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID())
	}
	return out
}

func hasTable(t *testing.T, d dialect.Dialect, db *sql.DB, name string) bool {
	t.Helper()
	ok, err := d.HasTable(t.Context(), db, name)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestLoadOrderAndChain(t *testing.T) {
	ms := load(t, "migrate")
	if got, want := ids(ms), []string{"1_create_accounts", "2_add_city_to_accounts", "10_seed_accounts"}; !slices.Equal(got, want) {
		t.Fatalf("ids = %q, want %q (numeric version order)", got, want)
	}
	if deps := ms[2].Dependencies(); !slices.Equal(deps, []string{"2_add_city_to_accounts"}) {
		t.Errorf("deps of 10 = %q, want the previous file", deps)
	}
	if len(ms[0].Dependencies()) != 0 {
		t.Errorf("the first file depends on %q", ms[0].Dependencies())
	}
	g := load(t, "goose")
	if !g[2].(migration.NonTransactional).NoTransaction() {
		t.Error("goose NO TRANSACTION not read")
	}
	s := load(t, "strata")
	if d := s[0].(migration.Describer).Description(); d != "teams" {
		t.Errorf("description = %q", d)
	}
	if !s[1].(migration.NonTransactional).NoTransaction() || !slices.Equal(s[1].Dependencies(), []string{"0001_teams"}) {
		t.Errorf("strata directives not read: %q", s[1].Dependencies())
	}
	for _, m := range slices.Concat(ms, g, s) {
		if len(m.(migration.Checksummer).Checksum()) != 64 {
			t.Errorf("%s: no checksum", m.ID())
		}
	}
}

// TestApply runs the goose, golang-migrate and strata directories, and a
// Go migration depending on them, up, down and up again on every database.
func TestApply(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			db := tg.open(t)
			goMig := migration.SQL("20_go", "CREATE TABLE from_go (id int)", "DROP TABLE from_go", "00003_no_transaction", "10_seed_accounts", "0002_team_names")
			ms := slices.Concat(load(t, "goose"), load(t, "migrate"), load(t, "strata"), []migration.Migration{goMig})
			m, err := migration.NewManager(db, tg.d, ms)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			res, err := m.Up(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != len(ms) {
				t.Fatalf("applied %d, want %d", len(res), len(ms))
			}
			var name, city string
			if err := db.QueryRowContext(ctx, `SELECT username FROM users WHERE id = 0`).Scan(&name); err != nil || name != "admin" {
				t.Errorf("users row 0: %q, %v", name, err)
			}
			if err := db.QueryRowContext(ctx, `SELECT city FROM accounts WHERE id = 2`).Scan(&city); err != nil || city != "Semi;colon" {
				t.Errorf("accounts row 2: %q, %v", city, err)
			}
			for _, tab := range []string{"users", "post", "accounts", "teams", "members", "from_go"} {
				if !hasTable(t, tg.d, db, tab) {
					t.Errorf("table %s missing after up", tab)
				}
			}
			if _, err := m.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			for _, tab := range []string{"users", "post", "accounts", "teams", "members", "from_go"} {
				if hasTable(t, tg.d, db, tab) {
					t.Errorf("table %s left after reset", tab)
				}
			}
			if _, err := m.Up(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStatementErrorNamesFileAndLine(t *testing.T) {
	fsys := fstest.MapFS{
		"1_bad.up.sql":   {Data: []byte("CREATE TABLE ok1 (id int);\n\n-- comment\nCREATE TABLE nope (id int,);\n")},
		"1_bad.down.sql": {Data: []byte("DROP TABLE ok1;")},
	}
	ms, err := sqlfile.Load(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			db := tg.open(t)
			m, err := migration.NewManager(db, tg.d, ms)
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Up(t.Context())
			var se *sqlfile.StatementError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *StatementError", err)
			}
			if se.File != "1_bad.up.sql" || se.Line != 4 || se.SQL != "CREATE TABLE nope (id int,)" {
				t.Errorf("StatementError = %s:%d %q", se.File, se.Line, se.SQL)
			}
			if !strings.Contains(err.Error(), "1_bad.up.sql:4") || !strings.Contains(err.Error(), "CREATE TABLE nope") {
				t.Errorf("message does not name file, line and statement: %v", err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no format", map[string]string{"1_x.sql": "CREATE TABLE x (id int);"}, "no -- +strata up"},
		{"unknown strata directive", map[string]string{"1_x.sql": "-- +strata requirs: a\n-- +strata up\nSELECT 1;"}, "1_x.sql:1: unknown directive"},
		{"unknown goose annotation", map[string]string{"1_x.sql": "-- +goose Up\n-- +goose ENVSUB ON\nSELECT 1;"}, "1_x.sql:2: unsupported annotation"},
		{"unterminated block", map[string]string{"1_x.sql": "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;"}, "1_x.sql:2: -- +goose StatementBegin without StatementEnd"},
		{"mixed", map[string]string{"1_x.sql": "-- +goose Up\n-- +strata up\n"}, "mixes"},
		{"down without up", map[string]string{"1_x.down.sql": "SELECT 1;"}, "1_x.down.sql has no matching .up.sql"},
		{"duplicate id", map[string]string{"1_x.sql": "-- +goose Up\nSELECT 1;", "1_x.up.sql": "SELECT 1;"}, "same id"},
		{"unterminated string", map[string]string{"1_x.sql": "-- +goose Up\nSELECT 1;\nSELECT 'a;\n"}, "1_x.sql:3: unterminated string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, d := range tt.files {
				fsys[n] = &fstest.MapFile{Data: []byte(d)}
			}
			_, err := sqlfile.Load(fsys, ".")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestGooseEmptyDownIsNoOp(t *testing.T) {
	fsys := fstest.MapFS{"1_x.sql": {Data: []byte("-- +goose Up\nCREATE TABLE x (id int);\n-- +goose Down\n")}}
	ms, err := sqlfile.Load(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := ms[0].(*sqlfile.Migration).Statements("sqlite", true)
	if err != nil || len(stmts) != 0 {
		t.Errorf("down statements = %q, %v", stmts, err)
	}
}

// TestDialectDirectories runs each database's own directory, written as
// goose's and golang-migrate's test suites write theirs: functions,
// procedures and triggers, with and without StatementBegin/End, a
// DELIMITER, an empty migration and quoted semicolons. up, reset, up.
func TestDialectDirectories(t *testing.T) {
	checks := map[string]string{
		"sqlite":   `SELECT COUNT(*) FROM item_log`,
		"postgres": `SELECT COUNT(*) FROM repos WHERE repo_name = 'strata'`,
		"mysql":    `SELECT COUNT(*) FROM repos WHERE name_len = 6`,
	}
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			db := tg.open(t)
			ctx := t.Context()
			ms := load(t, tg.name)
			m, err := migration.NewManager(db, tg.d, ms)
			if err != nil {
				t.Fatal(err)
			}
			for round := range 2 {
				res, err := m.Up(ctx)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if len(res) != len(ms) {
					t.Fatalf("applied %d of %d", len(res), len(ms))
				}
				var n int
				if err := db.QueryRowContext(ctx, checks[tg.name]).Scan(&n); err != nil || n != 1 {
					t.Errorf("round %d: %s = %d, %v; want 1", round, checks[tg.name], n, err)
				}
				if _, err := m.Reset(ctx); err != nil {
					t.Fatalf("round %d: reset: %v", round, err)
				}
			}
		})
	}
}

// TestBeginCommitUnwrapped: golang-migrate's tutorials wrap a file in
// BEGIN and COMMIT because it runs files outside a transaction. Here the
// file runs in the migration's transaction, so they are dropped: SQLite
// would refuse the nested BEGIN, and PostgreSQL's COMMIT would end the
// migration's transaction early.
func TestBeginCommitUnwrapped(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			db := tg.open(t)
			m, err := migration.NewManager(db, tg.d, load(t, "wrapped"))
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if _, err := m.Up(t.Context()); err != nil {
					t.Fatal(err)
				}
				if _, err := m.Reset(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			stmts, err := m.Migrations()[0].(*sqlfile.Migration).Statements(tg.d.Name(), false)
			if err != nil || len(stmts) != 2 || stmts[0].Line != 3 {
				t.Errorf("statements = %v, %v", stmts, err)
			}
		})
	}
}

func TestStrataStatementBlock(t *testing.T) {
	ms, err := sqlfile.Load(fstest.MapFS{"1_rule.sql": {Data: []byte(
		"-- +strata up\nCREATE TABLE a (id int);\n-- +strata statement-begin\nCREATE RULE r AS ON INSERT TO a DO ALSO (NOTIFY a; NOTIFY b);\n-- +strata statement-end\nSELECT 1;\n-- +strata down\nDROP TABLE a;\n")}}, ".")
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := ms[0].(*sqlfile.Migration).Statements("postgres", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []sqlfile.Statement{{SQL: "CREATE TABLE a (id int)", Line: 2}, {SQL: "CREATE RULE r AS ON INSERT TO a DO ALSO (NOTIFY a; NOTIFY b);", Line: 4}, {SQL: "SELECT 1", Line: 6}}
	if !slices.Equal(stmts, want) {
		t.Errorf("statements = %q\nwant %q", stmts, want)
	}
	_, err = sqlfile.Load(fstest.MapFS{"1_x.sql": {Data: []byte("-- +strata up\n-- +strata statement-begin\nSELECT 1;\n")}}, ".")
	if err == nil || !strings.Contains(err.Error(), "1_x.sql:2: -- +strata statement-begin without statement-end") {
		t.Errorf("unclosed block: %v", err)
	}
}

func TestByteOrderMarkAndCRLF(t *testing.T) {
	ms, err := sqlfile.Load(fstest.MapFS{
		"1_a.sql":    {Data: []byte("\ufeff-- +goose Up\r\nCREATE TABLE a (id int);\r\n-- +goose Down\r\nDROP TABLE a;\r\n")},
		"2_b.up.sql": {Data: []byte("\ufeffCREATE TABLE b (id int);")},
	}, ".")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ms[0].(*sqlfile.Migration).Statements("sqlite", false)
	if err != nil || len(st) != 1 || st[0].SQL != "CREATE TABLE a (id int)" || st[0].Line != 2 {
		t.Errorf("goose file with a BOM and CRLF: %q, %v", st, err)
	}
	st, err = ms[1].(*sqlfile.Migration).Statements("sqlite", false)
	if err != nil || len(st) != 1 || st[0].SQL != "CREATE TABLE b (id int)" {
		t.Errorf("up file with a BOM: %q, %v", st, err)
	}
	crlf := ms[0].(migration.Checksummer).Checksum()
	lf, _ := sqlfile.Load(fstest.MapFS{"1_a.sql": {Data: []byte("-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n")}}, ".")
	if lf[0].(migration.Checksummer).Checksum() != crlf {
		t.Error("a checkout with CRLF line endings and a BOM changes the checksum")
	}
}
