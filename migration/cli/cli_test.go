package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/cli"
)

// The dialect packages register themselves; the names keep the imports.
var _ = []string{postgres.Name, mysql.Name}

// testMigrations is a small graph: 0002 and 0003 both depend on 0001.
func testMigrations() []migration.Migration {
	return []migration.Migration{
		&migration.Func{
			Name: "0001_users", Desc: "create users",
			UpFn:   execFn(`CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100))`),
			DownFn: execFn(`DROP TABLE users`),
		},
		&migration.Func{
			Name: "0002_posts", Desc: "create posts", Requires: []string{"0001_users"},
			UpFn:   execFn(`CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER)`),
			DownFn: execFn(`DROP TABLE posts`),
		},
		&migration.Func{
			Name: "0003_tags", Desc: "create tags", Requires: []string{"0001_users"}, Backup: false,
			UpFn:   execFn(`CREATE TABLE tags (id INTEGER PRIMARY KEY, name VARCHAR(50))`),
			DownFn: execFn(`DROP TABLE tags`),
		},
	}
}

func execFn(q string) func(context.Context, *migration.Tx) error {
	return func(ctx context.Context, tx *migration.Tx) error {
		_, err := tx.ExecContext(ctx, q)
		return err
	}
}

// result is what one Run printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the CLI in-process with ms and opts.
func run(t *testing.T, ms []migration.Migration, opts []cli.Option, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	opts = append([]cli.Option{
		cli.WithOutput(&stdout, &stderr),
		cli.WithInput(strings.NewReader("")),
		cli.WithOpener("sqlite", sqlite.Open),
		cli.WithGetenv(func(string) string { return "" }),
		cli.WithInteractive(false),
	}, opts...)
	code := cli.Run(t.Context(), args, ms, opts...)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// target is a database the CLI is tested against.
type target struct {
	name string
	dsn  string
	db   *sql.DB
}

// targets returns a fresh SQLite file, and fresh PostgreSQL and MySQL
// databases when their servers are configured (see internal/testdb).
func targets(t *testing.T) []func(t *testing.T) target {
	return []func(t *testing.T) target{
		func(t *testing.T) target {
			path := filepath.Join(t.TempDir(), "test.db")
			db, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return target{name: "sqlite", dsn: path, db: db}
		},
		func(t *testing.T) target {
			db, dsn := pgtest.New(t)
			return target{name: "postgres", dsn: dsn, db: db}
		},
		func(t *testing.T) target {
			db, dsn := mytest.New(t)
			return target{name: "mysql", dsn: dsn, db: db}
		},
	}
}

var targetNames = []string{"sqlite", "postgres", "mysql"}

func hasTable(t *testing.T, db *sql.DB, table string) bool {
	t.Helper()
	var n int
	return db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table).Scan(&n) == nil
}

func tables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var have []string
	for _, name := range []string{"users", "posts", "tags"} {
		if hasTable(t, db, name) {
			have = append(have, name)
		}
	}
	return have
}

