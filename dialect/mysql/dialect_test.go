package mysql_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/lock"
)

func TestRegistered(t *testing.T) {
	d, ok := dialect.Lookup("mysql")
	if !ok {
		t.Fatal(`dialect.Lookup("mysql") found nothing`)
	}
	if _, ok := d.(*mysql.Dialect); !ok {
		t.Errorf(`dialect.Lookup("mysql") = %T, want *mysql.Dialect`, d)
	}
	if got := d.Name(); got != mysql.Name {
		t.Errorf("Name() = %q, want %q", got, mysql.Name)
	}
	if !slices.Contains(sql.Drivers(), mysql.DriverName) {
		t.Errorf("database/sql driver %q not registered; have %v", mysql.DriverName, sql.Drivers())
	}
}

func TestSyntax(t *testing.T) {
	d := mysql.New()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"placeholder 1", d.Placeholder(1), "?"},
		{"placeholder 12", d.Placeholder(12), "?"},
		{"plain", d.QuoteIdent("users"), "`users`"},
		{"backtick inside", d.QuoteIdent("a`b"), "`a``b`"},
		{"double quote stays", d.QuoteIdent(`a"b`), "`a\"b`"},
		{"qualified table", dialect.QuoteTable(d, "app.versions"), "`app`.`versions`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
	if d.TransactionalDDL() {
		t.Error("TransactionalDDL() = true, want false")
	}
	if l, ok := d.Locker(dialect.LockOptions{Table: "t"}).(*lock.MySQL); !ok || l.Table != "t" {
		t.Errorf("Locker() = %#v, want a *lock.MySQL for table t", l)
	}
}

func TestQuoteIdentRoundTrip(t *testing.T) {
	db, _ := mytest.New(t)
	d := mysql.New()
	names := []struct {
		name  string
		ident string
	}{
		{"reserved word", "select"},
		{"mixed case", "MixedCase"},
		{"space", "with space"},
		{"backtick", "back`tick"},
		{"only backticks", "``"},
		{"double quote", `say "hi"`},
		{"single quote", "it's"},
		{"backslash", `back\slash`},
		{"dot", "a.b"},
		{"semicolon and comment", "x; DROP TABLE y; --"},
		{"unicode", "ünïcødé_表"},
		{"question mark", "why?"},
	}
	for _, tt := range names {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			q := d.QuoteIdent(tt.ident)
			if _, err := db.ExecContext(ctx, `CREATE TABLE `+q+` (`+q+` INT)`); err != nil {
				t.Fatalf("create table %s: %v", q, err)
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO `+q+` (`+q+`) VALUES (`+d.Placeholder(1)+`)`, 7); err != nil {
				t.Fatalf("insert: %v", err)
			}
			var column string
			err := db.QueryRowContext(ctx, `SELECT column_name FROM information_schema.columns
				WHERE table_schema = DATABASE() AND table_name = ?`, tt.ident).Scan(&column)
			if err != nil {
				t.Fatalf("look up %s: %v", q, err)
			}
			if column != tt.ident {
				t.Errorf("created column %q, want %q", column, tt.ident)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT `+q+` FROM `+q).Scan(&n); err != nil || n != 7 {
				t.Errorf("select %s = %d, %v; want 7", q, n, err)
			}
			if strings.Contains(tt.ident, ".") {
				return // HasTable reads a dot as a database qualifier
			}
			ok, err := d.HasTable(ctx, db, tt.ident)
			if err != nil || !ok {
				t.Errorf("HasTable(%q) = %v, %v; want true", tt.ident, ok, err)
			}
		})
	}
}

func TestVersionTableDDL(t *testing.T) {
	db, _ := mytest.New(t)
	other, _ := mytest.New(t) // a second database, for a qualified name
	var otherDB string
	if err := other.QueryRowContext(t.Context(), `SELECT DATABASE()`).Scan(&otherDB); err != nil {
		t.Fatal(err)
	}
	d := mysql.New()
	want := map[string]string{
		"id":                 "varchar(255)",
		"seq":                "bigint(20)",
		"description":        "text",
		"applied_at":         "datetime(6)",
		"duration_us":        "bigint(20)",
		"dirty":              "tinyint(1)",
		"fingerprint":        "varchar(100)",
		"schema_fingerprint": "varchar(100)",
	}
	var cur string
	if err := db.QueryRowContext(t.Context(), `SELECT DATABASE()`).Scan(&cur); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		table  string
		schema string
	}{
		{"default", "strata_migrations", cur},
		{"mixed case", "Versions", cur},
		{"qualified", otherDB + ".strata_migrations", otherDB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if err := dialect.ValidTableName(tt.table); err != nil {
				t.Fatal(err)
			}
			if ok, err := d.HasTable(ctx, db, tt.table); err != nil || ok {
				t.Fatalf("HasTable before creation = %v, %v; want false, nil", ok, err)
			}
			for i := range 2 {
				for _, stmt := range d.VersionTableDDL(tt.table) {
					if _, err := db.ExecContext(ctx, stmt); err != nil {
						t.Fatalf("run %d: %s: %v", i+1, stmt, err)
					}
				}
			}
			if ok, err := d.HasTable(ctx, db, tt.table); err != nil || !ok {
				t.Fatalf("HasTable after creation = %v, %v; want true, nil", ok, err)
			}
			_, name, ok := strings.Cut(tt.table, ".")
			if !ok {
				name = tt.table
			}
			rows, err := db.QueryContext(ctx, `SELECT column_name, column_type FROM information_schema.columns
				WHERE table_schema = ? AND table_name = ?`, tt.schema, name)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for rows.Next() {
				var c, typ string
				if err := rows.Scan(&c, &typ); err != nil {
					t.Fatal(err)
				}
				got[c] = typ
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			for c, typ := range want {
				// MySQL 8 omits integer display widths; MariaDB shows them.
				g, ok := got[c]
				if !ok || (g != typ && g != strings.Split(typ, "(")[0]) {
					t.Errorf("column %s has type %q, want %q", c, g, typ)
				}
			}
			if len(got) != len(want) {
				t.Errorf("columns %v, want %v", got, want)
			}
			var engine, collation string
			if err := db.QueryRowContext(ctx, `SELECT engine, table_collation FROM information_schema.tables
				WHERE table_schema = ? AND table_name = ?`, tt.schema, name).Scan(&engine, &collation); err != nil {
				t.Fatal(err)
			}
			if engine != "InnoDB" || collation != "utf8mb4_bin" {
				t.Errorf("engine %s collation %s, want InnoDB utf8mb4_bin", engine, collation)
			}
			roundTrip(t, db, d, tt.table)
		})
	}
}

