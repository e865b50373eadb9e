package integration

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/migration"
)

func testBaseline(t *testing.T, tgt Target) {
	d := tgt.open(t)
	m := d.manager(branches())
	if err := m.Baseline(t.Context(), "a2"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied", applied(t, m), []string{"base", "a1", "a2"})
	wantIDs(t, "tables", d.tables(), nil) // nothing ran
	for _, id := range branchIDs {
		if n := d.runs(id, "up"); n != 0 {
			t.Errorf("Baseline ran %s %d times", id, n)
		}
	}
	h, err := m.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range h {
		if r.Dirty || !r.Known || r.AppliedAt.IsZero() {
			t.Errorf("baselined row %+v", r)
		}
	}
	// Baseline again, further: only the new ones are added; again, nothing.
	if err := m.Baseline(t.Context(), "b1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Baseline(t.Context(), "b1"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied", applied(t, m), []string{"base", "a1", "a2", "b1"})
	st, err := m.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "status", states(st), []string{"base=applied", "a1=applied", "a2=applied", "b1=applied", "merge=pending"})
	res, err := m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "Up after baseline", resultIDs(res), []string{"merge"})
	wantIDs(t, "tables", d.tables(), []string{"t_merge"})
	if res, err := m.Up(t.Context()); err != nil || res != nil {
		t.Fatalf("Up when up to date = %v, %v; want nil, nil", res, err)
	}
}

// testUnknownApplied: a newer binary applied a migration this one does not
// know. This one still starts, reports the row, and refuses to roll back
// past it.
func testUnknownApplied(t *testing.T, tgt Target) {
	d := tgt.open(t)
	newer := d.manager(append(branches(), table("newer", "merge")))
	if _, err := newer.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	older := d.manager(branches())
	st, err := older.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "status", states(st), []string{"base=applied", "a1=applied", "a2=applied", "b1=applied", "merge=applied", "newer=unknown"})
	if last := st[len(st)-1]; last.Seq != 6 || last.Description != "create t_newer" || last.AppliedAt.IsZero() {
		t.Errorf("unknown row reported as %+v", last)
	}
	h, err := older.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if last := h[len(h)-1]; last.ID != "newer" || last.Known || !h[0].Known {
		t.Errorf("history = %+v, want newer last and not known", h)
	}
	if res, err := older.Up(t.Context()); err != nil || res != nil {
		t.Fatalf("older Up = %v, %v; want nil, nil: an older replica must start", res, err)
	}
	before, history := d.dump(), d.history(older)
	refusals := []struct {
		name string
		call func() error
	}{
		{"Down", func() error { _, err := older.Down(t.Context()); return err }},
		{"DownTo", func() error { _, err := older.DownTo(t.Context(), "a1"); return err }},
		{"Reset", func() error { _, err := older.Reset(t.Context()); return err }},
		{"Plan", func() error {
			_, err := older.Plan(t.Context(), migration.Target{Direction: migration.DirectionDown, All: true})
			return err
		}},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			err := r.call()
			if !errors.Is(err, migration.ErrUnknownApplied) || !strings.Contains(err.Error(), `"newer"`) {
				t.Fatalf("error = %v, want ErrUnknownApplied naming newer", err)
			}
		})
	}
	if after := d.dump(); after != before {
		t.Errorf("refused roll-backs changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if h := d.history(older); h != history {
		t.Errorf("refused roll-backs changed the version table: %s, was %s", h, history)
	}
	// The newer binary can roll its migration back; then the older one
	// may roll back too.
	if _, err := newer.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := older.Down(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "rolled back", resultIDs(res), []string{"merge"})
}

