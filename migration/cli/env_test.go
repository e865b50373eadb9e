package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/cli"
)

// TestEnvironment: every global flag (and create's --dir and --seq) can
// be set by a STRATA_* variable, and a flag on the command line beats it.
func TestEnvironment(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "env.db")
	other := filepath.Join(dir, "flag.db")
	def := filepath.Join(dir, "default.db")
	if r := run(t, testMigrations(), nil, "--dsn", db, "up", "--to", "0001_users"); r.code != 0 {
		t.Fatalf("up: %d\n%s", r.code, r.stderr)
	}
	tests := []struct {
		name   string
		env    map[string]string
		opts   []cli.Option
		args   []string
		code   int
		stdout []string
		stderr []string
		check  func(t *testing.T, r result)
	}{
		{name: "STRATA_DSN", env: map[string]string{"STRATA_DSN": db}, args: []string{"status"}, stdout: []string{"1 applied, 2 pending"}},
		{name: "--dsn beats STRATA_DSN", env: map[string]string{"STRATA_DSN": db}, args: []string{"status", "--dsn", other}, stdout: []string{"0 applied, 3 pending"}},
		{
			name: "the application's variable, else STRATA_DSN", env: map[string]string{"STRATA_DSN": db},
			opts: []cli.Option{cli.WithDSNEnv("APP_DSN")}, args: []string{"status"}, stdout: []string{"1 applied, 2 pending"},
		},
		{
			name: "the application's variable beats STRATA_DSN", env: map[string]string{"STRATA_DSN": other, "APP_DSN": db},
			opts: []cli.Option{cli.WithDSNEnv("APP_DSN")}, args: []string{"status"}, stdout: []string{"1 applied, 2 pending"},
		},
		{
			name: "STRATA_DSN beats the default", env: map[string]string{"STRATA_DSN": db},
			opts: []cli.Option{cli.WithDefaultDSN(def)}, args: []string{"up", "--to", "0001_users"}, stdout: []string{"nothing to apply"},
			check: func(t *testing.T, r result) {
				if strings.Contains(r.stderr, "default database") {
					t.Errorf("says it uses the default database:\n%s", r.stderr)
				}
				if _, err := os.Stat(def); err == nil {
					t.Errorf("the default database was created")
				}
			},
		},
		{
			name: "the default database is announced when it is changed", opts: []cli.Option{cli.WithDefaultDSN(def)},
			args: []string{"up", "--to", "0001_users"}, stderr: []string{"no --dsn and no $STRATA_DSN: using the default database " + def},
		},
		{name: "STRATA_TABLE", env: map[string]string{"STRATA_DSN": db, "STRATA_TABLE": "other_versions"}, args: []string{"status"}, stdout: []string{"0 applied, 3 pending"}},
		{name: "--table beats STRATA_TABLE", env: map[string]string{"STRATA_DSN": db, "STRATA_TABLE": "other_versions"}, args: []string{"status", "--table", "strata_migrations"}, stdout: []string{"1 applied, 2 pending"}},
		{name: "a bad STRATA_TABLE", env: map[string]string{"STRATA_DSN": db, "STRATA_TABLE": "bad name"}, args: []string{"status"}, code: cli.ExitUsage, stderr: []string{"--table", "invalid table name"}},
		{name: "STRATA_DIALECT", env: map[string]string{"STRATA_DSN": db, "STRATA_DIALECT": "nope"}, args: []string{"status"}, code: cli.ExitUsage, stderr: []string{`unknown dialect "nope"`}},
		{name: "--dialect beats STRATA_DIALECT", env: map[string]string{"STRATA_DSN": db, "STRATA_DIALECT": "nope"}, args: []string{"status", "--dialect", "sqlite"}, stdout: []string{"1 applied"}},
		{name: "a bad STRATA_LOCK_TIMEOUT", env: map[string]string{"STRATA_DSN": db, "STRATA_LOCK_TIMEOUT": "soon"}, args: []string{"status"}, code: cli.ExitUsage, stderr: []string{"$STRATA_LOCK_TIMEOUT", "soon"}},
		{name: "a negative STRATA_LOCK_TIMEOUT", env: map[string]string{"STRATA_DSN": db, "STRATA_LOCK_TIMEOUT": "-1s"}, args: []string{"status"}, code: cli.ExitUsage, stderr: []string{"negative"}},
		{name: "--lock-timeout beats STRATA_LOCK_TIMEOUT", env: map[string]string{"STRATA_DSN": db, "STRATA_LOCK_TIMEOUT": "soon"}, args: []string{"status", "--lock-timeout", "1s"}, stdout: []string{"1 applied"}},
		{name: "STRATA_JSON", env: map[string]string{"STRATA_DSN": db, "STRATA_JSON": "1"}, args: []string{"pending"}, stdout: []string{`"id": "0003_tags"`}},
		{name: "--json=false beats STRATA_JSON", env: map[string]string{"STRATA_DSN": db, "STRATA_JSON": "true"}, args: []string{"pending", "--json=false"}, stdout: []string{"0003_tags"},
			check: func(t *testing.T, r result) {
				if strings.Contains(r.stdout, "{") {
					t.Errorf("JSON output:\n%s", r.stdout)
				}
			}},
		{name: "a bad STRATA_JSON", env: map[string]string{"STRATA_DSN": db, "STRATA_JSON": "maybe"}, args: []string{"pending"}, code: cli.ExitUsage, stderr: []string{"$STRATA_JSON", "maybe"}},
		{name: "STRATA_VERBOSE", env: map[string]string{"STRATA_DSN": db, "STRATA_VERBOSE": "1"}, args: []string{"backup"}, stderr: []string{"level="}},
		{name: "STRATA_BACKUP_DIR", env: map[string]string{"STRATA_DSN": db, "STRATA_BACKUP_DIR": filepath.Join(dir, "bk")}, args: []string{"backup"}, stdout: []string{"backed up to " + filepath.Join(dir, "bk")}},
		{name: "--backup-dir beats STRATA_BACKUP_DIR", env: map[string]string{"STRATA_DSN": db, "STRATA_BACKUP_DIR": filepath.Join(dir, "bk")}, args: []string{"backup", "--backup-dir", filepath.Join(dir, "bk2")}, stdout: []string{"backed up to " + filepath.Join(dir, "bk2")}},
		{name: "--yes=false beats STRATA_YES", env: map[string]string{"STRATA_DSN": db, "STRATA_YES": "true"}, args: []string{"down", "--yes=false"}, code: cli.ExitUsage, stderr: []string{"--yes"}},
		{name: "STRATA_YES", env: map[string]string{"STRATA_DSN": db, "STRATA_YES": "true"}, args: []string{"down"}, stdout: []string{"rolled back 0001_users"}},
		{
			name: "STRATA_MIGRATIONS_DIR and STRATA_SEQ", env: map[string]string{"STRATA_MIGRATIONS_DIR": filepath.Join(dir, "ms"), "STRATA_SEQ": "1"},
			args: []string{"create", "add_x"}, stdout: []string{"created " + filepath.Join(dir, "ms", "0004_add_x.go")},
		},
		{
			name: "--dir beats STRATA_MIGRATIONS_DIR", env: map[string]string{"STRATA_MIGRATIONS_DIR": filepath.Join(dir, "ms"), "STRATA_SEQ": "1"},
			args: []string{"create", "--dir", filepath.Join(dir, "ms2"), "add_y"}, stdout: []string{"created " + filepath.Join(dir, "ms2", "0004_add_y.go")},
		},
		{name: "help names the variables", args: []string{"help"}, stdout: []string{"[$STRATA_BACKUP_DIR]", "[$STRATA_DIALECT]", "$STRATA_DSN", "[$STRATA_JSON]", "[$STRATA_LOCK_TIMEOUT]", "[$STRATA_TABLE]", "[$STRATA_VERBOSE]", "[$STRATA_YES]"}},
		{name: "help create names its variables", args: []string{"help", "create"}, stdout: []string{"[$STRATA_MIGRATIONS_DIR]", "[$STRATA_SEQ]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]cli.Option{cli.WithGetenv(func(k string) string { return tt.env[k] })}, tt.opts...)
			r := run(t, testMigrations(), opts, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			containsInOrder(t, "stdout", r.stdout, tt.stdout)
			containsInOrder(t, "stderr", r.stderr, tt.stderr)
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// TestOpenManagerEnvironment: an application that migrates on start-up
// with OpenManager reads the same variables as its command line, so the
// two agree on the version table when only the environment names it.
func TestOpenManagerEnvironment(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "app.db")
	env := map[string]string{"STRATA_TABLE": "app_versions", "STRATA_LOCK_TIMEOUT": "5s"}
	getenv := cli.WithGetenv(func(k string) string { return env[k] })
	if r := run(t, testMigrations(), []cli.Option{getenv}, "--dsn", dsn, "up"); r.code != cli.ExitOK {
		t.Fatalf("up: %d\n%s", r.code, r.stderr)
	}
	m, db, err := cli.OpenManager(t.Context(), dsn, "", testMigrations(), getenv,
		cli.WithManagerOptions(migration.WithTable("overridden")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if m.Table() != "app_versions" {
		t.Errorf("table %q, want app_versions from $STRATA_TABLE", m.Table())
	}
	res, err := m.Up(t.Context())
	if err != nil || len(res) != 0 {
		t.Errorf("Up on start-up after the command line migrated: %v, %v; want nothing to do", res, err)
	}

	for _, bad := range []map[string]string{
		{"STRATA_TABLE": "bad name"},
		{"STRATA_LOCK_TIMEOUT": "soon"},
		{"STRATA_LOCK_TIMEOUT": "-1s"},
		{"STRATA_DIALECT": "nope"},
	} {
		_, db, err := cli.OpenManager(t.Context(), dsn, "", testMigrations(), cli.WithGetenv(func(k string) string { return bad[k] }))
		if err == nil {
			db.Close()
			t.Errorf("OpenManager with %v succeeded", bad)
			continue
		}
		for k := range bad {
			want := "$" + k
			if k == "STRATA_DIALECT" {
				want = `unknown dialect "nope"`
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("OpenManager with %v: %v, want it to name %s", bad, err, want)
			}
		}
	}
}
