package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"unicode"

	"github.com/strata-go/strata/migration"
)

// createTemplate is the file create writes. Up and Down fail until they
// are written, so a forgotten migration cannot be applied as a no-op.
var createTemplate = template.Must(template.New("migration").Parse(`package {{.Package}}

import (
	"context"
	"errors"

	"github.com/strata-go/strata/migration"
)

// {{.Type}} is migration {{.ID}}. Add {{.Type}}{} to the application's list
// of migrations.
type {{.Type}} struct{ migration.Base }

// ID returns the migration's ID. Never change it once the migration has been
// applied anywhere.
func ({{.Type}}) ID() string { return {{printf "%q" .ID}} }

// Description says what the migration does; status shows it.
func ({{.Type}}) Description() string { return {{printf "%q" .Description}} }
{{if .Deps}}
// Dependencies returns the migrations that must be applied first: the heads
// of the graph when this migration was created.
func ({{.Type}}) Dependencies() []string {
	return []string{ {{- range $i, $d := .Deps}}{{if $i}}, {{end}}{{printf "%q" $d}}{{end -}} }
}
{{end}}
// Up applies the migration, for example:
//
//	_, err := tx.ExecContext(ctx, ` + "`" + `ALTER TABLE users ADD COLUMN email VARCHAR(255)` + "`" + `)
//	return err
func ({{.Type}}) Up(ctx context.Context, tx *migration.Tx) error {
	return errors.New("{{.ID}}: Up is not written yet")
}

// Down reverts Up, for example:
//
//	return tx.DropColumn(ctx, "users", "email")
func ({{.Type}}) Down(ctx context.Context, tx *migration.Tx) error {
	return errors.New("{{.ID}}: Down is not written yet")
}
`))

var (
	nonWord   = regexp.MustCompile(`[^a-z0-9]+`)
	seqPrefix = regexp.MustCompile(`^(\d+)_`)
)

// sanitizeName turns a migration name into lower_snake_case ASCII.
func sanitizeName(name string) string {
	return strings.Trim(nonWord.ReplaceAllString(strings.ToLower(name), "_"), "_")
}

// typeName turns lower_snake_case into an exported Go identifier.
func typeName(name string) string {
	var b strings.Builder
	for _, w := range strings.Split(name, "_") {
		if w == "" {
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	s := b.String()
	if s == "" || !unicode.IsLetter(rune(s[0])) {
		s = "M" + s
	}
	return s
}

func runCreate(_ context.Context, e *env) error {
	name := sanitizeName(strings.Join(e.args, " "))
	if name == "" {
		return usageErrorf("create: the name %q has no letters or digits", strings.Join(e.args, " "))
	}
	g, err := migration.NewGraph(e.ms)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, mg := range g.Migrations() {
		known[mg.ID()] = true
	}
	var id string
	if e.f.seq {
		id = nextSeq(known) + "_" + name
	} else {
		id = e.c.now().UTC().Format("20060102150405") + "_" + name
	}
	if known[id] {
		return fmt.Errorf("create: a migration with ID %q exists already", id)
	}
	dir := e.f.dir
	if dir == "" {
		dir = e.c.createDir
	}
	pkg, types, lists, err := scanPackage(dir)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	typ := typeName(name)
	if types[typ] {
		typ += strings.SplitN(id, "_", 2)[0]
	}
	var buf bytes.Buffer
	if err := createTemplate.Execute(&buf, map[string]any{
		"Package":     pkg,
		"Type":        typ,
		"ID":          id,
		"Description": strings.ReplaceAll(name, "_", " "),
		"Deps":        g.Heads(),
	}); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return fmt.Errorf("create: format the new file: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	path := filepath.Join(dir, id+".go")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create: %s exists already; not overwriting it", path)
		}
		return fmt.Errorf("create: %w", err)
	}
	if _, err := f.Write(src); err != nil {
		f.Close()
		return fmt.Errorf("create: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create: write %s: %w", path, err)
	}
	register := fmt.Sprintf("add %s.%s{} to the []migration.Migration the application passes to migration.NewManager and cli.Run", pkg, typ)
	if len(lists) == 1 {
		register = fmt.Sprintf("add %s{} to the list returned by %s", typ, lists[0])
	}
	if e.g.json {
		return e.writeJSON(jsonCreate{Path: path, ID: id, Package: pkg, Type: typ, Dependencies: nonNil(g.Heads()), Lists: nonNil(lists)})
	}
	fmt.Fprintf(e.stdout, "created %s\n", path)
	fmt.Fprintf(e.stdout, "  ID:         %s\n", id)
	if hs := g.Heads(); len(hs) > 0 {
		fmt.Fprintf(e.stdout, "  depends on: %s\n", strings.Join(hs, ", "))
	}
	fmt.Fprintf(e.stdout, "Next: write its Up and Down, then register it: %s.\n", register)
	fmt.Fprintf(e.stdout, "Until it is registered, the application does not know it: status and up will not show it.\n")
	return nil
}

