package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-go/strata/backup"
	"github.com/strata-go/strata/bench/internal/stats"
	"github.com/strata-go/strata/dialect/sqlite"
)

// Row names of scenarios 5 and 6; the first of each is the floor.
const (
	rebuildNative = "native ALTER TABLE DROP COLUMN"
	rebuildDrop   = "strata sqlite.DropColumn"
	rebuildForced = "strata sqlite.RebuildTable (forced 12-step rebuild)"

	backupCopy   = "file copy + fsync"
	backupVacuum = "VACUUM INTO (raw statement)"
	backupStrata = "strata backup.Create (SQLite)"
)

type method struct {
	name string
	run  func(ctx context.Context, db *sql.DB, dir string) error
}

// runRebuild runs scenario 5: drop column d of a table of cfg.rows rows and
// three indexes, natively and with strata's helpers, each time on a fresh
// copy of the same database file.
func runRebuild(ctx context.Context, cfg config, rep *report) error {
	dir := filepath.Join(cfg.dir, "rebuild")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tmpl := filepath.Join(dir, "template.db")
	start := time.Now()
	if err := buildRebuildTemplate(ctx, tmpl, cfg.rows); err != nil {
		return fmt.Errorf("build table: %w", err)
	}
	fi, err := os.Stat(tmpl)
	if err != nil {
		return err
	}
	rep.rebuildInfo = fmt.Sprintf("Table t (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL, c REAL, d TEXT) with %s rows and 3 indexes (a; UNIQUE b; c DESC, a), a %.0f MB file; dropping column d",
		thousands(cfg.rows), float64(fi.Size())/1e6)
	logf("[sqlite rebuild] built %d rows (%.0f MB) in %s", cfg.rows, float64(fi.Size())/1e6, stats.Duration(time.Since(start)))

	methods := []method{
		{rebuildNative, func(ctx context.Context, db *sql.DB, _ string) error {
			_, err := db.ExecContext(ctx, `ALTER TABLE t DROP COLUMN d`)
			return err
		}},
		{rebuildDrop, func(ctx context.Context, db *sql.DB, _ string) error {
			return sqlite.DropColumn(ctx, db, "t", "d")
		}},
		// AlterColumn without options changes nothing, but it is not a
		// removal, so it keeps RebuildTable off the native fast path.
		{rebuildForced, func(ctx context.Context, db *sql.DB, _ string) error {
			return sqlite.RebuildTable(ctx, db, "t", sqlite.RemoveColumn("d"), sqlite.AlterColumn("a"))
		}},
	}
	for r := range cfg.reps {
		for _, m := range rotate(methods, r) {
			if err := ctx.Err(); err != nil {
				return err
			}
			d, err := rebuildOnce(ctx, dir, tmpl, m, cfg.rows, rep.settle)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			rep.add(scnRebuild, "sqlite", m.name, d)
			logf("[sqlite rebuild %d/%d] %s: %s", r+1, cfg.reps, m.name, stats.Duration(d))
		}
	}
	return nil
}

func buildRebuildTemplate(ctx context.Context, path string, rows int) error {
	db, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	stmts := []string{
		`CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL, c REAL, d TEXT)`,
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

func rebuildOnce(ctx context.Context, dir, tmpl string, m method, rows int, settle *settler) (time.Duration, error) {
	path := filepath.Join(dir, "run.db")
	if err := removeDB(path); err != nil {
		return 0, err
	}
	defer removeDB(path)
	if err := copyFile(tmpl, path, false); err != nil {
		return 0, err
	}
	db, err := sqlite.Open(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	settle.wait(ctx)
	start := time.Now()
	if err := m.run(ctx, db, dir); err != nil {
		return 0, err
	}
	d := time.Since(start)
	// Check the result outside the timing: column gone, rows kept, index kept.
	var cols, n, idx int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('t') WHERE name = 'd'`).Scan(&cols); err != nil {
		return 0, err
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
		return 0, err
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 't' AND sql IS NOT NULL`).Scan(&idx); err != nil {
		return 0, err
	}
	if cols != 0 || n != rows || idx != 3 {
		return 0, fmt.Errorf("after the drop: column d present %d, %d rows (want %d), %d indexes (want 3)", cols, n, rows, idx)
	}
	return d, nil
}

// runBackup runs scenario 6: back up a database of about cfg.backupMB MB
// with strata's backup package, with the raw VACUUM INTO it is built on,
// and by copying the file.
func runBackup(ctx context.Context, cfg config, rep *report) error {
	dir := filepath.Join(cfg.dir, "backup")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "app.db")
	start := time.Now()
	if err := buildBackupSource(ctx, src, cfg.backupMB); err != nil {
		return fmt.Errorf("build database: %w", err)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	rep.backupInfo = fmt.Sprintf("A %.0f MB database (one table of rows with an 800-byte blob, one index), WAL checkpointed, no concurrent writers", float64(fi.Size())/1e6)
	logf("[sqlite backup] built a %.0f MB database in %s", float64(fi.Size())/1e6, stats.Duration(time.Since(start)))

	out := filepath.Join(dir, "out")
	methods := []method{
		{backupCopy, func(ctx context.Context, _ *sql.DB, out string) error {
			return copyFile(src, filepath.Join(out, "copy.db"), true)
		}},
		{backupVacuum, func(ctx context.Context, db *sql.DB, out string) error {
			_, err := db.ExecContext(ctx, `VACUUM INTO ?`, filepath.Join(out, "vacuum.db"))
			return err
		}},
		{backupStrata, func(ctx context.Context, db *sql.DB, out string) error {
			conn, err := db.Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			_, err = backup.Create(ctx, backup.NewSQLite(), conn, backup.Options{Dir: out, Label: "bench"})
			return err
		}},
	}
	db, err := sqlite.Open(src)
	if err != nil {
		return err
	}
	defer db.Close()
	for r := range cfg.reps {
		for _, m := range rotate(methods, r) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := os.RemoveAll(out); err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return err
			}
			rep.settle.wait(ctx)
			start := time.Now()
			if err := m.run(ctx, db, out); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			d := time.Since(start)
			rep.add(scnBackup, "sqlite", m.name, d)
			logf("[sqlite backup %d/%d] %s: %s", r+1, cfg.reps, m.name, stats.Duration(d))
		}
	}
	return nil
}

func buildBackupSource(ctx context.Context, path string, mb int) error {
	db, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	// About 1,050 bytes a row on disk with the index.
	rows := mb * 1_000_000 / 1050
	stmts := []string{
		`CREATE TABLE events (id INTEGER PRIMARY KEY, account INTEGER NOT NULL, kind TEXT NOT NULL, payload BLOB NOT NULL)`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		 INSERT INTO events (id, account, kind, payload)
		 SELECT i, (i * 7919) % 10007, printf('kind-%03d', i % 97), randomblob(800) FROM n`,
		`CREATE INDEX events_account ON events (account, kind)`,
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

func copyFile(from, to string, sync bool) (err error) {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	if sync {
		return out.Sync()
	}
	return nil
}

func removeDB(path string) error {
	var errs []error
	for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
