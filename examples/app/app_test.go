package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
)

// binary is the app, built once by TestMain: the tests run it as an
// operator would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strata-app-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "app")
	// go test puts its own go first on PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintf(os.Stderr, "no go tool on PATH: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	if out, err := exec.Command(goTool, "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the app: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the app printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// app runs the binary in dir (the test's temporary directory if empty)
// with env added to a clean environment.
func app(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), binary, args...)
	if dir == "" {
		dir = t.TempDir()
	}
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			// Errorf, not Fatalf: app may run in a goroutine of its own.
			t.Errorf("run app %q: %v", args, err)
			return result{code: -1, stdout: stdout.String(), stderr: err.Error()}
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// target is a database the app is tested against.
type target struct {
	name string
	dsn  string
	db   *sql.DB
}

var targets = []struct {
	name string
	new  func(t *testing.T) target
}{
	{"sqlite", func(t *testing.T) target {
		path := filepath.Join(t.TempDir(), "app.db")
		db, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return target{name: "sqlite", dsn: path, db: db}
	}},
	{"postgres", func(t *testing.T) target {
		db, dsn := pgtest.New(t)
		return target{name: "postgres", dsn: dsn, db: db}
	}},
	{"mysql", func(t *testing.T) target {
		db, dsn := mytest.New(t)
		return target{name: "mysql", dsn: dsn, db: db}
	}},
}

var allIDs = []string{
	"0001_servers", "0002_request_logs", "0003_scenarios", "0004_request_log_scenario", "0005_webhooks",
	"0006_request_logs_status_class", "0007_servers_base_url", "0008_servers_drop_host_port", "0009_servers_base_url_unique",
}

// seededRequests is how many request logs seed inserts: several batches
// of the data migration.
const seededRequests = 1234

