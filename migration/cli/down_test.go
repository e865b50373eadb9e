package cli_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/cli"
)

// TestDownN: down N rolls back the last N applied migrations, newest
// first, and refuses what is not a positive number or comes with --to or
// --all, changing nothing.
func TestDownN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := testMigrations()
	steps := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
		tables []string
	}{
		{name: "up", args: []string{"up"}, tables: []string{"users", "posts", "tags"}},
		{name: "zero", args: []string{"down", "0", "--yes"}, code: cli.ExitUsage, stderr: []string{"N must be a positive number", `"0"`}, tables: []string{"users", "posts", "tags"}},
		{name: "negative", args: []string{"down", "--yes", "--", "-1"}, code: cli.ExitUsage, stderr: []string{"positive number", `"-1"`}, tables: []string{"users", "posts", "tags"}},
		{name: "not a number", args: []string{"down", "two", "--yes"}, code: cli.ExitUsage, stderr: []string{"positive number", `"two"`}, tables: []string{"users", "posts", "tags"}},
		{name: "with --all", args: []string{"down", "2", "--all", "--yes"}, code: cli.ExitUsage, stderr: []string{"N excludes --to and --all"}, tables: []string{"users", "posts", "tags"}},
		{name: "with --to", args: []string{"down", "2", "--to", "0001_users", "--yes"}, code: cli.ExitUsage, stderr: []string{"N excludes --to and --all"}, tables: []string{"users", "posts", "tags"}},
		{name: "two arguments", args: []string{"down", "1", "1", "--yes"}, code: cli.ExitUsage, stderr: []string{"too many arguments"}, tables: []string{"users", "posts", "tags"}},
		{name: "needs --yes", args: []string{"down", "2"}, code: cli.ExitUsage, stderr: []string{"--yes"}, tables: []string{"users", "posts", "tags"}},
		{name: "two", args: []string{"down", "2", "--yes"}, stdout: []string{"rolled back 0003_tags", "rolled back 0002_posts"}, tables: []string{"users"}},
		{name: "more than applied", args: []string{"down", "5", "--yes"}, stdout: []string{"rolled back 0001_users"}, tables: []string{}},
		{name: "nothing applied", args: []string{"down", "3", "--yes"}, stdout: []string{"nothing to roll back"}, tables: []string{}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := run(t, ms, nil, append([]string{"--dsn", path}, st.args...)...)
			if r.code != st.code {
				t.Fatalf("%q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", st.args, r.code, st.code, r.stdout, r.stderr)
			}
			containsInOrder(t, "stdout", r.stdout, st.stdout)
			containsInOrder(t, "stderr", r.stderr, st.stderr)
			if got := tables(t, db); !slices.Equal(got, st.tables) && len(got)+len(st.tables) > 0 {
				t.Errorf("tables: %q, want %q", got, st.tables)
			}
		})
	}
}

// TestAtomicFailureLine: in an all-or-nothing run a failure undoes the
// whole run: nothing is printed as applied, and the failure line says
// nothing changed, which status confirms.
func TestAtomicFailureLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	ms := append(testMigrations(), &migration.Func{
		Name: "0004_broken", Requires: []string{"0002_posts", "0003_tags"},
		UpFn: execFn(`CREATE TABLE broken (`), DownFn: execFn(`SELECT 1`),
	})
	opts := []cli.Option{cli.WithManagerOptions(migration.WithAtomic())}
	r := run(t, ms, opts, "--dsn", path, "up")
	if r.code != cli.ExitFailure {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	containsInOrder(t, "stderr", r.stderr, []string{"FAILED 0004_broken (rolled back: not applied, nothing changed): up: "})
	if strings.Contains(r.stdout, "applied") {
		t.Errorf("stdout reports migrations applied by a run that was undone:\n%s", r.stdout)
	}
	if s := run(t, ms, nil, "--dsn", path, "status"); !containsAll(s.stdout, "0 applied, 4 pending") {
		t.Errorf("status after the atomic failure:\n%s", s.stdout)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
