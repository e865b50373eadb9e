package cli_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration/cli"
)

// alterName changes the type of users.name by hand to varchar(n), as an
// operator would behind the migrations' back.
func alterName(t *testing.T, tg target, n string) {
	t.Helper()
	ctx := t.Context()
	var err error
	switch tg.name {
	case "postgres":
		_, err = tg.db.ExecContext(ctx, `ALTER TABLE users ALTER COLUMN name TYPE VARCHAR(`+n+`)`)
	case "mysql":
		_, err = tg.db.ExecContext(ctx, `ALTER TABLE users MODIFY name VARCHAR(`+n+`)`)
	default:
		err = sqlite.RebuildTable(ctx, tg.db, "users", sqlite.AlterColumn("name", sqlite.SetType("VARCHAR("+n+")")))
	}
	if err != nil {
		t.Fatalf("alter users.name by hand: %v", err)
	}
}

// driftJSON is what drift --json prints.
type driftJSON struct {
	Drifted    bool
	Migration  string
	Seq        int64
	RecordedAt string `json:"recorded_at"`
	Changes    []struct {
		Op, Kind, Table, Name, Object, Text string
		Fields                              []struct{ Name, Old, New string }
	}
	Kept []struct {
		DetectedAt        string `json:"detected_at"`
		Migration, Report string
		Seq               int64
	}
}

