package integration

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/migration"
)

// Names of the built-in dialects, which the suite recognises to pick a
// default Describe and the SQL that differs between them. The suite does
// not import the dialect packages: importing it must not pull in a driver.
const (
	postgresName = "postgres"
	mysqlName    = "mysql"
	sqliteName   = "sqlite"
)

// runsTable records every Up and Down the suite's migrations run, so that
// a test can count how often each one really ran. It has no key: on
// PostgreSQL two open transactions may insert into it without waiting on
// each other.
const runsTable = "runs"

// errBoom is what failing migrations return.
var errBoom = errors.New("boom")

// db is one database of the test's own and what the suite knows of it.
type db struct {
	t   *testing.T
	tgt Target
	*sql.DB
	dsn string
}

// open opens a fresh database for t and creates the runs table in it.
func (tgt Target) open(t *testing.T) *db {
	t.Helper()
	sdb, dsn := tgt.Open(t)
	d := &db{t: t, tgt: tgt, DB: sdb, dsn: dsn}
	if _, err := sdb.ExecContext(t.Context(), `CREATE TABLE `+runsTable+` (id VARCHAR(255) NOT NULL, dir VARCHAR(8) NOT NULL)`); err != nil {
		t.Fatalf("create %s table: %v", runsTable, err)
	}
	return d
}

// reopen opens another pool on the same database, as another process
// would have; it is closed when the test ends.
func (d *db) reopen() *sql.DB {
	d.t.Helper()
	other, err := d.tgt.Reopen(d.dsn)
	if err != nil {
		d.t.Fatalf("reopen the database: %v", err)
	}
	d.t.Cleanup(func() { other.Close() })
	return other
}

func (d *db) manager(ms []migration.Migration, opts ...migration.Option) *migration.Manager {
	d.t.Helper()
	return newManager(d.t, d.DB, d.tgt.Dialect, ms, opts...)
}

func newManager(t *testing.T, sdb *sql.DB, dl dialect.Dialect, ms []migration.Migration, opts ...migration.Option) *migration.Manager {
	t.Helper()
	m, err := migration.NewManager(sdb, dl, ms, opts...)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	return m
}

func (d *db) describe() []Table {
	d.t.Helper()
	f := d.tgt.describer()
	tables, err := f(d.t.Context(), d.DB)
	if err != nil {
		d.t.Fatal(err)
	}
	return tables
}

// tables returns the names of the tables the suite's migrations create
// (t_...), sorted.
func (d *db) tables() []string {
	d.t.Helper()
	var names []string
	for _, tb := range d.describe() {
		if strings.HasPrefix(tb.Name, "t_") {
			names = append(names, tb.Name)
		}
	}
	return names
}

// hasTable reports whether Describe lists a table named name.
func (d *db) hasTable(name string) bool {
	d.t.Helper()
	return slices.ContainsFunc(d.describe(), func(tb Table) bool { return tb.Name == name })
}

// dump describes every table, its columns, indexes and number of rows, to
// compare a database before and after something that must change nothing.
func (d *db) dump() string {
	d.t.Helper()
	var b strings.Builder
	for _, tb := range d.describe() {
		var n int
		if err := d.QueryRowContext(d.t.Context(), `SELECT count(*) FROM `+dialect.QuoteTable(d.tgt.Dialect, tb.Name)).Scan(&n); err != nil {
			d.t.Fatalf("count rows of %s: %v", tb.Name, err)
		}
		fmt.Fprintf(&b, "table %s (%d rows)\n", tb.Name, n)
		for _, c := range tb.Columns {
			fmt.Fprintf(&b, "\tcolumn %s\n", c)
		}
		for _, i := range tb.Indexes {
			fmt.Fprintf(&b, "\tindex %s\n", i)
		}
	}
	return b.String()
}

// runs returns how often the Up (dir "up") or Down of id ran and was
// kept: committed, or run where DDL is not transactional.
func (d *db) runs(id, dir string) int {
	d.t.Helper()
	return countRuns(d.t, d.DB, d.tgt.Dialect, id, dir)
}