func TestMigrate(t *testing.T) {
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			tg := tt.new(t)
			dir := t.TempDir()
			backups := filepath.Join(dir, "backups")
			var backupFile string
			steps := []struct {
				name   string
				before func(t *testing.T)
				args   []string
				code   int
				stdout []string // substrings, in order
				stderr []string
				after  func(t *testing.T, r result)
			}{
				{
					name: "status of a new database", args: []string{"status"},
					stdout: append(slices.Clone(allIDs), "0 applied, 9 pending"),
				},
				{name: "status --exit-code", args: []string{"status", "--exit-code"}, code: 3},
				{name: "graph shows the branch and the merge", args: []string{"graph"}, stdout: []string{"0001_servers", "branches (2)", "0004_request_log_scenario", "0002_request_logs, 0003_scenarios", "merge"}},
				{
					name: "validate changes nothing", args: []string{"validate"}, stdout: []string{"dry run passed"},
					after: func(t *testing.T, r result) {
						if tg.hasTable(t, "servers") {
							t.Error("validate left table servers behind")
						}
					},
				},
				{
					name: "up --to", args: []string{"up", "--to", "0005_webhooks"},
					stdout: []string{"applied 0001_servers (", "applied 0002_request_logs (", "applied 0003_scenarios (",
						"applied 0004_request_log_scenario (", "applied 0005_webhooks ("},
					after: func(t *testing.T, r result) {
						if strings.Contains(r.stdout, "0006") {
							t.Errorf("up --to went too far:\n%s", r.stdout)
						}
					},
				},
				{
					name:   "up runs the data migration and drops the columns",
					before: tg.seed,
					args:   []string{"up"},
					stdout: []string{"applied 0006_request_logs_status_class", "applied 0007_servers_base_url",
						"backed up to ", "applied 0008_servers_drop_host_port", "applied 0009_servers_base_url_unique"},
					after: func(t *testing.T, r result) {
						tg.wantColumns(t, "servers", map[string]bool{"base_url": true, "host": false, "port": false})
						got := tg.strings(t, `SELECT base_url FROM servers ORDER BY id`)
						if want := []string{"http://alpha.test:8080", "http://beta.test:80", "http://[::1]:9000"}; !slices.Equal(got, want) {
							t.Errorf("base_url = %q, want %q", got, want)
						}
						got = tg.strings(t, `SELECT status_class, COUNT(*) FROM request_logs GROUP BY status_class ORDER BY status_class`)
						if want := []string{"2xx 618", "4xx 308", "5xx 308"}; !slices.Equal(got, want) {
							t.Errorf("status classes = %q, want %q", got, want)
						}
						files, _ := filepath.Glob(filepath.Join(backups, "*0008_servers_drop_host_port*"))
						if len(files) == 0 {
							t.Errorf("no backup in %s", backups)
						}
					},
				},
				{name: "status when up to date", args: []string{"status", "--exit-code"}, stdout: []string{"9 applied, 0 pending"}},
				{name: "no drift after up", args: []string{"drift"}, stdout: []string{"no drift since 0009_servers_base_url_unique"}},
				{
					name:   "an index created by hand is drift",
					before: func(t *testing.T) { tg.exec(t, `CREATE INDEX servers_created_at ON servers (created_at)`) },
					args:   []string{"drift"}, code: 4, stdout: []string{"+ index servers_created_at on servers: (created_at)"},
				},
				{
					name:   "no drift once it is dropped",
					before: func(t *testing.T) { tg.exec(t, dropIndexSQL(tg.name, "servers", "servers_created_at")) },
					args:   []string{"drift"}, stdout: []string{"no drift since 0009_servers_base_url_unique"},
				},
				{
					name: "history --json", args: []string{"history", "--json"},
					after: func(t *testing.T, r result) {
						var hist []struct{ ID string }
						if err := json.Unmarshal([]byte(r.stdout), &hist); err != nil {
							t.Fatalf("history --json: %v\n%s", err, r.stdout)
						}
						var ids []string
						for _, h := range hist {
							ids = append(ids, h.ID)
						}
						if !slices.Equal(ids, allIDs) {
							t.Errorf("history = %q, want %q", ids, allIDs)
						}
					},
				},
				{name: "down needs --yes in a script", args: []string{"down"}, code: 2, stderr: []string{"--yes"}},
				{
					name: "down --to restores the dropped columns", args: []string{"down", "--to", "0005_webhooks", "--yes"},
					stdout: []string{"rolled back 0009_servers_base_url_unique", "rolled back 0008_servers_drop_host_port",
						"rolled back 0007_servers_base_url", "rolled back 0006_request_logs_status_class"},
					after: func(t *testing.T, r result) {
						tg.wantColumns(t, "servers", map[string]bool{"base_url": false, "host": true, "port": true})
						tg.wantColumns(t, "request_logs", map[string]bool{"status_class": false})
						got := tg.strings(t, `SELECT host, port FROM servers ORDER BY id`)
						if want := []string{"alpha.test 8080", "beta.test 80", "::1 9000"}; !slices.Equal(got, want) {
							t.Errorf("host and port = %q, want %q", got, want)
						}
					},
				},
				{name: "up --to 0008 again", args: []string{"up", "--to", "0008_servers_drop_host_port"}, stdout: []string{"applied 0008_servers_drop_host_port"}},
				{
					name: "a failed precondition stops up",
					before: func(t *testing.T) {
						tg.exec(t, `INSERT INTO servers (name, base_url) VALUES ('alpha-copy', 'http://alpha.test:8080')`)
					},
					args: []string{"up"}, code: 1,
					stderr: []string{"FAILED 0009_servers_base_url_unique (did not start: nothing changed): validate: servers share a base_url: http://alpha.test:8080 (2 servers)"},
				},
				{
					name:   "up once the data is fixed",
					before: func(t *testing.T) { tg.exec(t, `DELETE FROM servers WHERE name = 'alpha-copy'`) },
					args:   []string{"up"}, stdout: []string{"applied 0009_servers_base_url_unique"},
				},
				{
					name: "down --all", args: []string{"--yes", "down", "--all"},
					stdout: []string{"rolled back 0009", "rolled back 0001_servers"},
					after: func(t *testing.T, r result) {
						for _, table := range []string{"servers", "request_logs", "scenarios", "webhooks"} {
							if tg.hasTable(t, table) {
								t.Errorf("table %s is still there", table)
							}
						}
					},
				},
				{name: "up from scratch", args: []string{"up"}, stdout: []string{"applied 0001_servers", "applied 0009_servers_base_url_unique"}},
				{
					name: "backup",
					before: func(t *testing.T) {
						tg.exec(t, `INSERT INTO servers (name, base_url) VALUES ('delta', 'http://delta.test')`)
					},
					args: []string{"backup", "--label", "before-reset"}, stdout: []string{"backed up to " + backups},
					after: func(t *testing.T, r result) {
						path, _, _ := strings.Cut(strings.TrimPrefix(r.stdout, "backed up to "), " (")
						backupFile = path
					},
				},
				{name: "backup --list", args: []string{"backup", "--list"}, stdout: []string{"FILE", "before-reset"}},
				{name: "reset", args: []string{"down", "--all", "--yes"}, stdout: []string{"rolled back 0001_servers"}},
				{name: "restore", args: []string{"restore", "--yes", "BACKUP"}, stdout: []string{"restored from "}},
				{
					name: "restored", args: []string{"status", "--exit-code"}, stdout: []string{"9 applied, 0 pending"},
					after: func(t *testing.T, r result) {
						if got := tg.strings(t, `SELECT name, base_url FROM servers`); !slices.Equal(got, []string{"delta http://delta.test"}) {
							t.Errorf("servers after the restore: %q", got)
						}
					},
				},
			}
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					if st.before != nil {
						st.before(t)
					}
					args := slices.Clone(st.args)
					if i := slices.Index(args, "BACKUP"); i >= 0 {
						args[i] = backupFile
					}
					r := app(t, dir, []string{"STRATA_BACKUP_DIR=" + backups}, append([]string{"migrate", "--dsn", tg.dsn}, args...)...)
					if r.code != st.code {
						t.Fatalf("%q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", st.args, r.code, st.code, r.stdout, r.stderr)
					}
					containsInOrder(t, "stdout", r.stdout, st.stdout)
					containsInOrder(t, "stderr", r.stderr, st.stderr)
					if st.after != nil {
						st.after(t, r)
					}
				})
			}
		})
	}
}