func TestCommands(t *testing.T) {
	for i, newTarget := range targets(t) {
		t.Run(targetNames[i], func(t *testing.T) {
			tg := newTarget(t)
			ms := testMigrations()
			steps := []struct {
				name       string
				args       []string
				code       int
				stdout     []string // substrings, in order
				stderr     []string
				wantTables []string
				check      func(t *testing.T, r result)
			}{
				{
					name: "status of a fresh database", args: []string{"status"},
					stdout: []string{"ID", "DESCRIPTION", "STATE", "APPLIED AT", "DURATION",
						"0001_users", "create users", "pending", "0002_posts", "0003_tags", "0 applied, 3 pending"},
				},
				{name: "status --exit-code with pending migrations", args: []string{"status", "--exit-code"}, code: cli.ExitPending},
				{name: "pending", args: []string{"pending"}, stdout: []string{"0001_users", "0002_posts", "0003_tags"}},
				{
					name: "pending --json", args: []string{"--json", "pending"},
					check: func(t *testing.T, r result) {
						var got []struct{ ID string }
						decode(t, r.stdout, &got)
						if len(got) != 3 || got[0].ID != "0001_users" {
							t.Errorf("pending --json = %+v", got)
						}
					},
				},
				{name: "plan", args: []string{"plan"}, stdout: []string{"up  0001_users", "up  0002_posts", "up  0003_tags"}},
				{
					name: "plan --to --json", args: []string{"plan", "--to", "0002_posts", "--json"},
					check: func(t *testing.T, r result) {
						var got []struct{ ID, Direction string }
						decode(t, r.stdout, &got)
						if len(got) != 2 || got[0].ID != "0001_users" || got[1].ID != "0002_posts" || got[1].Direction != "up" {
							t.Errorf("plan --json = %+v", got)
						}
					},
				},
				{name: "validate", args: []string{"validate"}, stdout: []string{"dry run passed"}},
				{name: "nothing changed by plan and validate", args: []string{"history"}, stdout: []string{"no migrations applied"}},
				{
					name: "up --to applies the target and its ancestors only", args: []string{"up", "--to", "0002_posts"},
					stdout:     []string{"applied 0001_users (", "applied 0002_posts ("},
					wantTables: []string{"users", "posts"},
					check: func(t *testing.T, r result) {
						if strings.Contains(r.stdout, "0003_tags") {
							t.Errorf("up --to applied 0003_tags:\n%s", r.stdout)
						}
					},
				},
				{name: "up", args: []string{"up"}, stdout: []string{"applied 0003_tags ("}, wantTables: []string{"users", "posts", "tags"}},
				{name: "up when up to date", args: []string{"up"}, stdout: []string{"nothing to apply: the database is up to date"}},
				{name: "status --exit-code when up to date", args: []string{"status", "--exit-code"}, stdout: []string{"3 applied, 0 pending"}},
				{name: "version shows the database's state", args: []string{"version"}, stdout: []string{"strata ", "database: ", "0003_tags (seq 3, applied, ", "3 applied, 0 pending"}},
				{
					name: "status --json", args: []string{"status", "--json"},
					check: func(t *testing.T, r result) {
						var got []struct {
							ID, State    string
							AppliedAt    *string `json:"applied_at"`
							Dependencies []string
						}
						decode(t, r.stdout, &got)
						if len(got) != 3 {
							t.Fatalf("status --json has %d entries, want 3", len(got))
						}
						for _, s := range got {
							if s.State != "applied" || s.AppliedAt == nil {
								t.Errorf("status --json entry %+v, want applied with applied_at", s)
							}
						}
						if !slices.Equal(got[1].Dependencies, []string{"0001_users"}) {
							t.Errorf("dependencies of %s = %q", got[1].ID, got[1].Dependencies)
						}
					},
				},
				{
					name: "history --json", args: []string{"history", "--json"},
					check: func(t *testing.T, r result) {
						var got []struct {
							Seq   int64
							ID    string
							Known bool
						}
						decode(t, r.stdout, &got)
						ids := []string{}
						for i, h := range got {
							ids = append(ids, h.ID)
							if h.Seq != int64(i+1) || !h.Known {
								t.Errorf("history entry %+v", h)
							}
						}
						if want := []string{"0001_users", "0002_posts", "0003_tags"}; !slices.Equal(ids, want) {
							t.Errorf("history IDs = %q, want %q", ids, want)
						}
					},
				},
				{name: "history", args: []string{"history"}, stdout: []string{"SEQ", "1", "0001_users", "create users", "3", "0003_tags"}},
				{
					name: "down refuses without --yes off a terminal", args: []string{"down"}, code: cli.ExitUsage,
					stderr: []string{"--yes"}, wantTables: []string{"users", "posts", "tags"},
				},
				{name: "down", args: []string{"down", "--yes"}, stdout: []string{"rolled back 0003_tags ("}, wantTables: []string{"users", "posts"}},
				{name: "plan --down --all", args: []string{"plan", "--down", "--all"}, stdout: []string{"down  0002_posts", "down  0001_users"}},
				{name: "down --all", args: []string{"--yes", "down", "--all"}, stdout: []string{"rolled back 0002_posts", "rolled back 0001_users"}},
				{name: "down with nothing applied", args: []string{"down", "--yes"}, stdout: []string{"nothing to roll back"}},
				{name: "up again", args: []string{"up"}, stdout: []string{"applied 0001_users", "applied 0002_posts", "applied 0003_tags"}},
				{name: "down 2", args: []string{"down", "2", "--yes"}, stdout: []string{"rolled back 0003_tags", "rolled back 0002_posts"}, wantTables: []string{"users"}},
				{name: "up after down 2", args: []string{"up"}, stdout: []string{"applied 0002_posts", "applied 0003_tags"}, wantTables: []string{"users", "posts", "tags"}},
				{
					name: "down --to", args: []string{"down", "--to", "0002_posts", "--yes"},
					stdout: []string{"rolled back 0003_tags"}, wantTables: []string{"users", "posts"},
				},
				{name: "down --to and --all", args: []string{"down", "--to", "0001_users", "--all", "--yes"}, code: cli.ExitUsage, stderr: []string{"exclude"}},
				{name: "up --to an unknown migration", args: []string{"up", "--to", "0099_nope"}, code: cli.ExitFailure, stderr: []string{"unknown migration", "0099_nope"}},
				{name: "baseline", args: []string{"baseline", "0003_tags"}, stdout: []string{"baselined 0003_tags"}, wantTables: []string{"users", "posts"}},
				{name: "baseline when applied", args: []string{"baseline", "0003_tags"}, stdout: []string{"nothing to baseline"}},
				{name: "baseline without an ID", args: []string{"baseline"}, code: cli.ExitUsage, stderr: []string{"missing ID"}},
				{name: "repair without a flag", args: []string{"repair", "0003_tags"}, code: cli.ExitUsage, stderr: []string{"--applied", "--not-applied"}},
				{name: "repair of a clean migration", args: []string{"repair", "0003_tags", "--applied"}, code: cli.ExitFailure, stderr: []string{"0003_tags", "not dirty"}},
				{name: "status with another version table", args: []string{"--table", "other_versions", "status"}, stdout: []string{"0 applied, 3 pending"}},
				{name: "too many arguments", args: []string{"status", "extra"}, code: cli.ExitUsage, stderr: []string{"takes no arguments"}},
			}
			for i, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					// Alternate the position of --dsn: before and after the command.
					args := append([]string{"--dsn", tg.dsn}, st.args...)
					if i%2 == 1 {
						args = append(slices.Clone(st.args), "--dsn", tg.dsn)
					}
					r := run(t, ms, nil, args...)
					if r.code != st.code {
						t.Fatalf("%q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", st.args, r.code, st.code, r.stdout, r.stderr)
					}
					containsInOrder(t, "stdout", r.stdout, st.stdout)
					containsInOrder(t, "stderr", r.stderr, st.stderr)
					if st.wantTables != nil {
						if got := tables(t, tg.db); !slices.Equal(got, st.wantTables) {
							t.Errorf("tables after %q: %q, want %q", st.args, got, st.wantTables)
						}
					}
					if st.check != nil {
						st.check(t, r)
					}
				})
			}
		})
	}
}

