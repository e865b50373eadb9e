// Command backup measures strata's SQLite backups against copying the
// database file, on a database of about 200 MB, and prints the results as a
// Markdown table (medians over the repetitions, with minimum and maximum).
//
//	cd bench && go run ./cmd/backup
//	cd bench && go run ./cmd/backup -mb 50 -reps 3
//
// Methods, each run on the same database, in turns that rotate every
// repetition, after one unmeasured warm-up round so that every method reads
// from a warm page cache:
//
//   - file copy: PRAGMA wal_checkpoint(TRUNCATE), io.Copy of the database
//     file, fsync. Consistent only because nothing writes meanwhile.
//   - VACUUM INTO: the statement backup.SQLite runs, and an fsync.
//   - backup.Create: VACUUM INTO a temporary file, fsync, PRAGMA
//     integrity_check of the copy, SHA-256 checksum file, rename.
//   - backup.Create, writer running: the same while another connection
//     inserts rows as fast as it can.
//   - backup.Restore: checksum, integrity_check, and the transactional
//     replace of every table from the backup.
package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-go/strata/backup"
	"github.com/strata-go/strata/bench/internal/stats"
	"github.com/strata-go/strata/dialect/sqlite"
)

func main() {
	mb := flag.Int("mb", 200, "size of the database in MB")
	reps := flag.Int("reps", 5, "measured repetitions of each method")
	dir := flag.String("dir", "", "working directory (default: a new one under the system's temporary directory, removed after)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *mb, *reps, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "backup bench:", err)
		os.Exit(1)
	}
}

type method struct {
	name       string
	consistent string // whether the result is consistent with writers running
	run        func(ctx context.Context) error
}

