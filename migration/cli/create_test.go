package cli_test

import (
	"go/ast"
	"go/format"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/cli"
)

func TestCreate(t *testing.T) {
	clock := cli.WithClock(func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600)) })
	tests := []struct {
		name     string
		ms       []migration.Migration
		existing map[string]string // files already in the directory
		args     []string
		wantFile string
		want     []string // in the new file, in order
		stdout   []string
	}{
		{
			name:     "timestamp id depending on both heads",
			ms:       testMigrations(),
			args:     []string{"create", "Add user e-mail"},
			wantFile: "20250304040607_add_user_e_mail.go",
			want: []string{
				"package migrations",
				"type AddUserEMail struct{ migration.Base }",
				`func (AddUserEMail) ID() string { return "20250304040607_add_user_e_mail" }`,
				`func (AddUserEMail) Description() string { return "add user e mail" }`,
				`return []string{"0002_posts", "0003_tags"}`,
				"func (AddUserEMail) Up(ctx context.Context, tx *migration.Tx) error",
				"func (AddUserEMail) Down(ctx context.Context, tx *migration.Tx) error",
			},
			stdout: []string{"created ", "20250304040607_add_user_e_mail.go", "depends on: 0002_posts, 0003_tags",
				"register it: add migrations.AddUserEMail{} to the []migration.Migration the application passes to migration.NewManager and cli.Run"},
		},
		{
			name:     "sequence number, words as arguments",
			ms:       testMigrations(),
			args:     []string{"create", "--seq", "add", "email"},
			wantFile: "0004_add_email.go",
			want:     []string{`return "0004_add_email"`},
		},
		{
			name:     "first migration has no dependencies",
			args:     []string{"create", "init", "--seq"},
			wantFile: "0001_init.go",
			want:     []string{`return "0001_init"`},
		},
		{
			name:     "package name and type names of the directory",
			ms:       testMigrations(),
			existing: map[string]string{"schema.go": "package schema\n\ntype AddEmail struct{}\n"},
			args:     []string{"create", "--seq", "add_email"},
			wantFile: "0004_add_email.go",
			want:     []string{"package schema", "type AddEmail0004 struct"},
		},
		{
			name: "names the function that lists the migrations",
			ms:   testMigrations(),
			existing: map[string]string{"list.go": "package migrations\n\nimport sm \"github.com/strata-go/strata/migration\"\n\n" +
				"func (x T) All() []sm.Migration { return nil }\n\ntype T struct{}\n\nfunc helper() []string { return nil }\n\n" +
				"// All returns the migrations.\nfunc All() []sm.Migration { return nil }\n"},
			args:     []string{"create", "--seq", "add_email"},
			wantFile: "0004_add_email.go",
			want:     []string{"type AddEmail struct"},
			stdout:   []string{"Next: write its Up and Down, then register it: add AddEmail{} to the list returned by All() in ", "list.go.\n", "Until it is registered"},
		},
		{
			name:     "name starting with a digit",
			args:     []string{"create", "2fa"},
			wantFile: "20250304040607_2fa.go",
			want:     []string{"type M2fa struct"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "migrations")
			for name, src := range tt.existing {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := run(t, tt.ms, []cli.Option{clock, cli.WithCreateDir(dir)}, tt.args...)
			if r.code != 0 {
				t.Fatalf("exit code %d\n%s", r.code, r.stderr)
			}
			containsInOrder(t, "stdout", r.stdout, tt.stdout)
			path := filepath.Join(dir, tt.wantFile)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("the new file: %v\nstdout:\n%s", err, r.stdout)
			}
			containsInOrder(t, tt.wantFile, string(src), tt.want)
			if formatted, err := format.Source(src); err != nil || string(formatted) != string(src) {
				t.Errorf("%s is not gofmt'ed (%v):\n%s", tt.wantFile, err, src)
			}
			typecheck(t, string(src))

			// A second run never overwrites it.
			again := run(t, tt.ms, []cli.Option{clock, cli.WithCreateDir(dir)}, tt.args...)
			if again.code != cli.ExitFailure || !strings.Contains(again.stderr, "not overwriting") {
				t.Errorf("second create: exit code %d, stderr:\n%s\nwant 1 and not overwriting", again.code, again.stderr)
			}
			if after, _ := os.ReadFile(path); string(after) != string(src) {
				t.Errorf("second create changed %s", path)
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	clock := cli.WithClock(func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC) })
	ms := []migration.Migration{migration.SQL("20250304050607_users", "SELECT 1", "SELECT 1")}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{name: "no name", args: []string{"create"}, code: cli.ExitUsage, stderr: "missing NAME"},
		{name: "no letters", args: []string{"create", "--", "--", "!?"}, code: cli.ExitUsage, stderr: "no letters or digits"},
		{name: "id of an existing migration", args: []string{"create", "users"}, code: cli.ExitFailure, stderr: `"20250304050607_users" exists already`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := run(t, ms, []cli.Option{clock, cli.WithCreateDir(dir)}, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit code %d, stderr:\n%s\nwant %d and %q", r.code, r.stderr, tt.code, tt.stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("create wrote %s", entries[0].Name())
			}
		})
	}
}

// sourceImporter returns an importer that type-checks imported packages
// from source, shared so that each is checked once.
var sourceImporter = sync.OnceValue(func() types.Importer {
	return importer.ForCompiler(token.NewFileSet(), "source", nil)
})

// typecheck checks that src compiles against the migration package and
// that its type is a migration.Migration.
func typecheck(t *testing.T, src string) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "new.go", src, 0)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var typ string
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
			typ = gd.Specs[0].(*ast.TypeSpec).Name.Name
		}
	}
	check, err := parser.ParseFile(fset, "check.go", "package "+f.Name.Name+
		"\nimport \"github.com/strata-go/strata/migration\"\nvar _ migration.Migration = "+typ+"{}\n", 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: sourceImporter()}
	if _, err := conf.Check(f.Name.Name, fset, []*ast.File{f, check}, nil); err != nil {
		t.Errorf("the new file does not compile: %v\n%s", err, src)
	}
}
