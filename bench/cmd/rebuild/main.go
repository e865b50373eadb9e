// Command rebuild measures sqlite.DropColumn and a full sqlite.RebuildTable
// against SQLite's native ALTER TABLE ... DROP COLUMN on identical copies of
// a table with many rows and three indexes, and prints a Markdown table.
//
//	go run ./cmd/rebuild -rows 1000000 -reps 5
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/strata-go/strata/dialect/sqlite"
)

type method struct {
	name string
	run  func(ctx context.Context, db *sql.DB) error
}

var methods = []method{
	{"native ALTER TABLE DROP COLUMN", func(ctx context.Context, db *sql.DB) error {
		_, err := db.ExecContext(ctx, `ALTER TABLE t DROP COLUMN d`)
		return err
	}},
	{"sqlite.DropColumn", func(ctx context.Context, db *sql.DB) error {
		return sqlite.DropColumn(ctx, db, "t", "d")
	}},
	// AlterColumn with no options changes nothing but is not a removal,
	// so it forces the 12-step rebuild instead of the native fast path.
	{"sqlite.RebuildTable (forced 12-step rebuild)", func(ctx context.Context, db *sql.DB) error {
		return sqlite.RebuildTable(ctx, db, "t", sqlite.RemoveColumn("d"), sqlite.AlterColumn("a"))
	}},
}

func main() {
	rows := flag.Int("rows", 1_000_000, "rows in the table")
	reps := flag.Int("reps", 5, "repetitions of each method")
	dir := flag.String("dir", "", "directory for the database files (default: a temporary one)")
	flag.Parse()
	if err := run(*rows, *reps, *dir); err != nil {
		log.Fatal(err)
	}
}

func run(rows, reps int, dir string) error {
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "strata-bench-rebuild-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	template := filepath.Join(dir, "template.db")
	start := time.Now()
	if err := build(ctx, template, rows); err != nil {
		return fmt.Errorf("build template: %w", err)
	}
	fi, err := os.Stat(template)
	if err != nil {
		return err
	}
	fmt.Printf("table t: %d rows, 3 indexes, %.1f MiB file, built in %s\n\n", rows, float64(fi.Size())/(1<<20), time.Since(start).Round(time.Millisecond))

	times := make([][]time.Duration, len(methods))
	for rep := 0; rep < reps; rep++ {
		for k := range methods {
			// alternate the order so that neither side always runs on a warmer cache
			i := k
			if rep%2 == 1 {
				i = len(methods) - 1 - k
			}
			d, err := measure(ctx, dir, template, methods[i])
			if err != nil {
				return fmt.Errorf("%s: %w", methods[i].name, err)
			}
			times[i] = append(times[i], d)
		}
	}

	native := median(times[0])
	fmt.Printf("%s/%s, %s, SQLite via mattn/go-sqlite3, WAL, synchronous=NORMAL, %d repetitions\n\n", runtime.GOOS, runtime.GOARCH, runtime.Version(), reps)
	fmt.Println("| method | median | min | max | median / native |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for i, m := range methods {
		ts := times[i]
		fmt.Printf("| %s | %s | %s | %s | %.2fx |\n", m.name, round(median(ts)), round(minOf(ts)), round(maxOf(ts)), float64(median(ts))/float64(native))
	}
	return nil
}

// build creates the table once; every measurement works on a copy.
func build(ctx context.Context, path string, rows int) error {
	db, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	stmts := []string{
		`CREATE TABLE t (
			id INTEGER PRIMARY KEY,
			a  INTEGER NOT NULL,
			b  TEXT NOT NULL,
			c  REAL,
			d  TEXT
		)`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		 INSERT INTO t (id, a, b, c, d)
		 SELECT i, (i * 7919) % 100003, printf('user-%08d@example.com', (i * 104729) % 1000003), i / 3.0, hex(randomblob(16)) FROM n`,
		`CREATE INDEX t_a ON t (a)`,
		`CREATE UNIQUE INDEX t_b ON t (b)`,
		`CREATE INDEX t_c_a ON t (c DESC, a)`,
		`PRAGMA wal_checkpoint(TRUNCATE)`,
	}
	for i, s := range stmts {
		var args []any
		if i == 1 {
			args = append(args, rows)
		}
		if _, err := db.ExecContext(ctx, s, args...); err != nil {
			return fmt.Errorf("%.40s: %w", s, err)
		}
	}
	return nil
}

func measure(ctx context.Context, dir, template string, m method) (time.Duration, error) {
	path := filepath.Join(dir, "run.db")
	for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
		os.Remove(path + suffix)
	}
	if err := copyFile(template, path); err != nil {
		return 0, err
	}
	db, err := sqlite.Open(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	// read the file once so that both sides start from the same page cache
	if _, err := db.ExecContext(ctx, `SELECT count(*) FROM t`); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := m.run(ctx, db); err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('t') WHERE name = 'd'`).Scan(&n); err != nil {
		return 0, err
	}
	if n != 0 {
		return 0, fmt.Errorf("column d still there")
	}
	var ok string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&ok); err != nil || ok != "ok" {
		return 0, fmt.Errorf("quick_check: %q %v", ok, err)
	}
	return elapsed, nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

func median(ts []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minOf(ts []time.Duration) time.Duration {
	m := ts[0]
	for _, t := range ts {
		m = min(m, t)
	}
	return m
}

func maxOf(ts []time.Duration) time.Duration {
	m := ts[0]
	for _, t := range ts {
		m = max(m, t)
	}
	return m
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