// nextSeq returns the number after the highest numeric ID prefix, as wide
// as the widest one (at least 4 digits).
func nextSeq(known map[string]bool) string {
	highest, width := int64(0), 4
	for id := range known {
		m := seqPrefix.FindStringSubmatch(id)
		if m == nil || len(m[1]) >= 14 { // a timestamp, not a number
			continue
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			continue
		}
		highest = max(highest, n)
		width = max(width, len(m[1]))
	}
	return fmt.Sprintf("%0*d", width, highest+1)
}

// jsonCreate is what create prints with --json. Lists are the functions
// in the package that return the list of migrations ("All() in
// migrations/migrations.go"), where the new type is to be added.
type jsonCreate struct {
	Path         string   `json:"path"`
	ID           string   `json:"id"`
	Package      string   `json:"package"`
	Type         string   `json:"type"`
	Dependencies []string `json:"dependencies"`
	Lists        []string `json:"lists"`
}

// scanPackage returns the package name of the Go files in dir (or one
// derived from dir's name if it has none), the type names they declare,
// and the functions that return a []migration.Migration, as "All() in
// path".
func scanPackage(dir string) (string, map[string]bool, []string, error) {
	types := map[string]bool{}
	var lists []string
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil, err
	}
	pkg := ""
	fset := token.NewFileSet()
	for _, ent := range entries {
		n := ent.Name()
		if ent.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return "", nil, nil, fmt.Errorf("read %s: %w", filepath.Join(dir, n), err)
		}
		if pkg == "" {
			pkg = f.Name.Name
		}
		for _, name := range migrationLists(f) {
			lists = append(lists, name+"() in "+filepath.Join(dir, n))
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				types[spec.(*ast.TypeSpec).Name.Name] = true
			}
		}
	}
	if pkg == "" {
		pkg = strings.ReplaceAll(strings.ToLower(filepath.Base(filepath.Clean(dir))), "-", "_")
		if !token.IsIdentifier(pkg) || token.IsKeyword(pkg) || pkg == "main" {
			pkg = "migrations"
		}
	}
	return pkg, types, lists, nil
}

// migrationLists returns the names of the functions (not methods) of f
// that return exactly a []migration.Migration.
func migrationLists(f *ast.File) []string {
	local := ""
	for _, im := range f.Imports {
		if p, err := strconv.Unquote(im.Path.Value); err == nil && p == modulePath+"/migration" {
			local = "migration"
			if im.Name != nil {
				local = im.Name.Name
			}
		}
	}
	if local == "" {
		return nil
	}
	var names []string
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || fd.Type.Results == nil || len(fd.Type.Results.List) != 1 {
			continue
		}
		at, ok := fd.Type.Results.List[0].Type.(*ast.ArrayType)
		if !ok || at.Len != nil {
			continue
		}
		if sel, ok := at.Elt.(*ast.SelectorExpr); ok && sel.Sel.Name == "Migration" {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == local {
				names = append(names, fd.Name.Name)
			}
		}
	}
	return names
}
