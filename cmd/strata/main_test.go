package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-go/strata/migration/cli"
)

func strata(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSQLDirectory runs a directory of goose files through the binary's
// code path: up, an edit to an applied file reported by status and refused
// by up, and repair --checksum.
func TestSQLDirectory(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(t.TempDir(), "app.db")
	write(t, filepath.Join(dir, "00001_users.sql"), "-- +goose Up\nCREATE TABLE users (id int);\nCREATE TABLE teams (id int);\n-- +goose Down\nDROP TABLE teams;\nDROP TABLE users;\n")
	if code, out, errs := strata(t, "--dir", dir, "--dsn", db, "up"); code != cli.ExitOK || !strings.Contains(out, "applied 00001_users") {
		t.Fatalf("up: %d\n%s%s", code, out, errs)
	}
	write(t, filepath.Join(dir, "00001_users.sql"), "-- +goose Up\nCREATE TABLE users (id int, name text);\nCREATE TABLE teams (id int);\n-- +goose Down\nDROP TABLE teams;\nDROP TABLE users;\n")
	write(t, filepath.Join(dir, "00002_more.sql"), "-- +goose Up\nCREATE TABLE more (id int);\n-- +goose Down\nDROP TABLE more;\n")
	if code, out, errs := strata(t, "--dsn", db, "status", "--dir="+dir); code != cli.ExitOK || !strings.Contains(out, "text changed") {
		t.Errorf("status: %d\n%s%s", code, out, errs)
	}
	if code, out, errs := strata(t, "--dir", dir, "--dsn", db, "up"); code == cli.ExitOK || !strings.Contains(errs, "changed since it was applied") {
		t.Errorf("up with a changed file: %d\n%s%s", code, out, errs)
	}
	if code, out, errs := strata(t, "--dir", dir, "--dsn", db, "repair", "00001_users", "--checksum"); code != cli.ExitOK {
		t.Fatalf("repair --checksum: %d\n%s%s", code, out, errs)
	}
	if code, out, errs := strata(t, "--dir", dir, "--dsn", db, "up"); code != cli.ExitOK || !strings.Contains(out, "applied 00002_more") {
		t.Errorf("up after repair: %d\n%s%s", code, out, errs)
	}
}

func TestMissingDirectory(t *testing.T) {
	code, _, errs := strata(t, "--dir", filepath.Join(t.TempDir(), "nope"), "--dsn", filepath.Join(t.TempDir(), "x.db"), "status")
	if code != cli.ExitUsage || !strings.Contains(errs, "no migrations directory") {
		t.Errorf("code %d, stderr %q", code, errs)
	}
	if code, out, _ := strata(t, "--dir", "nope", "help"); code != cli.ExitOK || !strings.Contains(out, "Usage") {
		t.Errorf("help without a directory: %d %q", code, out)
	}
}

func TestBadFileNamed(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "00001_x.sql"), "CREATE TABLE x (id int);\n")
	code, _, errs := strata(t, "--dir", dir, "--dsn", filepath.Join(t.TempDir(), "x.db"), "up")
	if code != cli.ExitFailure || !strings.Contains(errs, "00001_x.sql") {
		t.Errorf("code %d, stderr %q", code, errs)
	}
}

// TestAdoptCommand: a goose-managed SQLite database is refused by status
// with advice, adopted by the command, then migrated further.
func TestAdoptCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(t.TempDir(), "app.db")
	write(t, filepath.Join(dir, "00001_users.sql"), "-- +goose Up\nCREATE TABLE users (id int);\n-- +goose Down\nDROP TABLE users;\n")
	write(t, filepath.Join(dir, "00002_teams.sql"), "-- +goose Up\nCREATE TABLE teams (id int);\n-- +goose Down\nDROP TABLE teams;\n")
	// What goose leaves after applying 00001.
	setup := filepath.Join(t.TempDir(), "setup")
	if err := os.MkdirAll(setup, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(setup, "1_goose.up.sql"), "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));\n"+
		"INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1);\nCREATE TABLE users (id int);\n")
	write(t, filepath.Join(setup, "1_goose.down.sql"), "")
	if code, out, errs := strata(t, "--dir", setup, "--dsn", db, "--table", "setup_versions", "up"); code != cli.ExitOK {
		t.Fatalf("setup: %d\n%s%s", code, out, errs)
	}
	code, out, errs := strata(t, "--dir", dir, "--dsn", db, "status")
	if code == cli.ExitOK || !strings.Contains(errs, "adopt --from goose") {
		t.Errorf("status on a goose database: %d\n%s%s", code, out, errs)
	}
	code, out, errs = strata(t, "--dir", dir, "--dsn", db, "adopt", "--from", "goose")
	if code != cli.ExitOK || !strings.Contains(out, "adopted 00001_users") || strings.Contains(out, "00002") {
		t.Fatalf("adopt: %d\n%s%s", code, out, errs)
	}
	code, out, errs = strata(t, "--dir", dir, "--dsn", db, "up")
	if code != cli.ExitOK || strings.Contains(out, "00001") || !strings.Contains(out, "applied 00002_teams") {
		t.Errorf("up after adopt: %d\n%s%s", code, out, errs)
	}
	if code, _, errs := strata(t, "--dir", dir, "--dsn", db, "adopt"); code != cli.ExitUsage {
		t.Errorf("adopt without --from: %d %s", code, errs)
	}
}
