package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
)

func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "quickstart.db")
	tests := []struct {
		name string
		want []string
	}{
		{"first run", []string{"applied 0001_users (", "applied 0002_posts (", "applied 0003_users_email (", "applied 3 migration(s)"}},
		{"second run", []string{"is up to date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(t.Context(), &out, path); err != nil {
				t.Fatal(err)
			}
			rest := out.String()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output does not contain %q:\n%s", w, out.String())
				}
				rest = rest[i+len(w):]
			}
		})
	}
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `INSERT INTO users (name, email) VALUES ('ann', 'ann@example.com')`); err != nil {
		t.Errorf("the migrated schema: %v", err)
	}
}
