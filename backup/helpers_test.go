package backup

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the driver; see openSQLite

	"github.com/strata-go/strata/internal/testdb"
)

// queryer is a *sql.DB or *sql.Conn. A SQLite pool has one connection:
// while a test pins it, queries go through the pinned one.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

var queryN atomic.Int64

// conn pins a connection of db for the test.
func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatalf("get connection: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustExec(t *testing.T, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// rowsText runs q and returns each row as text, in order.
func rowsText(t *testing.T, db queryer, q string, args ...any) []string {
	t.Helper()
	out, err := tryRowsText(t.Context(), db, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func tryRowsText(ctx context.Context, db queryer, q string, args ...any) ([]string, error) {
	// A unique comment keeps pgx from reusing a prepared statement whose
	// result type a restore changed ("cached plan must not change result
	// type").
	rows, err := db.QueryContext(ctx, q+fmt.Sprintf(" -- %d", queryN.Add(1)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case []byte:
				parts[i] = fmt.Sprintf("%q", v)
			default:
				parts[i] = fmt.Sprintf("%#v", v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out, rows.Err()
}

// sqliteSnapshot describes everything a SQLite restore must bring back:
// the schema, every row of every table with its rowid, the AUTOINCREMENT
// counters and the header's user_version and application_id.
func sqliteSnapshot(t *testing.T, db queryer) string {
	t.Helper()
	var b strings.Builder
	for _, l := range rowsText(t, db, `SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name`) {
		b.WriteString(l + "\n")
	}
	for _, name := range testdb.Strings(t, db, `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`) {
		q := `SELECT _rowid_, * FROM ` + quoteDouble(name)
		rows, err := tryRowsText(t.Context(), db, q)
		if err != nil { // WITHOUT ROWID
			rows = rowsText(t, db, `SELECT * FROM `+quoteDouble(name))
		}
		slices.Sort(rows)
		fmt.Fprintf(&b, "table %s: %d rows\n", name, len(rows))
		for _, r := range rows {
			b.WriteString("  " + r + "\n")
		}
	}
	for _, p := range []string{"user_version", "application_id"} {
		fmt.Fprintf(&b, "%s=%v\n", p, rowsText(t, db, `PRAGMA `+p))
	}
	return b.String()
}

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// rewriteChecksum records path's current content as its checksum, so a
// test can damage a file behind the checksum's back.
func rewriteChecksum(t *testing.T, path string) {
	t.Helper()
	sum, _, err := hashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+ChecksumExt, []byte(sum+"  "+filepath.Base(path)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// openSQLite opens a SQLite file the way sqlite.Open does (WAL, foreign
// keys, busy timeout, one connection). The tests cannot import
// dialect/sqlite: it imports this package for its default backuper.
func openSQLite(path string) (*sql.DB, error) {
	dsn := "file::memory:?_foreign_keys=on"
	if path != ":memory:" {
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?_busy_timeout=10000&_foreign_keys=on&_journal_mode=WAL&_txlock=immediate"
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		f.Close()
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, db.Ping()
}