func TestDirtyAndRepair(t *testing.T) {
	for i, newTarget := range targets(t) {
		t.Run(targetNames[i], func(t *testing.T) {
			tg := newTarget(t)
			ms := testMigrations()
			if r := run(t, ms, nil, "--dsn", tg.dsn, "up"); r.code != 0 {
				t.Fatalf("up: %d\n%s", r.code, r.stderr)
			}
			// What a crash half way through a non-transactional migration leaves.
			if _, err := tg.db.ExecContext(t.Context(), `UPDATE strata_migrations SET dirty = TRUE WHERE id = '0003_tags'`); err != nil {
				t.Fatal(err)
			}
			steps := []struct {
				name   string
				args   []string
				code   int
				stdout []string
				stderr []string
			}{
				{name: "status shows it", args: []string{"status"}, stdout: []string{"0003_tags", "dirty", "1 dirty"}},
				{name: "status --exit-code fails", args: []string{"status", "--exit-code"}, code: cli.ExitFailure, stderr: []string{"dirty: 0003_tags", "repair"}},
				{name: "down refuses", args: []string{"down", "--yes"}, code: cli.ExitFailure, stderr: []string{"0003_tags", "dirty", "repair 0003_tags --applied|--not-applied"}},
				{name: "history notes it", args: []string{"history"}, stdout: []string{"0003_tags", "dirty"}},
				{name: "repair --applied", args: []string{"repair", "--applied", "0003_tags"}, stdout: []string{"repaired 0003_tags: recorded as applied"}},
				{name: "status is clean", args: []string{"status", "--exit-code"}, stdout: []string{"3 applied, 0 pending"}},
			}
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					r := run(t, ms, nil, append([]string{"--dsn", tg.dsn}, st.args...)...)
					if r.code != st.code {
						t.Fatalf("%q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", st.args, r.code, st.code, r.stdout, r.stderr)
					}
					containsInOrder(t, "stdout", r.stdout, st.stdout)
					containsInOrder(t, "stderr", r.stderr, st.stderr)
				})
			}
		})
	}
}

