package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/internal/sqlitefile"
)

func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "odd ?name#.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE x (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		path string
		mode os.FileMode
	}{
		{"directory", dir, 0o700 | os.ModeDir},
		{"database file", path, 0o600},
		{"WAL file", path + "-wal", 0o600},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fi, err := os.Stat(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != tt.mode {
				t.Fatalf("mode = %v, want %v", fi.Mode(), tt.mode)
			}
		})
	}
	for _, tt := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	} {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			if err := db.QueryRow(`PRAGMA ` + tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
	if n := db.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", n)
	}
	file, err := sqlitefile.Main(t.Context(), db)
	if err != nil || file != path {
		t.Errorf("main database file = %q, %v; want %q", file, err, path)
	}
}

func TestOpenErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, path, want string }{
		{"empty path", "", "empty path"},
		{"parent is a file", filepath.Join(notDir, "x.db"), notDir},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqlite.Open(tt.path)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// TestOpenTogether: many connections opening one new file at the same
// moment all succeed. The first switches the file to WAL, which needs an
// exclusive lock; SQLite answers some of the others "database is locked"
// at once, without waiting for the busy timeout.
func TestOpenTogether(t *testing.T) {
	const files, conns = 20, 24
	for f := range files {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("together%d.db", f))
		var wg sync.WaitGroup
		errs := make(chan error, conns)
		start := make(chan struct{})
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				db, err := sqlite.Open(path)
				if err != nil {
					errs <- err
					return
				}
				defer db.Close()
				if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)`); err != nil {
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("file %d: %v", f, err)
		}
	}
}
