package sqlite_test

import (
	"os"
	"path/filepath"
	"strings"
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
