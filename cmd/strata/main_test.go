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
