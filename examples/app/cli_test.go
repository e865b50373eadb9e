package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	const secret = "s3cr3t-pw"
	tests := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stdout []string
		stderr []string
		files  []string // created in the working directory
		absent []string // not created in the working directory
		then   []string // a second command, run after args, in the same directory
	}{
		{name: "no arguments", code: 2, stderr: []string{"Usage:", "app migrate", "app serve"}},
		{name: "unknown command", args: []string{"bogus"}, code: 2, stderr: []string{`unknown command "bogus"`}},
		{name: "help", args: []string{"help"}, stdout: []string{"app migrate", "app serve"}},
		{name: "migrate help", args: []string{"migrate", "help"}, stdout: []string{"Usage: app migrate [flags] <command>", "--dsn DSN", "$STRATA_DSN"}},
		{name: "migrate without a command", args: []string{"migrate"}, code: 2, stderr: []string{"Usage: app migrate"}},
		{name: "version", args: []string{"migrate", "version"}, stdout: []string{"strata "}},
		{
			name: "default database file", args: []string{"migrate", "up"},
			stdout: []string{"applied 0001_servers", "applied 0007_servers_base_url"}, files: []string{"app.db"},
			stderr: []string{"app migrate: no --dsn and no $STRATA_DSN: using the default database app.db"},
		},
		{
			name: "database from STRATA_DSN", env: []string{"STRATA_DSN=from-env.db"}, args: []string{"migrate", "status"},
			stdout: []string{"0 applied, 9 pending"}, files: []string{"from-env.db"}, absent: []string{"app.db"},
		},
		{
			// The README's instructions: export STRATA_DSN, then migrate.
			name: "up migrates STRATA_DSN, not the default file", env: []string{"STRATA_DSN=from-env.db"}, args: []string{"migrate", "up"},
			stdout: []string{"applied 0001_servers"}, files: []string{"from-env.db"}, absent: []string{"app.db"},
		},
		{
			name: "--dsn beats STRATA_DSN", env: []string{"STRATA_DSN=from-env.db"}, args: []string{"migrate", "--dsn", "flag.db", "up"},
			stdout: []string{"applied 0001_servers"}, files: []string{"flag.db"}, absent: []string{"app.db", "from-env.db"},
		},
		{
			// The command line and the start-up agree on the version table
			// the environment names: serve finds nothing to do.
			name: "serve reads STRATA_TABLE as migrate does", env: []string{"STRATA_DSN=t.db", "STRATA_TABLE=app_versions"},
			args: []string{"migrate", "up"}, then: []string{"serve"},
			stdout: []string{"applied 0009_servers_base_url_unique", "database migrated (0 migration(s) applied)"},
		},
		{
			name: "serve reads STRATA_DSN too", env: []string{"STRATA_DSN=serve-env.db"}, args: []string{"serve"},
			stdout: []string{"database migrated (9 migration(s) applied)"}, files: []string{"serve-env.db"}, absent: []string{"app.db"},
		},
		{
			name: "serve migrates on start-up", args: []string{"serve", "--dsn", "serve.db"},
			stdout: []string{"database migrated (9 migration(s) applied)"}, files: []string{"serve.db"},
		},
		{
			name: "serve hides the password", args: []string{"serve", "--dsn", "postgres://app:" + secret + "@127.0.0.1:1/app?sslmode=disable"},
			code: 1, stderr: []string{"app serve: connect to postgres database"},
		},
		{
			name: "migrate hides the password", args: []string{"migrate", "--dsn", "app:" + secret + "@tcp(127.0.0.1:1)/app", "status"},
			code: 1, stderr: []string{"app migrate: connect to mysql database"},
		},
		{
			name: "migrate hides the password from the environment", env: []string{"STRATA_DSN=postgres://app:" + secret + "@127.0.0.1:1/app"},
			args: []string{"migrate", "-v", "up"}, code: 1, stderr: []string{"app migrate: connect to postgres database"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			env := append([]string{"STRATA_BACKUP_DIR=" + filepath.Join(dir, "backups")}, tt.env...)
			r := app(t, dir, env, tt.args...)
			if tt.then != nil && r.code == 0 {
				r2 := app(t, dir, env, tt.then...)
				r = result{code: r2.code, stdout: r.stdout + r2.stdout, stderr: r.stderr + r2.stderr}
			}
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			containsInOrder(t, "stdout", r.stdout, tt.stdout)
			containsInOrder(t, "stderr", r.stderr, tt.stderr)
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("the password appears in the output:\n%s\n%s", r.stdout, r.stderr)
			}
			for _, f := range tt.files {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
			for _, f := range tt.absent {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					t.Errorf("%s was created", f)
				}
			}
		})
	}
}

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	migrations := filepath.Join(dir, "migrations")
	r := app(t, dir, nil, "migrate", "create", "--dir", migrations, "--seq", "add server owner")
	if r.code != 0 {
		t.Fatalf("exit code %d\n%s", r.code, r.stderr)
	}
	containsInOrder(t, "stdout", r.stdout, []string{"created ", "0010_add_server_owner.go", "depends on: 0009_servers_base_url_unique", "migrations.AddServerOwner{}"})
	src, err := os.ReadFile(filepath.Join(migrations, "0010_add_server_owner.go"))
	if err != nil {
		t.Fatal(err)
	}
	containsInOrder(t, "the new file", string(src), []string{
		"package migrations", "type AddServerOwner struct{ migration.Base }",
		`return "0010_add_server_owner"`, `return []string{"0009_servers_base_url_unique"}`,
	})
	again := app(t, dir, nil, "migrate", "create", "--dir", migrations, "--seq", "add server owner")
	if again.code != 1 || !strings.Contains(again.stderr, "not overwriting") {
		t.Errorf("second create: exit code %d\n%s", again.code, again.stderr)
	}
}