func run(ctx context.Context, mb, reps int, dir string) error {
	if mb < 1 || reps < 1 {
		return errors.New("-mb and -reps must be positive")
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "strata-bench-backup-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	src := filepath.Join(dir, "src.db")
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	start := time.Now()
	db, err := sqlite.Open(src)
	if err != nil {
		return err
	}
	defer db.Close()
	size, rows, err := fill(ctx, db, int64(mb)<<20)
	if err != nil {
		return fmt.Errorf("build the database: %w", err)
	}
	fmt.Fprintf(os.Stderr, "built %s: %.0f MB, %d rows, in %s\n", src, float64(size)/1e6, rows, stats.Duration(time.Since(start)))

	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	b := backup.NewSQLite()

	// A backup for the restore method to restore, made once.
	restoreFrom, err := backup.Create(ctx, b, conn, backup.Options{Dir: filepath.Join(dir, "keep"), Label: "restore-source"})
	if err != nil {
		return err
	}

	writer, err := sqlite.Open(src)
	if err != nil {
		return err
	}
	defer writer.Close()

	clean := func() error {
		entries, err := os.ReadDir(out)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := os.Remove(filepath.Join(out, e.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	var written atomic.Int64
	methods := []method{
		{"file copy (checkpoint, io.Copy, fsync)", "no", func(ctx context.Context) error {
			if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				return err
			}
			return copyFile(src, filepath.Join(out, "copy.db"))
		}},
		{"VACUUM INTO + fsync", "yes", func(ctx context.Context) error {
			p := filepath.Join(out, "vacuum.db")
			if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, p); err != nil {
				return err
			}
			return syncPath(p)
		}},
		{"backup.Create (VACUUM INTO, integrity_check, SHA-256, rename)", "yes", func(ctx context.Context) error {
			_, err := backup.Create(ctx, b, conn, backup.Options{Dir: out, Label: "bench"})
			return err
		}},
		{"backup.Create while another connection inserts", "yes", func(ctx context.Context) error {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var werr error
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := writer.ExecContext(ctx, `INSERT INTO events (user_id, kind, created, payload) VALUES (1, 'w', datetime('now'), randomblob(600))`); err != nil {
						werr = err
						return
					}
					written.Add(1)
				}
			})
			_, err := backup.Create(ctx, b, conn, backup.Options{Dir: out, Label: "online"})
			close(stop)
			wg.Wait()
			return errors.Join(err, werr)
		}},
		{"backup.Restore (checksum, integrity_check, replace in one transaction)", "–", func(ctx context.Context) error {
			return backup.Restore(ctx, b, conn, restoreFrom.Path)
		}},
	}

	samples := make([]stats.Sample, len(methods))
	for r := -1; r < reps; r++ { // r = -1 warms up
		for i := range methods {
			k := (i + max(r, 0)) % len(methods)
			m := methods[k]
			if err := ctx.Err(); err != nil {
				return err
			}
			t0 := time.Now()
			if err := m.run(ctx); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			d := time.Since(t0)
			if err := clean(); err != nil {
				return err
			}
			if r >= 0 {
				samples[k] = append(samples[k], d)
				fmt.Fprintf(os.Stderr, "[%d/%d] %s: %s\n", r+1, reps, m.name, stats.Duration(d))
			}
		}
	}

	// The parts of backup.Create beyond VACUUM INTO, measured alone.
	var parts [2]stats.Sample
	for range reps {
		t0 := time.Now()
		if err := b.Verify(ctx, conn, restoreFrom.Path); err != nil {
			return err
		}
		parts[0] = append(parts[0], time.Since(t0))
		t0 = time.Now()
		if err := sha256File(restoreFrom.Path); err != nil {
			return err
		}
		parts[1] = append(parts[1], time.Since(t0))
	}

	var version string
	if err := conn.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&version); err != nil {
		return err
	}
	fmt.Printf("## SQLite backup of a %.0f MB database\n\n", float64(size)/1e6)
	fmt.Printf("%d rows (INTEGER PRIMARY KEY, two short columns, a 600-byte blob; one secondary index), WAL mode; "+
		"SQLite %s, %s, %s/%s, %d CPUs. Median of %d runs after a warm-up round (page cache warm), min–max in brackets.\n\n",
		rows, version, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), reps)
	fmt.Println("| method | median | min – max | MB/s | vs file copy | consistent while others write |")
	fmt.Println("|---|---:|---:|---:|---:|:---:|")
	for i, m := range methods {
		s := samples[i]
		fmt.Printf("| %s | %s | %s – %s | %.0f | %s | %s |\n", m.name, stats.Duration(s.Median()),
			stats.Duration(s.Min()), stats.Duration(s.Max()), float64(size)/1e6/s.Median().Seconds(),
			stats.Ratio(s.Median(), samples[0].Median()), m.consistent)
	}
	fmt.Printf("\nParts of `backup.Create` beyond VACUUM INTO, alone: PRAGMA integrity_check of the backup %s, SHA-256 of the file %s.\n",
		stats.Duration(parts[0].Median()), stats.Duration(parts[1].Median()))
	fmt.Printf("The writer inserted %d rows during the online runs.\n", written.Load())
	return nil
}

// fill adds rows to db until its file is at least target bytes, and
// returns its size and row count.
func fill(ctx context.Context, db *sql.DB, target int64) (size, rows int64, err error) {
	for _, q := range []string{
		`CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, kind TEXT NOT NULL, created TEXT NOT NULL, payload BLOB)`,
		`CREATE INDEX events_user ON events (user_id, created)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return 0, 0, err
		}
	}
	const batch = 10000
	for {
		var pages, pageSize int64
		if err := db.QueryRowContext(ctx, `SELECT (SELECT page_count FROM pragma_page_count), (SELECT page_size FROM pragma_page_size)`).Scan(&pages, &pageSize); err != nil {
			return 0, 0, err
		}
		if size = pages * pageSize; size >= target {
			break
		}
		_, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO events (user_id, kind, created, payload)
			SELECT abs(random()) % 100000, 'kind' || (abs(random()) % 20), datetime('now', '-' || (abs(random()) % 1000000) || ' seconds'), randomblob(600) FROM n`, batch)
		if err != nil {
			return 0, 0, err
		}
		rows += batch
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return 0, 0, err
	}
	return size, rows, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncPath(p string) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func sha256File(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(sha256.New(), f)
	return err
}
