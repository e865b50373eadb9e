package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/cli"
)

// jsonNormalizers replace what differs from run to run (times, durations,
// paths, sizes, checksums, the toolchain) in --json output before it is
// compared with the golden files.
var jsonNormalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"`), `"2006-01-02T15:04:05Z"`},
	{regexp.MustCompile(`\d{8}T\d{6}(\.\d+)?Z`), `20060102T150405Z`},
	{regexp.MustCompile(`"duration_us": \d+`), `"duration_us": 0`},
	{regexp.MustCompile(`"size": \d+`), `"size": 0`},
	{regexp.MustCompile(`"sha256": "[0-9a-f]{64}"`), `"sha256": "SHA256"`},
	{regexp.MustCompile(`"go": "[^"]+"`), `"go": "GO"`},
	{regexp.MustCompile(`"platform": "[^"]+"`), `"platform": "OS/ARCH"`},
	{regexp.MustCompile(`"program": \{[^}]*\},?\n\s*`), ``},
}

// TestJSONGolden runs every command with --json through cli.Run on a
// SQLite database, as a script would, and compares what each prints with
// testdata/json/NN_name.json: stdout is always one JSON document (or
// nothing, for a usage error), whether the command succeeds or fails.
func TestJSONGolden(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "app.db")
	base := testMigrations()
	broken := append(testMigrations(), &migration.Func{
		Name: "0004_broken", Desc: "fails in its transaction", Requires: []string{"0002_posts", "0003_tags"},
		UpFn:   execFn(`CREATE TABLE broken (`),
		DownFn: execFn(`SELECT 1`),
	})
	dirty := append(testMigrations(), &migration.Func{
		Name: "0004_no_tx", Desc: "fails outside a transaction", Requires: []string{"0002_posts", "0003_tags"}, NoTx: true,
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE half (id INTEGER)`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `CREATE TABLE half (id INTEGER)`)
			return err
		},
		DownFn: execFn(`DROP TABLE half`),
	})
	var backupFile string
	steps := []struct {
		name   string
		ms     []migration.Migration
		before func(t *testing.T)
		args   []string
		code   int
		after  func(t *testing.T, stdout string)
	}{
		{name: "version_fresh", args: []string{"version"}},
		{name: "status_fresh", args: []string{"status"}},
		{name: "pending", args: []string{"pending"}},
		{name: "plan", args: []string{"plan"}},
		{name: "validate", args: []string{"validate"}},
		{name: "graph", args: []string{"graph"}},
		{name: "up_to", args: []string{"up", "--to", "0002_posts"}},
		{name: "up", args: []string{"up"}},
		{name: "up_nothing", args: []string{"up"}},
		{name: "validate_nothing", args: []string{"validate"}},
		{name: "history", args: []string{"history"}},
		{name: "down_2", args: []string{"down", "2", "--yes"}},
		{name: "down", args: []string{"down", "--yes"}},
		{name: "down_nothing", args: []string{"down", "--yes"}},
		{name: "baseline", args: []string{"baseline", "0002_posts"}},
		{name: "baseline_nothing", args: []string{"baseline", "0002_posts"}},
		{name: "history_baselined", args: []string{"history"}},
		{name: "status_baselined", args: []string{"status"}},
		{name: "drift", args: []string{"drift"}},
		{
			name: "drift_changed", args: []string{"drift"}, code: cli.ExitDrift,
			before: func(t *testing.T) { execSQLite(t, dsn, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`) },
		},
		{name: "drift_accept", args: []string{"drift", "--accept", "--yes"}},
		{name: "drift_accept_nothing", args: []string{"drift", "--accept", "--yes"}},
		{
			name: "backup", args: []string{"backup", "--label", "golden"},
			after: func(t *testing.T, stdout string) {
				var b struct{ Path string }
				if err := json.Unmarshal([]byte(stdout), &b); err != nil || b.Path == "" {
					t.Fatalf("backup --json: %v\n%s", err, stdout)
				}
				backupFile = b.Path
			},
		},
		{name: "backup_list", args: []string{"backup", "--list"}},
		{name: "restore", args: []string{"restore", "--yes", "BACKUP"}},
		{name: "create", args: []string{"create", "--seq", "--dir", filepath.Join(dir, "migrations"), "add_email"}},
		{name: "up_failed_rolled_back", ms: broken, args: []string{"up"}, code: cli.ExitFailure},
		{name: "validate_failed", ms: broken, args: []string{"validate"}, code: cli.ExitFailure},
		{name: "up_failed_dirty", ms: dirty, args: []string{"up"}, code: cli.ExitFailure},
		{name: "repair", ms: dirty, args: []string{"repair", "0004_no_tx", "--not-applied"}},
		{name: "help_up", args: []string{"help", "up"}},
		{name: "completion_refuses", args: []string{"completion", "bash"}, code: cli.ExitUsage},
		{name: "graph_dot_refuses", args: []string{"graph", "--dot"}, code: cli.ExitUsage},
		{name: "version", args: []string{"version"}},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before(t)
			}
			ms := st.ms
			if ms == nil {
				ms = base
			}
			args := append([]string{"--json", "--dsn", dsn}, st.args...)
			for j, a := range args {
				if a == "BACKUP" {
					args[j] = backupFile
				}
			}
			r := run(t, ms, nil, args...)
			if r.code != st.code {
				t.Fatalf("%q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", st.args, r.code, st.code, r.stdout, r.stderr)
			}
			if r.stdout != "" && !json.Valid([]byte(r.stdout)) {
				t.Fatalf("%q printed what is not JSON:\n%s", st.args, r.stdout)
			}
			if r.stdout == "" && r.code != cli.ExitUsage {
				t.Fatalf("%q printed nothing on stdout", st.args)
			}
			got := strings.ReplaceAll(r.stdout, dir, "$TMP")
			for _, n := range jsonNormalizers {
				got = n.re.ReplaceAllString(got, n.with)
			}
			golden(t, filepath.Join("testdata", "json", fmt.Sprintf("%02d_%s.json", i+1, st.name)), got)
			if st.after != nil {
				st.after(t, r.stdout)
			}
		})
	}
}

// execSQLite runs q on the SQLite file at path, as someone changing the
// database by hand would.
func execSQLite(t *testing.T, path, q string) {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), q); err != nil {
		t.Fatal(err)
	}
}
