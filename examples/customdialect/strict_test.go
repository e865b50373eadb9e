package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/lock/locktest"
	"github.com/strata-go/strata/migration"
)

// TestManager runs the manager through the dialect: until the conformance
// suite (package integration) is available, this checks what it would.
func TestManager(t *testing.T) {
	path := filepath.Join(t.TempDir(), "strict.db")
	db, err := New().Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := migration.NewManager(db, New(), migrations())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	steps := []struct {
		name  string
		run   func() ([]migration.Result, error)
		ids   []string
		state []migration.State
	}{
		{"up", func() ([]migration.Result, error) { return m.Up(ctx) }, []string{"0001_notes", "0002_notes_created_at"},
			[]migration.State{migration.StateApplied, migration.StateApplied}},
		{"up again", func() ([]migration.Result, error) { return m.Up(ctx) }, nil,
			[]migration.State{migration.StateApplied, migration.StateApplied}},
		{"down drops a column by rebuilding", func() ([]migration.Result, error) { return m.Down(ctx) }, []string{"0002_notes_created_at"},
			[]migration.State{migration.StateApplied, migration.StatePending}},
		{"reset", func() ([]migration.Result, error) { return m.Reset(ctx) }, []string{"0001_notes"},
			[]migration.State{migration.StatePending, migration.StatePending}},
		{"up after reset", func() ([]migration.Result, error) { return m.Up(ctx) }, []string{"0001_notes", "0002_notes_created_at"},
			[]migration.State{migration.StateApplied, migration.StateApplied}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res, err := st.run()
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range res {
				ids = append(ids, r.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(st.ids) {
				t.Errorf("ran %q, want %q", ids, st.ids)
			}
			sts, err := m.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var states []migration.State
			for _, s := range sts {
				states = append(states, s.State)
				if s.State == migration.StateApplied && s.AppliedAt.IsZero() {
					t.Errorf("%s: no applied time", s.ID)
				}
			}
			if fmt.Sprint(states) != fmt.Sprint(st.state) {
				t.Errorf("states %q, want %q", states, st.state)
			}
		})
	}

	// The version table is STRICT: SQLite enforces its types.
	var strict bool
	if err := db.QueryRowContext(ctx, `SELECT strict FROM pragma_table_list WHERE name = 'strata_migrations'`).Scan(&strict); err != nil {
		t.Fatal(err)
	}
	if !strict {
		t.Error("the version table is not STRICT")
	}
	_, err = db.ExecContext(ctx, `INSERT INTO strata_migrations (id, seq, applied_at) VALUES ('x', 'not a number', 'now')`)
	if err == nil || !strings.Contains(err.Error(), "cannot store TEXT value in INTEGER column") {
		t.Errorf("a text seq: %v, want a type error", err)
	}
}

// TestLock runs the lock conformance suite against the dialect's locker
// (the SQLite file lock it inherits).
func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock.db")
	if db, err := sqlite.Open(path); err != nil {
		t.Fatal(err)
	} else {
		db.Close()
	}
	// The suite needs several connections, as several migrators have.
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(20)
	d := New()
	locktest.Run(t, db, func() lock.Locker {
		return d.Locker(dialect.LockOptions{Table: migration.DefaultTable})
	})
}

// TestCommandLine runs the example's command line.
func TestCommandLine(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "cli.db")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
	}{
		{"up", []string{"--dsn", dsn, "up"}, 0, []string{"applied 0001_notes", "applied 0002_notes_created_at"}},
		{"status", []string{"status", "--dsn", dsn}, 0, []string{"0001_notes", "applied", "2 applied, 0 pending"}},
		{"down", []string{"--dsn", dsn, "down", "--all", "--yes"}, 0, []string{"rolled back 0002_notes_created_at", "rolled back 0001_notes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\n%s%s", code, tt.code, stdout.String(), stderr.String())
			}
			rest := stdout.String()
			for _, w := range tt.stdout {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stdout does not contain %q:\n%s", w, stdout.String())
				}
				rest = rest[i+len(w):]
			}
		})
	}
}