func testPlanStatusPending(t *testing.T, tgt Target) {
	d := tgt.open(t)
	m := d.manager(branches())
	if _, err := m.UpTo(t.Context(), "a1"); err != nil {
		t.Fatal(err)
	}
	before, history := d.dump(), d.history(m)
	steps, err := m.Plan(t.Context(), migration.Target{Direction: migration.DirectionUp})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range steps {
		ids = append(ids, s.ID)
		if s.Direction != migration.DirectionUp || s.Description != "create t_"+s.ID || s.NoTransaction || s.BackupRequired {
			t.Errorf("step %+v", s)
		}
	}
	wantIDs(t, "plan up", ids, []string{"a2", "b1", "merge"})
	plans := []struct {
		name   string
		target migration.Target
		want   []string
	}{
		{"UpTo", migration.Target{Direction: migration.DirectionUp, ID: "b1"}, []string{"b1"}},
		{"Down", migration.Target{Direction: migration.DirectionDown}, []string{"a1"}},
		{"DownTo", migration.Target{Direction: migration.DirectionDown, ID: "base"}, []string{"a1"}},
		{"Reset", migration.Target{Direction: migration.DirectionDown, All: true}, []string{"a1", "base"}},
	}
	for _, p := range plans {
		steps, err := m.Plan(t.Context(), p.target)
		if err != nil {
			t.Fatalf("plan %s: %v", p.name, err)
		}
		var ids []string
		for _, s := range steps {
			ids = append(ids, s.ID)
		}
		wantIDs(t, "plan "+p.name, ids, p.want)
	}
	if _, err := m.Plan(t.Context(), migration.Target{Direction: "sideways"}); err == nil {
		t.Error("Plan accepted a bad direction")
	}
	st, err := m.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "status", states(st), []string{"base=applied", "a1=applied", "a2=pending", "b1=pending", "merge=pending"})
	if !slices.Equal(st[4].Dependencies, []string{"a2", "b1"}) {
		t.Errorf("merge dependencies = %q", st[4].Dependencies)
	}
	if st[1].Seq != 2 || st[1].AppliedAt.IsZero() || st[1].Description != "create t_a1" || !st[2].AppliedAt.IsZero() {
		t.Errorf("status %+v", st)
	}
	pending, err := m.Pending(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "pending", migrationIDs(pending), []string{"a2", "b1", "merge"})
	if after := d.dump(); after != before {
		t.Fatalf("Plan, Status or Pending changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if h := d.history(m); h != history {
		t.Fatalf("Plan, Status or Pending changed the version table: %s, was %s", h, history)
	}
}

func testStatusOnNewDatabase(t *testing.T, tgt Target) {
	d := tgt.open(t)
	m := d.manager(branches())
	before := d.dump()
	st, err := m.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "status", states(st), []string{"base=pending", "a1=pending", "a2=pending", "b1=pending", "merge=pending"})
	h, err := m.History(t.Context())
	if err != nil || len(h) != 0 {
		t.Fatalf("history = %+v, %v; want empty", h, err)
	}
	pending, err := m.Pending(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "pending", migrationIDs(pending), branchIDs)
	steps, err := m.Plan(t.Context(), migration.Target{Direction: migration.DirectionUp})
	if err != nil || len(steps) != len(branchIDs) {
		t.Fatalf("plan = %+v, %v", steps, err)
	}
	if after := d.dump(); after != before {
		t.Fatalf("reading the state of a new database changed it:\n%s", after)
	}
}