func TestUpFailure(t *testing.T) {
	ms := append(testMigrations(), &migration.Func{
		Name: "0004_broken", Requires: []string{"0002_posts", "0003_tags"},
		UpFn:   execFn(`CREATE TABLE broken (`),
		DownFn: execFn(`DROP TABLE broken`),
	}, &migration.Func{
		Name: "0005_precondition", Requires: []string{"0003_tags"},
		ValidateFn: func(context.Context, *migration.Tx) error { return errors.New("tags must be empty") },
		UpFn:       execFn(`SELECT 1`),
		DownFn:     execFn(`SELECT 1`),
	})
	// What the failure line says the failure left.
	brokenFailure := map[string][]string{
		"sqlite":   {"FAILED 0004_broken (rolled back: not applied, nothing changed): up: "},
		"postgres": {"FAILED 0004_broken (rolled back: not applied, nothing changed): up: "},
		"mysql": {"FAILED 0004_broken (NOT rolled back: recorded dirty, the database may be half changed): up: ",
			"hint: inspect the database, finish or undo what 0004_broken did, then run 'strata repair 0004_broken --applied' or 'strata repair 0004_broken --not-applied'"},
	}
	for i, newTarget := range targets(t) {
		t.Run(targetNames[i], func(t *testing.T) {
			tg := newTarget(t)
			tests := []struct {
				name   string
				args   []string
				stdout []string
				stderr []string
			}{
				{
					name:   "a failed precondition names the validate step",
					args:   []string{"up", "--to", "0005_precondition"},
					stdout: []string{"applied 0001_users", "applied 0003_tags"},
					stderr: []string{"FAILED 0005_precondition (did not start: nothing changed): validate: tags must be empty"},
				},
				{
					// On MySQL this leaves 0004_broken dirty.
					name:   "up stops at the failing migration",
					args:   []string{"up"},
					stdout: []string{"applied 0002_posts"},
					stderr: brokenFailure[tg.name],
				},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := run(t, ms, nil, append([]string{"--dsn", tg.dsn}, tt.args...)...)
					if r.code != cli.ExitFailure {
						t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, cli.ExitFailure, r.stdout, r.stderr)
					}
					containsInOrder(t, "stdout", r.stdout, tt.stdout)
					containsInOrder(t, "stderr", r.stderr, tt.stderr)
				})
			}
			if got := tables(t, tg.db); !slices.Equal(got, []string{"users", "posts", "tags"}) {
				t.Errorf("tables after the failures: %q", got)
			}
		})
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		code   int
		stdout []string
		stderr []string
		tags   bool // tags still there after
	}{
		{name: "yes", input: "y\n", stdout: []string{"rolled back 0003_tags"}, stderr: []string{"0003_tags", "Roll back 1 migration? [y/N]"}},
		{name: "YES", input: "YES\n", stdout: []string{"rolled back 0003_tags"}},
		{name: "no", input: "n\n", code: cli.ExitFailure, stderr: []string{"aborted"}, tags: true},
		{name: "empty answer", input: "\n", code: cli.ExitFailure, stderr: []string{"aborted"}, tags: true},
		{name: "no answer at all", input: "", code: cli.ExitUsage, stderr: []string{"--yes"}, tags: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "test.db")
			ms := testMigrations()
			if r := run(t, ms, nil, "--dsn", path, "up"); r.code != 0 {
				t.Fatalf("up: %d\n%s", r.code, r.stderr)
			}
			r := run(t, ms, []cli.Option{cli.WithInteractive(true), cli.WithInput(strings.NewReader(tt.input))}, "--dsn", path, "down")
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			containsInOrder(t, "stdout", r.stdout, tt.stdout)
			containsInOrder(t, "stderr", r.stderr, tt.stderr)
			db, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := hasTable(t, db, "tags"); got != tt.tags {
				t.Errorf("table tags exists: %v, want %v", got, tt.tags)
			}
		})
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-pw"
	tests := []struct {
		name string
		args []string
		env  string
		code int
	}{
		{name: "postgres url", args: []string{"--dsn", "postgres://bob:" + secret + "@127.0.0.1:1/app?sslmode=disable", "status"}, code: cli.ExitFailure},
		{name: "postgres url verbose", args: []string{"-v", "--dsn", "postgres://bob:" + secret + "@127.0.0.1:1/app?sslmode=disable", "up"}, code: cli.ExitFailure},
		{name: "postgres password parameter", args: []string{"--dsn", "postgres://127.0.0.1:1/app?user=bob&password=" + secret, "status"}, code: cli.ExitFailure},
		{name: "postgres keywords", args: []string{"--dsn", "host=127.0.0.1 port=1 user=bob password=" + secret + " dbname=app", "status"}, code: cli.ExitFailure},
		{name: "mysql driver form", args: []string{"--dsn", "bob:" + secret + "@tcp(127.0.0.1:1)/app", "status"}, code: cli.ExitFailure},
		{name: "mysql url", args: []string{"--dsn", "mysql://bob:" + secret + "@127.0.0.1:1/app", "history"}, code: cli.ExitFailure},
		{name: "malformed mysql dsn", args: []string{"--dialect", "mysql", "--dsn", "bob:" + secret + "@tcp(127.0.0.1:1/app", "status"}, code: cli.ExitFailure},
		{name: "unknown scheme", args: []string{"--dsn", "oracle://bob:" + secret + "@127.0.0.1:1/app", "status"}, code: cli.ExitUsage},
		{name: "unknown dialect", args: []string{"--dialect", "oracle", "--dsn", "bob:" + secret + "@tcp(127.0.0.1:1)/app", "status"}, code: cli.ExitUsage},
		{name: "dsn from the environment", env: "postgres://bob:" + secret + "@127.0.0.1:1/app", args: []string{"pending"}, code: cli.ExitFailure},
		{name: "bad flag after the dsn", args: []string{"--dsn", "postgres://bob:" + secret + "@127.0.0.1:1/app", "status", "--nope"}, code: cli.ExitUsage},
		{name: "help after the dsn", args: []string{"--dsn", "postgres://bob:" + secret + "@127.0.0.1:1/app", "status", "-h"}, code: cli.ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []cli.Option{cli.WithGetenv(func(k string) string {
				if k == cli.DefaultDSNEnv {
					return tt.env
				}
				return ""
			})}
			r := run(t, testMigrations(), opts, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if tt.code != cli.ExitOK && r.stderr == "" {
				t.Errorf("no error message on stderr")
			}
			for _, out := range []string{r.stdout, r.stderr} {
				if strings.Contains(out, secret) {
					t.Errorf("the password appears in the output:\n%s", out)
				}
			}
		})
	}
}