func countRuns(t *testing.T, q dialect.Execer, dl dialect.Dialect, id, dir string) int {
	t.Helper()
	// Compared here rather than in SQL: a MySQL database's default
	// collation ignores case.
	rows, err := q.QueryContext(t.Context(), `SELECT id FROM `+runsTable+` WHERE dir = `+dl.Placeholder(1), dir)
	if err != nil {
		t.Fatalf("count runs of %s: %v", id, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var got string
		if err := rows.Scan(&got); err != nil {
			t.Fatalf("count runs of %s: %v", id, err)
		}
		if got == id {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("count runs of %s: %v", id, err)
	}
	return n
}

// exec runs statements on the database, as an operator would by hand.
func (d *db) exec(stmts ...string) {
	d.t.Helper()
	for _, s := range stmts {
		if _, err := d.ExecContext(d.t.Context(), s); err != nil {
			d.t.Fatalf("%s: %v", s, err)
		}
	}
}

// lockFree checks, from a pool of its own, that the migration lock of
// table is free: it must be taken within a short wait, so a lock left
// behind by a failed or killed run fails the check instead of waiting for
// some expiry.
func (d *db) lockFree(table string) {
	d.t.Helper()
	lockFree(d.t, d.reopen(), d.tgt.Dialect, table)
}

func lockFree(t *testing.T, other *sql.DB, dl dialect.Dialect, table string) {
	t.Helper()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	l := dl.Locker(dialect.LockOptions{Table: table})
	ctx, cancel := context.WithTimeoutCause(t.Context(), shortWait, lock.ErrTimeout)
	defer cancel()
	if err := l.Lock(ctx, conn); err != nil {
		t.Fatalf("the migration lock of %s is not free: %v", table, err)
	}
	if err := l.Unlock(context.WithoutCancel(ctx), conn); err != nil {
		t.Fatalf("release the migration lock of %s: %v", table, err)
	}
}

// shortWait is the lock timeout of runs that must find the lock free: long
// enough for a server round trip on a busy machine, short enough that a
// lock left behind fails the test rather than waiting.
const shortWait = 3 * time.Second

// refusedWait is the lock timeout of runs that must find the lock taken.
const refusedWait = 300 * time.Millisecond

// history returns every field of every row of m's version table, as text.
func (d *db) history(m *migration.Manager) string {
	d.t.Helper()
	h, err := m.History(d.t.Context())
	if err != nil {
		d.t.Fatalf("History: %v", err)
	}
	return fmt.Sprintf("%+v", h)
}

// applied returns the IDs in the version table, in the order applied.
func applied(t *testing.T, m *migration.Manager) []string {
	t.Helper()
	h, err := m.History(t.Context())
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	var ids []string
	for _, r := range h {
		ids = append(ids, r.ID)
	}
	return ids
}

func resultIDs(rs []migration.Result) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func migrationIDs(ms []migration.Migration) []string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID())
	}
	return ids
}

func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

// states returns "id=state" for each status.
func states(st []migration.Status) []string {
	var out []string
	for _, s := range st {
		out = append(out, s.ID+"="+string(s.State))
	}
	return out
}

// wantStepErr checks that err is an *migration.Error for id at step.
func wantStepErr(t *testing.T, err error, id, step string) *migration.Error {
	t.Helper()
	var me *migration.Error
	if !errors.As(err, &me) || me.ID != id || me.Step != step {
		t.Fatalf("error = %v, want a *migration.Error for %q at step %q", err, id, step)
	}
	return me
}

// wantDirty checks that err is the refusal of a run because id is dirty,
// naming it and saying how to repair it.
func wantDirty(t *testing.T, err error, id string) {
	t.Helper()
	var me *migration.Error
	if !errors.Is(err, migration.ErrDirty) || !errors.As(err, &me) || me.ID != id ||
		!strings.Contains(err.Error(), "Repair") || !strings.Contains(err.Error(), "repair "+id) {
		t.Fatalf("error = %v, want ErrDirty for %q saying how to repair it", err, id)
	}
}

// logBuffer collects a manager's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// strs returns the first column of the rows of a query, as strings.
func strs(t *testing.T, q *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := q.QueryContext(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