func TestDrift(t *testing.T) {
	for i, newTarget := range targets(t) {
		t.Run(targetNames[i], func(t *testing.T) {
			tg := newTarget(t)
			ms := testMigrations()
			steps := []struct {
				name   string
				before func(t *testing.T)
				args   []string
				code   int
				stdout []string // substrings, in order
				stderr []string
				check  func(t *testing.T, r result)
			}{
				{
					name: "nothing applied", args: []string{"drift"}, code: cli.ExitFailure,
					stderr: []string{"no recorded schema", "no migration is applied", "hint: no migration is applied yet: run 'strata up'; every run records the schema it leaves"},
				},
				{
					name: "--accept with nothing applied", args: []string{"drift", "--accept"}, code: cli.ExitFailure,
					stderr: []string{"no migration is applied", "hint:", "up"},
				},
				{name: "up records the schema", args: []string{"up"}, stdout: []string{"applied 0003_tags"}},
				{name: "no drift", args: []string{"drift"}, stdout: []string{"no drift since 0003_tags (recorded ", " UTC)"}},
				{
					name: "no drift --json", args: []string{"drift", "--json"},
					check: func(t *testing.T, r result) {
						var got driftJSON
						decode(t, r.stdout, &got)
						if got.Drifted || got.Migration != "0003_tags" || got.Seq != 3 || got.RecordedAt == "" || got.Changes == nil || len(got.Changes) != 0 {
							t.Errorf("drift --json = %+v, want no drift since 0003_tags (seq 3) and changes []", got)
						}
					},
				},
				{
					name: "a column changed by hand", before: func(t *testing.T) { alterName(t, tg, "200") },
					args: []string{"drift"}, code: cli.ExitDrift,
					stdout: []string{`schema drift since migration "0003_tags" (seq 3, recorded `, "1 change(s)", "~ column users.name: type: ", "100", "200"},
					stderr: []string{"the schema has drifted", "drift --accept"},
					check: func(t *testing.T, r result) {
						if strings.Count(r.stdout, "\n~ ") != 1 || strings.Contains(r.stdout, "\n+ ") || strings.Contains(r.stdout, "\n- ") {
							t.Errorf("want exactly one change, of users.name:\n%s", r.stdout)
						}
					},
				},
				{
					name: "--json names the column", args: []string{"--json", "drift"}, code: cli.ExitDrift,
					check: func(t *testing.T, r result) {
						if r.stderr != "" {
							t.Errorf("stderr = %q, want nothing besides the JSON", r.stderr)
						}
						var got driftJSON
						decode(t, r.stdout, &got)
						if !got.Drifted || got.Migration != "0003_tags" || len(got.Changes) != 1 {
							t.Fatalf("drift --json = %+v, want one change since 0003_tags", got)
						}
						c := got.Changes[0]
						if c.Op != "changed" || c.Kind != "column" || c.Table != "users" || c.Name != "name" || c.Object != "column users.name" ||
							!strings.HasPrefix(c.Text, "~ column users.name: ") || len(c.Fields) != 1 || c.Fields[0].Name != "type" ||
							!strings.Contains(c.Fields[0].Old, "100") || !strings.Contains(c.Fields[0].New, "200") {
							t.Errorf("change = %+v, want the type of users.name from 100 to 200 characters", c)
						}
					},
				},
				{
					name: "undone by hand", before: func(t *testing.T) { alterName(t, tg, "100") },
					args: []string{"drift"}, stdout: []string{"no drift since 0003_tags"},
				},
				{
					name: "--accept needs --yes off a terminal", before: func(t *testing.T) { alterName(t, tg, "200") },
					args: []string{"drift", "--accept"}, code: cli.ExitUsage, stderr: []string{"drift: refusing", "--yes"},
				},
				{name: "still drifted", args: []string{"drift"}, code: cli.ExitDrift, stdout: []string{"~ column users.name"}},
				{
					name: "--accept", args: []string{"drift", "--accept", "--yes"},
					stdout: []string{"recorded the live schema as the expected one, accepting 1 change since 0003_tags:", "~ column users.name: type: "},
				},
				{name: "accepted", args: []string{"drift"}, stdout: []string{"no drift since 0003_tags"}},
				{name: "--accept without drift", args: []string{"drift", "--accept", "--yes"}, stdout: []string{"nothing to accept: no drift since 0003_tags"}},
				{
					name: "a change accepted is drift once undone", before: func(t *testing.T) { alterName(t, tg, "100") },
					args: []string{"drift"}, code: cli.ExitDrift, stdout: []string{"~ column users.name: type: ", "200", "100"},
				},
				{name: "down records the schema it leaves", args: []string{"down", "--yes"}, stdout: []string{"rolled back 0003_tags"}},
				{
					// The down run found the change undone by hand before it
					// started, and recorded the schema it left: the drift is
					// kept, not absorbed.
					name: "drift absorbed by down is kept", args: []string{"drift"}, code: cli.ExitDrift,
					stdout: []string{`no drift since migration "0002_posts"`, "1 drift(s) found before earlier runs, not accepted yet:",
						`before a run after migration "0003_tags" (seq 3)`, "~ column users.name: type: ", "200", "100"},
				},
				{
					name: "kept drift --json", args: []string{"--json", "drift"}, code: cli.ExitDrift,
					check: func(t *testing.T, r result) {
						var got driftJSON
						decode(t, r.stdout, &got)
						if !got.Drifted || len(got.Changes) != 0 || len(got.Kept) != 1 || got.Kept[0].Migration != "0003_tags" ||
							!strings.Contains(got.Kept[0].Report, "~ column users.name") {
							t.Errorf("drift --json = %+v, want no live change and the kept drift of 0003_tags", got)
						}
					},
				},
				{
					name: "--accept kept drift", args: []string{"drift", "--accept", "--yes"},
					stdout: []string{"recorded the live schema as the expected one, accepting 1 drift found before earlier runs"},
				},
				{name: "no drift since down", args: []string{"drift"}, stdout: []string{"no drift since 0002_posts"}},
				{
					name: "a table created by hand", before: func(t *testing.T) {
						if _, err := tg.db.ExecContext(t.Context(), `CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(10))`); err != nil {
							t.Fatal(err)
						}
					},
					args: []string{"drift"}, code: cli.ExitDrift, stdout: []string{`since migration "0002_posts" (seq 2,`, "+ table notes: "},
				},
				{name: "help", args: []string{"help", "drift"}, stdout: []string{"Usage: strata drift [flags]", "exits 4", "--accept"}},
			}
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					if st.before != nil {
						st.before(t)
					}
					r := run(t, ms, nil, append([]string{"--dsn", tg.dsn}, st.args...)...)
					if r.code != st.code {
						t.Fatalf("%q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", st.args, r.code, st.code, r.stdout, r.stderr)
					}
					containsInOrder(t, "stdout", r.stdout, st.stdout)
					containsInOrder(t, "stderr", r.stderr, st.stderr)
					if st.check != nil {
						st.check(t, r)
					}
				})
			}
		})
	}
}