func TestDSNSources(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env.db")
	other := filepath.Join(t.TempDir(), "default.db")
	tests := []struct {
		name   string
		opts   []cli.Option
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "no dsn anywhere", args: []string{"status"}, code: cli.ExitUsage, stderr: []string{"no database", "--dsn", "STRATA_DSN"}},
		{
			name: "named environment variable",
			opts: []cli.Option{cli.WithDSNEnv("APP_DSN"), cli.WithGetenv(func(k string) string {
				if k == "APP_DSN" {
					return path
				}
				return ""
			})},
			args: []string{"up"}, stdout: []string{"applied 0001_users"},
		},
		{name: "default dsn", opts: []cli.Option{cli.WithDefaultDSN(other)}, args: []string{"up"}, stdout: []string{"applied 0001_users"}},
		{name: "file: prefix", args: []string{"status", "--dsn", "file:" + path}, stdout: []string{"3 applied"}},
		{name: "explicit dialect", args: []string{"status", "--dialect", "sqlite", "--dsn", path}, stdout: []string{"3 applied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, testMigrations(), tt.opts, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			containsInOrder(t, "stdout", r.stdout, tt.stdout)
			containsInOrder(t, "stderr", r.stderr, tt.stderr)
		})
	}
}

// TestOpeners: SQLite opens through its dialect's Open method with no
// option; a dialect with neither an Open method nor a known driver is a
// clear error saying what to pass.
func TestOpeners(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := cli.Run(t.Context(), []string{"--dsn", filepath.Join(t.TempDir(), "x.db"), "status"}, testMigrations(),
		cli.WithOutput(&stdout, &stderr), cli.WithGetenv(func(string) string { return "" }))
	if code != cli.ExitOK {
		t.Fatalf("SQLite without WithOpener: exit code %d, want %d\n%s", code, cli.ExitOK, stderr.String())
	}
	if err := dialect.Register(bare{sqlite.New()}); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	code = cli.Run(t.Context(), []string{"--dialect", "bare-test", "--dsn", filepath.Join(t.TempDir(), "y.db"), "status"}, testMigrations(),
		cli.WithOutput(&stdout, &stderr), cli.WithGetenv(func(string) string { return "" }))
	if code != cli.ExitFailure || !strings.Contains(stderr.String(), `cli.WithOpener("bare-test", open)`) {
		t.Fatalf("exit code %d, stderr:\n%s\nwant a failure saying to pass cli.WithOpener", code, stderr.String())
	}
}

