package cli_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoDrivers guards the design rule that the CLI imports no database
// driver and no dialect: a PostgreSQL or MySQL user must not need cgo,
// which the SQLite driver does.
func TestNoDrivers(t *testing.T) {
	// go test puts its own go first on PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go tool on PATH: %v", err)
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", "github.com/strata-go/strata/migration/cli").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed too little:\n%s", out)
	}
	for _, dep := range deps {
		for _, banned := range []string{
			"github.com/mattn/go-sqlite3",
			"github.com/jackc/pgx",
			"github.com/go-sql-driver/mysql",
			"github.com/strata-go/strata/dialect/",
		} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("migration/cli depends on %s", dep)
			}
		}
	}
}