// TestDriftAfterBaseline: a baseline records the schema, so drift works
// at once. A baseline by a release that recorded none leaves drift
// nothing to compare with, and the hint says what records one: up when
// migrations are pending, drift --accept (which asks first on a terminal)
// when up would do nothing.
func TestDriftAfterBaseline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The schema of 0001_users, made before strata managed the database.
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100))`); err != nil {
		t.Fatal(err)
	}
	forget := func(t *testing.T) {
		// What a baseline by an older release left: no recorded schema.
		if _, err := db.ExecContext(t.Context(), `UPDATE strata_migrations SET schema_fingerprint = ''`); err != nil {
			t.Fatal(err)
		}
	}
	ms := testMigrations()
	terminal := func(input string) []cli.Option {
		return []cli.Option{cli.WithInteractive(true), cli.WithInput(strings.NewReader(input))}
	}
	steps := []struct {
		name   string
		before func(t *testing.T)
		opts   []cli.Option
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "baseline", args: []string{"baseline", "0001_users"}, stdout: []string{"baselined 0001_users", "recorded the live schema as the one 'strata drift' expects"}},
		{name: "drift at once", args: []string{"drift"}, stdout: []string{"no drift since 0001_users"}},
		{name: "history marks it", args: []string{"history"}, stdout: []string{"0001_users", "baselined: recorded, not run"}},
		{name: "status marks it", args: []string{"status"}, stdout: []string{"0001_users", "applied", "baselined"}},
		{
			name: "nothing recorded, migrations pending", before: forget, args: []string{"drift"}, code: cli.ExitFailure,
			stderr: []string{`no recorded schema for the newest applied migration, "0001_users"`, "baselined",
				"hint: run 'strata up', which records the schema it leaves, or, once the live schema is as it should be, 'strata drift --accept'"},
		},
		{
			name: "--accept declined", opts: terminal("n\n"), args: []string{"drift", "--accept"}, code: cli.ExitFailure,
			stderr: []string{"No schema is recorded", "Record the live schema as the expected one? [y/N]", "aborted"},
		},
		{name: "still nothing recorded", args: []string{"drift"}, code: cli.ExitFailure, stderr: []string{"no recorded schema"}},
		{
			name: "--accept confirmed", opts: terminal("y\n"), args: []string{"drift", "--accept"},
			stdout: []string{"recorded the live schema as the expected one"}, stderr: []string{"[y/N]"},
		},
		{name: "no drift", args: []string{"drift"}, stdout: []string{"no drift since 0001_users"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before(t)
			}
			r := run(t, ms, st.opts, append([]string{"--dsn", path}, st.args...)...)
			if r.code != st.code {
				t.Fatalf("%q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", st.args, r.code, st.code, r.stdout, r.stderr)
			}
			containsInOrder(t, "stdout", r.stdout, st.stdout)
			containsInOrder(t, "stderr", r.stderr, st.stderr)
		})
	}
	if _, err := db.ExecContext(t.Context(), `ALTER TABLE users ADD COLUMN email TEXT`); err != nil {
		t.Fatal(err)
	}
	// On a terminal --accept shows what it accepts before asking.
	r := run(t, ms, terminal("yes\n"), "--dsn", path, "drift", "--accept")
	if r.code != cli.ExitOK {
		t.Fatalf("drift --accept: exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	containsInOrder(t, "stderr", r.stderr, []string{"schema drift since", "+ column users.email: ", "Accept 1 change and record the live schema as the expected one? [y/N]"})
	containsInOrder(t, "stdout", r.stdout, []string{"accepting 1 change since 0001_users:", "+ column users.email"})
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "+ column users.email") }) {
		t.Errorf("stdout lacks the accepted change on a line of its own:\n%s", r.stdout)
	}

	// Everything baselined by an older release: up would do nothing, so
	// the hint names only drift --accept.
	if r := run(t, ms, nil, "--dsn", path, "baseline", "0003_tags"); r.code != cli.ExitOK {
		t.Fatalf("baseline: %d\n%s", r.code, r.stderr)
	}
	r = run(t, ms, nil, "--dsn", path, "baseline", "0002_posts")
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "baselined 0002_posts") {
		t.Fatalf("baseline: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	forget(t)
	r = run(t, ms, nil, "--dsn", path, "drift")
	if r.code != cli.ExitFailure {
		t.Fatalf("drift: exit code %d, want %d\n%s", r.code, cli.ExitFailure, r.stderr)
	}
	containsInOrder(t, "stderr", r.stderr, []string{"no recorded schema", "hint: nothing is pending, so 'strata up' would not record one: once the live schema is as it should be, run 'strata drift --accept'"})
	if strings.Contains(r.stderr, "run 'strata up'") {
		t.Errorf("the hint suggests up, which would do nothing:\n%s", r.stderr)
	}
}