// seed fills the tables as the application would before 0006.
func (tg target) seed(t *testing.T) {
	t.Helper()
	tg.exec(t, `INSERT INTO servers (name, host, port) VALUES ('alpha', 'alpha.test', 8080), ('beta', 'beta.test', 80), ('gamma', '::1', 9000)`)
	statuses := []int{200, 201, 404, 503}
	var values []string
	for i := range seededRequests {
		values = append(values, fmt.Sprintf("(%d, 'GET', '/r/%d', %d)", i%3+1, i, statuses[i%len(statuses)]))
		if len(values) == 200 || i == seededRequests-1 {
			tg.exec(t, `INSERT INTO request_logs (server_id, method, path, status) VALUES `+strings.Join(values, ", "))
			values = values[:0]
		}
	}
}

// dropIndexSQL returns the statement that drops index name of table.
func dropIndexSQL(dialect, table, name string) string {
	if dialect == "mysql" {
		return "DROP INDEX " + name + " ON " + table
	}
	return "DROP INDEX " + name
}

func (tg target) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := tg.db.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// strings returns the rows of q, columns joined by spaces.
func (tg target) strings(t *testing.T, q string) []string {
	t.Helper()
	rows, err := tg.db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			parts = append(parts, v.String)
		}
		out = append(out, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func (tg target) hasTable(t *testing.T, table string) bool {
	t.Helper()
	var n int
	return tg.db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table).Scan(&n) == nil
}

// wantColumns checks which of the columns table has.
func (tg target) wantColumns(t *testing.T, table string, want map[string]bool) {
	t.Helper()
	for col, exists := range want {
		var n int
		err := tg.db.QueryRowContext(t.Context(), `SELECT COUNT(`+col+`) FROM `+table).Scan(&n)
		if got := err == nil; got != exists {
			t.Errorf("column %s.%s exists: %v, want %v (%v)", table, col, got, exists, err)
		}
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

// TestConcurrentMigrators starts several migrators at once, as replicas
// of an application starting together do: the lock lets one of them apply
// each migration exactly once, and all succeed.
func TestConcurrentMigrators(t *testing.T) {
	const n = 4
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			tg := tt.new(t)
			dir := t.TempDir()
			env := []string{"STRATA_BACKUP_DIR=" + filepath.Join(dir, "backups")}
			results := make(chan result, n)
			for range n {
				go func() { results <- app(t, dir, env, "migrate", "--dsn", tg.dsn, "up") }()
			}
			applied := map[string]int{}
			for range n {
				r := <-results
				if r.code != 0 {
					t.Errorf("a migrator failed with exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
				}
				for line := range strings.Lines(r.stdout) {
					if id, ok := strings.CutPrefix(line, "applied "); ok {
						applied[strings.Fields(id)[0]]++
					}
				}
			}
			for _, id := range allIDs {
				if applied[id] != 1 {
					t.Errorf("%s applied %d times, want once", id, applied[id])
				}
			}
			if r := app(t, dir, env, "migrate", "--dsn", tg.dsn, "status", "--exit-code"); r.code != 0 {
				t.Errorf("status --exit-code: %d\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}