// bare is a dialect with only the methods of the Dialect interface.
type bare struct{ dialect.Dialect }

func (bare) Name() string { return "bare-test" }

func TestUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "no arguments", code: cli.ExitUsage, stderr: []string{"Usage:", "Commands:", "up", "Exit codes"}},
		{name: "help", args: []string{"help"}, stdout: []string{"Usage: strata [flags] <command>", "status", "--dsn DSN", "Exit codes: 0 ok, 1 failure, 2 usage, 3 pending"}},
		{name: "-h", args: []string{"-h"}, stdout: []string{"Usage:"}},
		{name: "help of a command", args: []string{"help", "repair"}, stdout: []string{"Usage: strata repair [flags] ID", "--applied", "--not-applied", "Global flags:", "--dsn"}},
		{name: "command -h", args: []string{"up", "-h"}, stdout: []string{"Usage: strata up", "--to ID"}},
		{name: "help of an unknown command", args: []string{"help", "nope"}, code: cli.ExitUsage, stderr: []string{`unknown command "nope"`}},
		{name: "unknown command", args: []string{"migrate"}, code: cli.ExitUsage, stderr: []string{`unknown command "migrate"`, "Run 'strata help' for usage."}},
		{name: "unknown flag", args: []string{"--nope", "status"}, code: cli.ExitUsage, stderr: []string{"-nope"}},
		{name: "bad duration", args: []string{"status", "--lock-timeout", "soon"}, code: cli.ExitUsage, stderr: []string{"lock-timeout"}},
		{name: "bad table name", args: []string{"--dsn", "x.db", "--table", "bad name", "status"}, code: cli.ExitUsage, stderr: []string{"--table", "invalid table name"}},
		{name: "negative lock timeout", args: []string{"--dsn", "x.db", "status", "--lock-timeout", "-1s"}, code: cli.ExitUsage, stderr: []string{"--lock-timeout", "negative"}},
		{name: "version", args: []string{"version"}, stdout: []string{"strata devel ("}},
		{name: "unknown dialect", args: []string{"--dialect", "nope", "--dsn", "x.db", "status"}, code: cli.ExitUsage, stderr: []string{`unknown dialect "nope"`, "sqlite"}},
		{name: "dsn of no known kind", args: []string{"--dsn", "sqlserver://h/db", "status"}, code: cli.ExitUsage, stderr: []string{"--dialect"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, testMigrations(), nil, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			containsInOrder(t, "stdout", r.stdout, tt.stdout)
			containsInOrder(t, "stderr", r.stderr, tt.stderr)
		})
	}
}