// roundTrip writes rows the way the manager does and reads them back.
func roundTrip(t *testing.T, db *sql.DB, d dialect.Dialect, table string) {
	t.Helper()
	ctx := t.Context()
	q := dialect.QuoteTable(d, table)
	at := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
	ph := strings.TrimSuffix(strings.Repeat(d.Placeholder(1)+", ", 8), ", ")
	insert := `INSERT INTO ` + q + ` (` + dialect.VersionTableColumns + `) VALUES (` + ph + `)`
	if _, err := db.ExecContext(ctx, insert, "0001_init", int64(1), "create users", at, int64(1500), true, "abc123", ""); err != nil {
		t.Fatalf("insert into %s: %v", table, err)
	}
	if _, err := db.ExecContext(ctx, insert, "0001_INIT", int64(2), "", at, int64(0), false, "", ""); err != nil {
		t.Errorf("IDs differing in case only must be distinct: %v", err)
	}
	if _, err := db.ExecContext(ctx, insert, "0003", int64(1), "", at, int64(0), false, "", ""); err == nil {
		t.Error("duplicate seq accepted, want a unique violation")
	}
	var (
		fp    string
		dirty bool
		raw   []byte // applied_at without parseTime in the DSN
		dur   int64
		descr string
	)
	if err := db.QueryRowContext(ctx, `SELECT fingerprint, dirty FROM `+q+` ORDER BY seq DESC LIMIT 1`).Scan(&fp, &dirty); err != nil {
		t.Fatal(err)
	}
	if fp != "" || dirty {
		t.Errorf("latest row: fingerprint %q dirty %v, want empty and false", fp, dirty)
	}
	err := db.QueryRowContext(ctx, `SELECT description, applied_at, duration_us, dirty, fingerprint FROM `+q+` WHERE id = ?`, "0001_init").
		Scan(&descr, &raw, &dur, &dirty, &fp)
	if err != nil {
		t.Fatal(err)
	}
	if descr != "create users" || string(raw) != "2025-03-04 05:06:07.123456" || dur != 1500 || !dirty || fp != "abc123" {
		t.Errorf("read back %q %s %d %v %q", descr, raw, dur, dirty, fp)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM `+q); err != nil {
		t.Fatal(err)
	}
}

func TestHasTable(t *testing.T) {
	db, _ := mytest.New(t)
	d := mysql.New()
	ctx := t.Context()
	var cur string
	if err := db.QueryRowContext(ctx, `SELECT DATABASE()`).Scan(&cur); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`CREATE TABLE here (x INT)`, `CREATE VIEW a_view AS SELECT 1 AS x`} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	tests := []struct {
		name  string
		table string
		want  bool
	}{
		{"in current database", "here", true},
		{"qualified", cur + ".here", true},
		{"view", "a_view", false},
		{"missing", "nothing", false},
		{"missing database", "nowhere_at_all.here", false},
		{"other database", "mysql.here", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.HasTable(t.Context(), db, tt.table)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("HasTable(%q) = %v, want %v", tt.table, got, tt.want)
			}
		})
	}
}

func TestHasTableError(t *testing.T) {
	db, _ := mytest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := mysql.New().HasTable(ctx, db, "strata_migrations"); err == nil || !strings.Contains(err.Error(), "strata_migrations") {
		t.Errorf("HasTable with a cancelled context: %v, want an error naming the table", err)
	}
}

// Interrupt ends the session SessionID names, and ending one that is gone
// is not an error.
func TestInterrupt(t *testing.T) {
	db, _ := mytest.New(t)
	d := mysql.New()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	id, err := d.SessionID(t.Context(), conn)
	if err != nil || id <= 0 {
		t.Fatalf("SessionID = %d, %v", id, err)
	}
	if err := d.Interrupt(t.Context(), db, id); err != nil {
		t.Fatal(err)
	}
	if err := conn.PingContext(t.Context()); err == nil {
		t.Fatal("the session still answers after Interrupt")
	}
	if err := d.Interrupt(t.Context(), db, id); err != nil {
		t.Fatalf("Interrupt of an ended session = %v, want nil", err)
	}
}
