package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/lock"
)

func TestRegistered(t *testing.T) {
	d, ok := dialect.Lookup("postgres")
	if !ok {
		t.Fatal(`dialect.Lookup("postgres") found nothing`)
	}
	if _, ok := d.(*postgres.Dialect); !ok {
		t.Errorf(`dialect.Lookup("postgres") = %T, want *postgres.Dialect`, d)
	}
	if got := d.Name(); got != postgres.Name {
		t.Errorf("Name() = %q, want %q", got, postgres.Name)
	}
	if !slices.Contains(sql.Drivers(), postgres.DriverName) {
		t.Errorf("database/sql driver %q not registered; have %v", postgres.DriverName, sql.Drivers())
	}
}

func TestSyntax(t *testing.T) {
	d := postgres.New()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"placeholder 1", d.Placeholder(1), "$1"},
		{"placeholder 12", d.Placeholder(12), "$12"},
		{"plain", d.QuoteIdent("users"), `"users"`},
		{"quote inside", d.QuoteIdent(`a"b`), `"a""b"`},
		{"qualified table", dialect.QuoteTable(d, "app.versions"), `"app"."versions"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
	if !d.TransactionalDDL() {
		t.Error("TransactionalDDL() = false, want true")
	}
	if l, ok := d.Locker(dialect.LockOptions{Table: "t"}).(*lock.Postgres); !ok || l.Table != "t" {
		t.Errorf("Locker() = %#v, want a *lock.Postgres for table t", l)
	}
}

func TestQuoteIdentRoundTrip(t *testing.T) {
	db, _ := pgtest.New(t)
	d := postgres.New()
	names := []struct {
		name  string
		ident string
	}{
		{"reserved word", "select"},
		{"mixed case", "MixedCase"},
		{"space", "with space"},
		{"double quote", `say "hi"`},
		{"only quotes", `""`},
		{"single quote", "it's"},
		{"dot", "a.b"},
		{"semicolon and comment", "x; DROP TABLE y; --"},
		{"backtick", "back`tick"},
		{"unicode", "ünïcødé_表"},
		{"dollar", "$1"},
	}
	for _, tt := range names {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			q := d.QuoteIdent(tt.ident)
			if _, err := db.ExecContext(ctx, `CREATE TABLE `+q+` (`+q+` integer)`); err != nil {
				t.Fatalf("create table %s: %v", q, err)
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO `+q+` (`+q+`) VALUES (`+d.Placeholder(1)+`)`, 7); err != nil {
				t.Fatalf("insert: %v", err)
			}
			var table, column string
			err := db.QueryRowContext(ctx, `SELECT c.relname, a.attname
				FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1
				WHERE c.oid = to_regclass($1)`, q).Scan(&table, &column)
			if err != nil {
				t.Fatalf("look up %s: %v", q, err)
			}
			if table != tt.ident || column != tt.ident {
				t.Errorf("created table %q column %q, want both %q", table, column, tt.ident)
			}
			if strings.Contains(tt.ident, ".") {
				return // HasTable reads a dot as a schema qualifier
			}
			ok, err := d.HasTable(ctx, db, tt.ident)
			if err != nil || !ok {
				t.Errorf("HasTable(%q) = %v, %v; want true", tt.ident, ok, err)
			}
		})
	}
}

func TestVersionTableDDL(t *testing.T) {
	db, _ := pgtest.New(t)
	d := postgres.New()
	if _, err := db.ExecContext(t.Context(), `CREATE SCHEMA app; CREATE SCHEMA "Odd"`); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"id":                 "text",
		"seq":                "bigint",
		"description":        "text",
		"applied_at":         "timestamp with time zone",
		"duration_us":        "bigint",
		"dirty":              "boolean",
		"fingerprint":        "text",
		"schema_fingerprint": "text",
	}
	tests := []struct {
		name   string
		table  string
		schema string // where the table must be
	}{
		{"default", "strata_migrations", "public"},
		{"mixed case", "Versions", "public"},
		{"qualified", "app.strata_migrations", "app"},
		{"qualified mixed case", "Odd.Versions", "Odd"},
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
			rows, err := db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
				WHERE table_schema = $1 AND table_name = $2`, tt.schema, name)
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
			if !mapsEqual(got, want) {
				t.Errorf("columns of %s.%s = %v, want %v", tt.schema, name, got, want)
			}
			roundTrip(t, db, d, tt.table)
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// roundTrip writes a row the way the manager does and reads it back.
func roundTrip(t *testing.T, db *sql.DB, d dialect.Dialect, table string) {
	t.Helper()
	ctx := t.Context()
	q := dialect.QuoteTable(d, table)
	at := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
	var ph []string
	for i := range 8 {
		ph = append(ph, d.Placeholder(i+1))
	}
	_, err := db.ExecContext(ctx, `INSERT INTO `+q+` (`+dialect.VersionTableColumns+`) VALUES (`+strings.Join(ph, ", ")+`)`,
		"0001_init", int64(1), "create users", at, int64(1500), true, "abc123", "")
	if err != nil {
		t.Fatalf("insert into %s: %v", table, err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO `+q+` (id, seq, applied_at) VALUES ($1, $2, $3)`, "0002", int64(2), at); err != nil {
		t.Fatalf("insert with defaults into %s: %v", table, err)
	}
	var (
		fp      string
		dirty   bool
		gotAt   time.Time
		dur     int64
		descr   string
		defDesc string
	)
	if err := db.QueryRowContext(ctx, `SELECT fingerprint, dirty FROM `+q+` ORDER BY seq DESC LIMIT 1`).Scan(&fp, &dirty); err != nil {
		t.Fatal(err)
	}
	if fp != "" || dirty {
		t.Errorf("defaults: fingerprint %q dirty %v, want empty and false", fp, dirty)
	}
	if err := db.QueryRowContext(ctx, `SELECT description FROM `+q+` WHERE id = '0002'`).Scan(&defDesc); err != nil || defDesc != "" {
		t.Errorf("default description = %q, %v; want empty", defDesc, err)
	}
	err = db.QueryRowContext(ctx, `SELECT description, applied_at, duration_us, dirty, fingerprint FROM `+q+` WHERE id = $1`, "0001_init").
		Scan(&descr, &gotAt, &dur, &dirty, &fp)
	if err != nil {
		t.Fatal(err)
	}
	if descr != "create users" || !gotAt.Equal(at) || dur != 1500 || !dirty || fp != "abc123" {
		t.Errorf("read back %q %v %d %v %q", descr, gotAt, dur, dirty, fp)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO `+q+` (id, seq, applied_at) VALUES ($1, $2, $3)`, "0003", int64(1), at); err == nil {
		t.Error("duplicate seq accepted, want a unique violation")
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM `+q); err != nil {
		t.Fatal(err)
	}
}

func TestVersionTableMissingSchema(t *testing.T) {
	db, _ := pgtest.New(t)
	d := postgres.New()
	var err error
	for _, stmt := range d.VersionTableDDL("nowhere.strata_migrations") {
		if _, err = db.ExecContext(t.Context(), stmt); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("version table created in a schema that does not exist")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3F000" {
		t.Errorf("error %v, want SQLSTATE 3F000 (invalid_schema_name)", err)
	}
	if !strings.Contains(err.Error(), `schema "nowhere"`) {
		t.Errorf("error %q does not name the schema", err)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_namespace WHERE nspname = 'nowhere'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema nowhere exists (%d, %v), want it not created", n, err)
	}
}

func TestHasTable(t *testing.T) {
	db, _ := pgtest.New(t)
	d := postgres.New()
	ctx := t.Context()
	setup := []string{
		`CREATE SCHEMA other`,
		`CREATE TABLE other.only_there (x int)`,
		`CREATE TABLE public.here (x int)`,
		`CREATE VIEW public.a_view AS SELECT 1 AS x`,
		`CREATE TABLE public.parted (x int) PARTITION BY RANGE (x)`,
	}
	for _, s := range setup {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	// A connection whose search_path reaches other, whose tables an
	// unqualified CREATE TABLE would not see.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET search_path = public, other`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		table string
		want  bool
	}{
		{"in current schema", "here", true},
		{"qualified", "public.here", true},
		{"qualified other schema", "other.only_there", true},
		{"only in a later schema of the path", "only_there", false},
		{"view", "a_view", false},
		{"partitioned table", "parted", true},
		{"missing", "nothing", false},
		{"missing schema", "nowhere.here", false},
		{"case matters", "HERE", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.HasTable(t.Context(), conn, tt.table)
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
	db, _ := pgtest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := postgres.New().HasTable(ctx, db, "strata_migrations"); err == nil || !strings.Contains(err.Error(), "strata_migrations") {
		t.Errorf("HasTable with a cancelled context: %v, want an error naming the table", err)
	}
}
