package sqlitefile_test

import (
	"path/filepath"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/internal/sqlitefile"
)

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other := filepath.Join(dir, "other.db")
	if _, err := db.Exec(`ATTACH DATABASE ? AS other`, other); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TEMP TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if got, err := sqlitefile.Main(ctx, db); err != nil || got != path {
		t.Errorf("Main = %q, %v; want %q", got, err, path)
	}
	for _, tt := range []struct {
		name, schema, want string
		ok                 bool
	}{
		{"main", "main", path, true},
		{"attached", "other", other, true},
		{"temp", "temp", "", true},
		{"not attached", "missing", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := sqlitefile.Of(ctx, db, tt.schema)
			if err != nil || got != tt.want || ok != tt.ok {
				t.Errorf("Of(%s) = %q, %v, %v; want %q, %v", tt.schema, got, ok, err, tt.want, tt.ok)
			}
		})
	}

	mem, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if got, err := sqlitefile.Main(ctx, mem); err != nil || got != "" {
		t.Errorf("Main(memory) = %q, %v; want \"\"", got, err)
	}
}