func testCustomTable(t *testing.T, tgt Target) {
	d := tgt.open(t)
	var logs logBuffer
	var seen []string
	m := d.manager(branches(),
		migration.WithTable("app_versions"),
		migration.WithLogger(logs.logger()),
		migration.WithProgress(func(r migration.Result) { seen = append(seen, string(r.Direction)+":"+r.ID) }))
	if m.Table() != "app_versions" {
		t.Errorf("Table() = %q", m.Table())
	}
	if _, err := m.UpTo(t.Context(), "a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "progress", seen, []string{"up:base", "up:a1", "down:a1"})
	if !d.hasTable("app_versions") || d.hasTable(migration.DefaultTable) {
		t.Fatalf("tables = %+v, want app_versions and not %s", d.describe(), migration.DefaultTable)
	}
	var n int
	if err := d.QueryRowContext(t.Context(), `SELECT count(*) FROM app_versions`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("app_versions rows = %d, %v; want 1", n, err)
	}
	for _, want := range []string{"migration=base direction=up duration=", "migration=a1 direction=down duration="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	// A manager of the default table knows nothing of it.
	st, err := d.manager(branches()).Status(t.Context())
	if err != nil || st[0].State != migration.StatePending {
		t.Fatalf("status of the default table = %+v, %v; want all pending", st, err)
	}
	d.lockFree("app_versions")
}

// testQualifiedTable: a version table in a schema of its own.
func testQualifiedTable(t *testing.T, tgt Target) {
	d := tgt.open(t)
	d.exec(`CREATE SCHEMA ` + tgt.Dialect.QuoteIdent("app"))
	m := d.manager(branches(), migration.WithTable("app.versions"))
	if _, err := m.UpTo(t.Context(), "a1"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied", applied(t, m), []string{"base", "a1"})
	if !d.hasTable("app.versions") || d.hasTable("versions") || d.hasTable(migration.DefaultTable) {
		t.Fatalf("tables = %+v, want app.versions only", d.describe())
	}
	var n int
	if err := d.QueryRowContext(t.Context(), `SELECT count(*) FROM `+dialect.QuoteTable(tgt.Dialect, "app.versions")).Scan(&n); err != nil || n != 2 {
		t.Fatalf("app.versions rows = %d, %v; want 2", n, err)
	}
	// The same name in the current schema is another table, with another
	// lock: the lock of app.versions can be held meanwhile.
	holder := tgt.Dialect.Locker(dialect.LockOptions{Table: "app.versions"})
	conn, err := d.reopen().Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := holder.Lock(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	plain := d.manager([]migration.Migration{table("other")}, migration.WithTable("versions"), migration.WithLockTimeout(shortWait))
	res, err := plain.Up(t.Context())
	if err != nil {
		t.Fatalf("Up on versions while app.versions is locked: %v", err)
	}
	wantIDs(t, "applied on versions", resultIDs(res), []string{"other"})
	if !d.hasTable("versions") {
		t.Fatalf("tables = %+v, want versions in the current schema", d.describe())
	}
	wantIDs(t, "applied on app.versions", applied(t, m), []string{"base", "a1"})
	if err := holder.Unlock(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.lockFree("app.versions")

	// A schema that does not exist is an error naming it, not a table
	// created elsewhere.
	_, err = d.manager(branches(), migration.WithTable("missing.versions"), migration.WithLockTimeout(shortWait)).Up(t.Context())
	wantStepErr(t, err, "", migration.StepState)
	if !strings.Contains(err.Error(), "missing") {
		t.Errorf("error = %v, want it to name the schema", err)
	}
	if d.hasTable("missing.versions") {
		t.Error("missing.versions was created")
	}
}

// testDropColumn: tx.DropColumn works on every dialect (a table rebuild
// where ALTER TABLE cannot drop a column) and keeps the rows.
func testDropColumn(t *testing.T, tgt Target) {
	d := tgt.open(t)
	addExtra := &migration.Func{Name: "extra", Requires: []string{"cols"},
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			_, err := tx.ExecContext(ctx, `ALTER TABLE t_cols ADD COLUMN extra VARCHAR(10)`)
			return err
		},
		DownFn: func(ctx context.Context, tx *migration.Tx) error {
			return tx.DropColumn(ctx, "t_cols", "extra")
		},
	}
	m := d.manager([]migration.Migration{
		migration.SQL("cols", `CREATE TABLE t_cols (id INTEGER PRIMARY KEY, note VARCHAR(100) NOT NULL)`, `DROP TABLE t_cols`),
		addExtra,
	})
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.exec(`INSERT INTO t_cols (id, note, extra) VALUES (1, 'kept', 'dropped')`, `INSERT INTO t_cols (id, note) VALUES (2, 'also kept')`)
	columns := func() []string {
		for _, tb := range d.describe() {
			if tb.Name == "t_cols" {
				var names []string
				for _, c := range tb.Columns {
					name, _, _ := strings.Cut(c, " ")
					names = append(names, name)
				}
				return names
			}
		}
		t.Fatal("t_cols is missing")
		return nil
	}
	wantIDs(t, "columns", columns(), []string{"id", "note", "extra"})
	res, err := m.Down(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "rolled back", resultIDs(res), []string{"extra"})
	wantIDs(t, "columns after Down", columns(), []string{"id", "note"})
	rows := strs(t, d.DB, `SELECT note FROM t_cols ORDER BY id`)
	wantIDs(t, "rows after Down", rows, []string{"kept", "also kept"})
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatalf("Up after the Down: %v", err)
	}
	wantIDs(t, "columns after Up again", columns(), []string{"id", "note", "extra"})
}

// testOddIDs: IDs are stored and compared exactly, whatever they contain:
// quotes, spaces, non-ASCII letters, case, the longest length allowed.
func testOddIDs(t *testing.T, tgt Target) {
	ids := []string{
		`0001 it's "quoted"`,
		"0002_ñandú_日本",
		"0003_Case",
		"0003_case",
		"0004_" + strings.Repeat("x", migration.MaxIDLength-5),
		"0005 back`tick\\slash;--",
	}
	var ms []migration.Migration
	for i, id := range ids {
		f := &migration.Func{Name: id, Desc: "odd ID " + id,
			UpFn:   func(ctx context.Context, tx *migration.Tx) error { return record(ctx, tx, id, "up") },
			DownFn: func(ctx context.Context, tx *migration.Tx) error { return record(ctx, tx, id, "down") },
		}
		if i > 0 {
			f.Requires = []string{ids[i-1]}
		}
		ms = append(ms, f)
	}
	d := tgt.open(t)
	m := d.manager(ms)
	res, err := m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied", resultIDs(res), ids)
	wantIDs(t, "history", applied(t, m), ids)
	st, err := m.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range st {
		if s.ID != ids[i] || s.State != migration.StateApplied || s.Description != "odd ID "+ids[i] {
			t.Errorf("status %d = %+v", i, s)
		}
	}
	if res, err := m.Up(t.Context()); err != nil || res != nil {
		t.Fatalf("Up when up to date = %v, %v; want nil, nil", res, err)
	}
	res, err = m.DownTo(t.Context(), "0003_Case")
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "rolled back", resultIDs(res), []string{ids[5], ids[4], "0003_case"})
	for _, id := range ids {
		want := 0
		if slices.Contains(resultIDs(res), id) {
			want = 1
		}
		if n := d.runs(id, "down"); n != want {
			t.Errorf("%q rolled back %d times, want %d", id, n, want)
		}
	}
}
