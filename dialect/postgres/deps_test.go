package postgres_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies guards the layout rule that each driver is imported by
// its dialect alone: a PostgreSQL or MySQL user never needs cgo (no
// mattn/go-sqlite3), and the core packages import no driver at all.
func TestDependencies(t *testing.T) {
	const (
		sqlite = "github.com/mattn/go-sqlite3"
		pgx    = "github.com/jackc/pgx"
		mysql  = "github.com/go-sql-driver/mysql"
	)
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test runs the go command: %v", err)
	}
	tests := []struct {
		name      string
		pkg       string
		forbidden []string
	}{
		{"postgres dialect", "github.com/strata-go/strata/dialect/postgres", []string{sqlite, mysql}},
		{"mysql dialect", "github.com/strata-go/strata/dialect/mysql", []string{sqlite, pgx}},
		{"dialect", "github.com/strata-go/strata/dialect", []string{sqlite, pgx, mysql}},
		{"lock", "github.com/strata-go/strata/lock", []string{sqlite, pgx, mysql}},
		{"migration", "github.com/strata-go/strata/migration", []string{sqlite, pgx, mysql}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), gobin, "list", "-deps", "-f", "{{.ImportPath}}", tt.pkg)
			out, err := cmd.Output()
			if err != nil {
				var stderr string
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("go list -deps %s: %v\n%s", tt.pkg, err, stderr)
			}
			deps := strings.Fields(string(out))
			if len(deps) == 0 || deps[len(deps)-1] != tt.pkg {
				t.Fatalf("go list -deps %s listed %d packages, not ending with the package itself", tt.pkg, len(deps))
			}
			for _, dep := range deps {
				for _, f := range tt.forbidden {
					if dep == f || strings.HasPrefix(dep, f+"/") {
						t.Errorf("%s depends on %s", tt.pkg, dep)
					}
				}
			}
		})
	}
}