func TestBadGraph(t *testing.T) {
	ms := []migration.Migration{
		migration.SQL("0001_a", "SELECT 1", "SELECT 1", "0002_b"),
		migration.SQL("0002_b", "SELECT 1", "SELECT 1", "0001_a"),
	}
	dsn := filepath.Join(t.TempDir(), "x.db")
	for _, args := range [][]string{{"status"}, {"graph"}, {"create", "--dir", t.TempDir(), "name"}} {
		t.Run(args[0], func(t *testing.T) {
			r := run(t, ms, nil, append([]string{"--dsn", dsn}, args...)...)
			if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "cycle") {
				t.Errorf("exit code %d, stderr:\n%s\nwant 1 and the cycle", r.code, r.stderr)
			}
		})
	}
}

func TestGraph(t *testing.T) {
	ms := append(testMigrations(), migration.SQL("0004_merge", "SELECT 1", "SELECT 1", "0002_posts", "0003_tags"))
	tests := []struct {
		name   string
		args   []string
		stdout []string
	}{
		{name: "text", args: []string{"graph"}, stdout: []string{
			"ID", "DEPENDS ON", "0001_users", "-", "branches (2)",
			"0002_posts", "0001_users", "0003_tags", "0001_users",
			"0004_merge", "0002_posts, 0003_tags", "merge, head"}},
		{name: "dot", args: []string{"graph", "--dot"}, stdout: []string{
			"digraph migrations {", `"0001_users" [label="0001_users\ncreate users"];`,
			`"0004_merge" [label="0004_merge", style=bold];`,
			`"0001_users" -> "0002_posts";`, `"0002_posts" -> "0004_merge";`, `"0003_tags" -> "0004_merge";`, "}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, ms, nil, tt.args...)
			if r.code != 0 {
				t.Fatalf("exit code %d\n%s", r.code, r.stderr)
			}
			containsInOrder(t, "stdout", r.stdout, tt.stdout)
		})
	}
}

// containsInOrder checks that out contains each of want, in order.
func containsInOrder(t *testing.T, what, out string, want []string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%s does not contain %q (in order):\n%s", what, w, out)
			return
		}
		rest = rest[i+len(w):]
	}
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode json: %v\n%s", err, s)
	}
}

func TestLockTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Another migrator holds the lock.
	held := lock.NewFile(path+".lock", nil)
	if err := held.Lock(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	defer held.Unlock(context.WithoutCancel(t.Context()), conn)

	r := run(t, testMigrations(), nil, "--dsn", path, "--lock-timeout", "200ms", "up")
	if r.code != cli.ExitFailure {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, cli.ExitFailure, r.stdout, r.stderr)
	}
	containsInOrder(t, "stderr", r.stderr, []string{"lock", "timed out", "hint:", "--lock-timeout"})
}

