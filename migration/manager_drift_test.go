package migration_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/schema"
)

// driftSQLite opens a SQLite database of the test's own.
func driftSQLite(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "drift.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// stmtMigration is a migration of one statement each way.
func stmtMigration(id, up, down string, deps ...string) *migration.Func {
	return &migration.Func{
		Name:     id,
		Requires: deps,
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			_, err := tx.ExecContext(ctx, up)
			return err
		},
		DownFn: func(ctx context.Context, tx *migration.Tx) error {
			_, err := tx.ExecContext(ctx, down)
			return err
		},
	}
}

// usersMigrations create a users table with an index; text is the
// dialect's text type.
func usersMigrations(text string) []migration.Migration {
	return []migration.Migration{
		stmtMigration("0001_users", `CREATE TABLE users (id INTEGER PRIMARY KEY, name `+text+` NOT NULL DEFAULT '')`, `DROP TABLE users`),
		stmtMigration("0002_users_name_idx", `CREATE INDEX users_name_idx ON users (name)`, `DROP INDEX users_name_idx`, "0001_users"),
		stmtMigration("0003_posts", `CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id))`, `DROP TABLE posts`, "0001_users"),
	}
}

func mustManager(t *testing.T, db *sql.DB, d dialect.Dialect, ms []migration.Migration, opts ...migration.Option) *migration.Manager {
	t.Helper()
	m, err := migration.NewManager(db, d, ms, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// schemaRows returns the seqs and parts the schema table holds.
func schemaRows(t *testing.T, db *sql.DB, m *migration.Manager) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT seq, part FROM `+dialect.QuoteTable(m.Dialect(), m.SchemaTable())+` ORDER BY seq, part`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var seq, part int
		if err := rows.Scan(&seq, &part); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d/%d", seq, part))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestRecordSchema checks what each run records: the fingerprint of the
// schema it left in its newest row only, and that schema in the schema
// table, for the run heads still applied.
func TestRecordSchema(t *testing.T) {
	db := driftSQLite(t)
	m := mustManager(t, db, sqlite.New(), usersMigrations("TEXT"))
	steps := []struct {
		name string
		run  func(context.Context) ([]migration.Result, error)
		rows []string // in the schema table
	}{
		{"up to 0001", func(ctx context.Context) ([]migration.Result, error) { return m.UpTo(ctx, "0001_users") }, []string{"1/0"}},
		{"up", m.Up, []string{"1/0", "3/0"}},
		{"down", m.Down, []string{"1/0", "2/0"}},
		{"up again", m.Up, []string{"1/0", "2/0", "3/0"}},
		{"reset to 0001", func(ctx context.Context) ([]migration.Result, error) { return m.DownTo(ctx, "0001_users") }, []string{"1/0"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if _, err := s.run(t.Context()); err != nil {
				t.Fatal(err)
			}
			live, err := m.Schema(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			h, err := m.History(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			head := h[len(h)-1]
			if head.SchemaFingerprint != live.Fingerprint() {
				t.Errorf("newest row %s records %q, the live schema is %q", head.ID, head.SchemaFingerprint, live.Fingerprint())
			}
			if got := schemaRows(t, db, m); !slices.Equal(got, s.rows) {
				t.Errorf("schema table rows %q, want %q", got, s.rows)
			}
			if live.Table(m.Table()) != nil || live.Table(m.SchemaTable()) != nil {
				t.Errorf("the manager's own tables are described")
			}
			rep, err := m.Drift(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Drifted() || rep.Migration != head.ID || rep.Seq != head.Seq || !strings.HasPrefix(rep.String(), "no drift: the schema is as migration "+fmt.Sprintf("%q", head.ID)) {
				t.Errorf("drift after a run: %s", rep)
			}
		})
	}
}

// handChange is something an operator does to the database by hand, and
// its undoing.
type handChange struct {
	name       string
	do, undo   []string
	wantChange string // a line of the drift report
}

func TestDriftByHand(t *testing.T) {
	tests := []struct {
		dialect string
		open    func(t *testing.T) *sql.DB
		d       dialect.Dialect
		text    string
		changes []handChange
	}{
		{"sqlite", driftSQLite, sqlite.New(), "TEXT", []handChange{
			{"column added", []string{`ALTER TABLE users ADD COLUMN nick TEXT`}, []string{`ALTER TABLE users DROP COLUMN nick`},
				"+ column users.nick: TEXT"},
			{"column renamed", []string{`ALTER TABLE users RENAME COLUMN name TO full_name`}, []string{`ALTER TABLE users RENAME COLUMN full_name TO name`},
				"- column users.name: TEXT NOT NULL DEFAULT ''"},
			{"index dropped", []string{`DROP INDEX users_name_idx`}, []string{`CREATE INDEX users_name_idx ON users (name)`},
				"- index users_name_idx on users: (name)"},
		}},
		{"postgres", func(t *testing.T) *sql.DB { db, _ := pgtest.New(t); return db }, postgres.New(), "text", []handChange{
			{"column type", []string{`ALTER TABLE users ALTER COLUMN name TYPE varchar(50)`}, []string{`ALTER TABLE users ALTER COLUMN name TYPE text`},
				"~ column users.name: type: text → character varying(50)"},
			{"column default", []string{`ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x'`}, []string{`ALTER TABLE users ALTER COLUMN name SET DEFAULT ''`},
				"~ column users.name: default: ''::text → 'x'::text"},
			{"column nullability", []string{`ALTER TABLE users ALTER COLUMN name DROP NOT NULL`}, []string{`ALTER TABLE users ALTER COLUMN name SET NOT NULL`},
				"~ column users.name: nullable: NOT NULL → NULL"},
			{"foreign key dropped", []string{`ALTER TABLE posts DROP CONSTRAINT posts_user_id_fkey`},
				[]string{`ALTER TABLE posts ADD CONSTRAINT posts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)`},
				"- foreign key posts_user_id_fkey on posts: (user_id) REFERENCES users (id) ON UPDATE NO ACTION ON DELETE NO ACTION"},
		}},
		{"mysql", func(t *testing.T) *sql.DB { db, _ := mytest.New(t); return db }, mysql.New(), "VARCHAR(100)", []handChange{
			{"column type", []string{`ALTER TABLE users MODIFY name VARCHAR(50) NOT NULL DEFAULT ''`}, []string{`ALTER TABLE users MODIFY name VARCHAR(100) NOT NULL DEFAULT ''`},
				"~ column users.name: type: varchar(100) → varchar(50)"},
			{"column default", []string{`ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x'`}, []string{`ALTER TABLE users ALTER COLUMN name SET DEFAULT ''`},
				"~ column users.name: default: '' → 'x'"},
			{"index dropped", []string{`DROP INDEX users_name_idx ON users`}, []string{`CREATE INDEX users_name_idx ON users (name)`},
				"- index users_name_idx on users: (name)"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dialect, func(t *testing.T) {
			db := tt.open(t)
			m := mustManager(t, db, tt.d, usersMigrations(tt.text))
			if _, err := m.Up(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.changes {
				t.Run(c.name, func(t *testing.T) {
					run := func(stmts []string) {
						t.Helper()
						for _, s := range stmts {
							if _, err := db.ExecContext(t.Context(), s); err != nil {
								t.Fatalf("%s: %v", s, err)
							}
						}
					}
					drift := func() *migration.DriftReport {
						t.Helper()
						rep, err := m.Drift(t.Context())
						if err != nil {
							t.Fatal(err)
						}
						return rep
					}
					run(c.do)
					rep := drift()
					if !rep.Drifted() || !strings.Contains(rep.String(), "\n"+c.wantChange) {
						t.Errorf("after %q, drift report:\n%s\nwant a line %q", c.do, rep, c.wantChange)
					}
					if rep.Migration != "0003_posts" || !strings.HasPrefix(rep.String(), `schema drift since migration "0003_posts" (seq 3, recorded `) {
						t.Errorf("report does not name the newest migration: %s", rep)
					}
					run(c.undo)
					if rep := drift(); rep.Drifted() {
						t.Errorf("after %q, still drift:\n%s", c.undo, rep)
					}
				})
			}
		})
	}
}

// noInspector is a dialect that cannot describe schemas but has the same
// hooks as the one it wraps.
type noInspector struct {
	dialect.Dialect
	dialect.Hooks
}

func withoutInspector(d *sqlite.Dialect) noInspector { return noInspector{d, d} }

func TestDriftWithoutRecordedSchema(t *testing.T) {
	tests := []struct {
		name   string
		d      dialect.Dialect
		before func(context.Context, *migration.Manager, *sql.DB) error
		// recordErr is whether RecordSchema fails with ErrNoSchema; if
		// not, Drift must work after it.
		recordErr bool
	}{
		{"nothing applied", sqlite.New(), func(context.Context, *migration.Manager, *sql.DB) error { return nil }, true},
		{"baselined by a release that recorded no schema", sqlite.New(), func(ctx context.Context, m *migration.Manager, db *sql.DB) error {
			if err := m.Baseline(ctx, "0003_posts"); err != nil {
				return err
			}
			_, err := db.ExecContext(ctx, `UPDATE strata_migrations SET schema_fingerprint = ''`)
			return err
		}, false},
		{"dialect without an inspector", withoutInspector(sqlite.New()), func(ctx context.Context, m *migration.Manager, _ *sql.DB) error {
			_, err := m.Up(ctx)
			return err
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := driftSQLite(t)
			m := mustManager(t, db, tt.d, usersMigrations("TEXT"))
			if err := tt.before(t.Context(), m, db); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Drift(t.Context()); !errors.Is(err, migration.ErrNoSchema) {
				t.Fatalf("Drift: %v, want ErrNoSchema", err)
			}
			err := m.RecordSchema(t.Context())
			if tt.recordErr {
				if !errors.Is(err, migration.ErrNoSchema) {
					t.Fatalf("RecordSchema: %v, want ErrNoSchema", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rep, err := m.Drift(t.Context())
			if err != nil || rep.Drifted() {
				t.Fatalf("Drift after RecordSchema: %v, %v", rep, err)
			}
		})
	}
}

func TestDriftWithoutInspectorRecordsNothing(t *testing.T) {
	db := driftSQLite(t)
	m := mustManager(t, db, withoutInspector(sqlite.New()), usersMigrations("TEXT"))
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	h, err := m.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range h {
		if r.SchemaFingerprint != "" {
			t.Errorf("%s: schema fingerprint %q", r.ID, r.SchemaFingerprint)
		}
	}
	if ok, err := sqlite.New().HasTable(t.Context(), db, m.SchemaTable()); err != nil || ok {
		t.Errorf("schema table exists: %v, %v", ok, err)
	}
	if _, err := m.Schema(t.Context()); !errors.Is(err, schema.ErrNotSupported) {
		t.Errorf("Schema: %v, want schema.ErrNotSupported", err)
	}
}

// TestRecordSchemaFailureDoesNotFailRun: the migrations are committed by
// the time the schema is recorded, so a failure to record is logged, not
// returned.
func TestRecordSchemaFailureDoesNotFailRun(t *testing.T) {
	db := driftSQLite(t)
	var log bytes.Buffer
	m := mustManager(t, db, sqlite.New(), usersMigrations("TEXT"), migration.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	// A table of that name that is not a schema table.
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE `+m.SchemaTable()+` (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	res, err := m.Up(t.Context())
	if err != nil || len(res) != 3 {
		t.Fatalf("Up: %v, %v", res, err)
	}
	if !strings.Contains(log.String(), "schema not recorded") {
		t.Errorf("log does not say the schema was not recorded:\n%s", log.String())
	}
	if _, err := m.Drift(t.Context()); !errors.Is(err, migration.ErrNoSchema) {
		t.Errorf("Drift: %v, want ErrNoSchema", err)
	}
}

// TestDriftLargeSchema records a schema that takes several rows of the
// schema table.
func TestDriftLargeSchema(t *testing.T) {
	db := driftSQLite(t)
	// Random names do not compress: 800 tables take more than one row.
	random := func() string {
		b := make([]byte, 24)
		rand.Read(b)
		return hex.EncodeToString(b)
	}
	var names, columns []string
	for range 800 {
		names = append(names, "t_"+random())
		columns = append(columns, "c_"+random())
	}
	big := &migration.Func{
		Name: "0001_many_tables",
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			for i, n := range names {
				if _, err := tx.ExecContext(ctx, `CREATE TABLE `+n+` (id INTEGER PRIMARY KEY, `+columns[i]+` TEXT)`); err != nil {
					return err
				}
			}
			return nil
		},
		DownFn: func(ctx context.Context, tx *migration.Tx) error {
			for _, n := range names {
				if _, err := tx.ExecContext(ctx, `DROP TABLE `+n); err != nil {
					return err
				}
			}
			return nil
		},
	}
	m := mustManager(t, db, sqlite.New(), []migration.Migration{big})
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rows := schemaRows(t, db, m); len(rows) < 2 {
		t.Fatalf("schema table rows %q, want several parts", rows)
	}
	rep, err := m.Drift(t.Context())
	if err != nil || rep.Drifted() {
		t.Fatalf("Drift: %v, %v", rep, err)
	}
	if _, err := db.ExecContext(t.Context(), `DROP TABLE `+names[7]); err != nil {
		t.Fatal(err)
	}
	rep, err = m.Drift(t.Context())
	if err != nil || !strings.Contains(rep.String(), "\n- table "+names[7]+": (id, "+columns[7]+")") {
		t.Fatalf("Drift: %v, %v", rep, err)
	}
}

func TestSchemaTable(t *testing.T) {
	long := strings.Repeat("v", 60)
	tests := []struct {
		name, table, want string
	}{
		{"default", migration.DefaultTable, "strata_migrations_schema"},
		{"qualified", "app.versions", "app.versions_schema"},
		{"long", long, long[:47] + "_" + "?" + "_schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustManager(t, driftSQLite(t), sqlite.New(), nil, migration.WithTable(tt.table))
			got := m.SchemaTable()
			if i := strings.IndexByte(tt.want, '?'); i >= 0 {
				if len(got) != 63 || !strings.HasPrefix(got, tt.want[:i]) || !strings.HasSuffix(got, "_schema") || dialect.ValidTableName(got) != nil {
					t.Errorf("SchemaTable() = %q (%d characters)", got, len(got))
				}
				other := mustManager(t, driftSQLite(t), sqlite.New(), nil, migration.WithTable(long+"w"))
				if other.SchemaTable() == got {
					t.Errorf("two long names share the schema table %q", got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("SchemaTable() = %q, want %q", got, tt.want)
			}
		})
	}
}

// BenchmarkRecordSchema records a schema of 1,000 tables, each with an
// index and a foreign key: what a run does once at its end.
func BenchmarkRecordSchema(b *testing.B) {
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ms := make([]migration.Migration, 1000)
	for i := range ms {
		id := fmt.Sprintf("%04d", i)
		ms[i] = stmtMigration(id, `CREATE TABLE t_`+id+` (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', ref INTEGER REFERENCES t_0000 (id));
			CREATE INDEX t_`+id+`_name ON t_`+id+` (name)`, `DROP TABLE t_`+id)
	}
	m, err := migration.NewManager(db, sqlite.New(), ms)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Up(b.Context()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := m.RecordSchema(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