func TestBackupRestore(t *testing.T) {
	for i, newTarget := range targets(t) {
		t.Run(targetNames[i], func(t *testing.T) {
			tg := newTarget(t)
			ms := testMigrations()
			backups := filepath.Join(t.TempDir(), "backups")
			migrate := func(t *testing.T, args ...string) result {
				t.Helper()
				return run(t, ms, nil, append([]string{"--dsn", tg.dsn, "--backup-dir", backups}, args...)...)
			}
			if r := migrate(t, "up"); r.code != 0 {
				t.Fatalf("up: %d\n%s", r.code, r.stderr)
			}
			if _, err := tg.db.ExecContext(t.Context(), `INSERT INTO users (id, name) VALUES (1, 'ann')`); err != nil {
				t.Fatal(err)
			}
			var file string
			steps := []struct {
				name   string
				args   func() []string
				code   int
				stdout []string
				stderr []string
				tables []string
				after  func(t *testing.T, r result)
			}{
				{name: "no backups yet", args: func() []string { return []string{"backup", "--list"} }, stdout: []string{"no backups"}},
				{
					name: "backup", args: func() []string { return []string{"backup", "--label", "before-reset"} },
					stdout: []string{"backed up to " + backups, "before-reset"},
					after: func(t *testing.T, r result) {
						path, _, ok := strings.Cut(strings.TrimPrefix(r.stdout, "backed up to "), " (")
						if !ok {
							t.Fatalf("no file in %q", r.stdout)
						}
						file = path
					},
				},
				{
					name: "backup --list --json", args: func() []string { return []string{"backup", "--list", "--json"} },
					after: func(t *testing.T, r result) {
						var got []struct{ Path, Label, Sha256 string }
						decode(t, r.stdout, &got)
						if len(got) != 1 || got[0].Path != file || got[0].Label != "before-reset" || got[0].Sha256 == "" {
							t.Errorf("backup --list --json = %+v, want %s", got, file)
						}
					},
				},
				{name: "reset", args: func() []string { return []string{"down", "--all", "--yes"} }, tables: []string{}},
				{
					name: "restore needs --yes off a terminal", args: func() []string { return []string{"restore", file} },
					code: cli.ExitUsage, stderr: []string{"--yes"}, tables: []string{},
				},
				{name: "restore of a missing file", args: func() []string { return []string{"restore", file + ".nope", "--yes"} }, code: cli.ExitFailure, stderr: []string{"does not exist"}},
				{
					name: "restore", args: func() []string { return []string{"restore", "--yes", file} },
					stdout: []string{"restored from " + file}, tables: []string{"users", "posts", "tags"},
					after: func(t *testing.T, r result) {
						var name string
						if err := tg.db.QueryRowContext(t.Context(), `SELECT name FROM users WHERE id = 1`).Scan(&name); err != nil || name != "ann" {
							t.Errorf("the restored row: %q, %v", name, err)
						}
					},
				},
				{name: "the version table is restored too", args: func() []string { return []string{"status", "--exit-code"} }, stdout: []string{"3 applied, 0 pending"}},
			}
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					r := migrate(t, st.args()...)
					if r.code != st.code {
						t.Fatalf("%q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", st.args(), r.code, st.code, r.stdout, r.stderr)
					}
					containsInOrder(t, "stdout", r.stdout, st.stdout)
					containsInOrder(t, "stderr", r.stderr, st.stderr)
					if st.tables != nil {
						if got := tables(t, tg.db); !slices.Equal(got, st.tables) && !(len(got) == 0 && len(st.tables) == 0) {
							t.Errorf("tables: %q, want %q", got, st.tables)
						}
					}
					if st.after != nil {
						st.after(t, r)
					}
				})
			}
		})
	}
}

// TestMySQLURL: a mysql:// URL opens the database through the dialect's
// Open and reaches the backup tools in the driver's form.
func TestMySQLURL(t *testing.T) {
	_, dsn := mytest.New(t)
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Net != "tcp" {
		t.Skipf("%s uses network %q; a mysql:// URL names a TCP address", "STRATA_TEST_MYSQL_DSN", cfg.Net)
	}
	u := &url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + cfg.DBName}
	if cfg.Passwd != "" {
		u.User = url.UserPassword(cfg.User, cfg.Passwd)
	} else {
		u.User = url.User(cfg.User)
	}
	backups := filepath.Join(t.TempDir(), "backups")
	if r := run(t, testMigrations(), nil, "--dsn", u.String(), "--backup-dir", backups, "up"); r.code != cli.ExitOK {
		t.Fatalf("up: exit code %d\n%s", r.code, r.stderr)
	}
	r := run(t, testMigrations(), nil, "--dsn", u.String(), "--backup-dir", backups, "backup", "--label", "url")
	if r.code != cli.ExitOK {
		t.Fatalf("backup: exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	containsInOrder(t, "stdout", r.stdout, []string{"backed up to " + backups, "url"})
}
