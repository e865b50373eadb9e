package integration_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/integration"
)

// compatible is a custom dialect: PostgreSQL's, under a name of its own,
// for a database that speaks the PostgreSQL protocol.
type compatible struct{ *postgres.Dialect }

func (compatible) Name() string { return "pg-compatible" }

// freshDatabase creates a database with a random name on the server of
// adminURL (a postgres:// URL) and drops it when the test ends.
func freshDatabase(t *testing.T, adminURL string) (*sql.DB, string) {
	t.Helper()
	admin, err := sql.Open(postgres.DriverName, adminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := "suite_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(t.Context(), `CREATE DATABASE `+dialect.QuoteDouble(name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), `DROP DATABASE `+dialect.QuoteDouble(name)+` WITH (FORCE)`)
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	db, err := sql.Open(postgres.DriverName, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u.String()
}

// A custom dialect runs the manager's conformance suite from a test of its
// own package. This example compiles but does not run: it needs a server.
func ExampleRun() {
	testManager := func(t *testing.T) {
		adminURL := os.Getenv("PG_COMPATIBLE_TEST_URL")
		if adminURL == "" {
			t.Skip("PG_COMPATIBLE_TEST_URL not set")
		}
		integration.Run(t, integration.Target{
			Name:    "pg-compatible",
			Dialect: compatible{postgres.New()},
			Open:    func(t *testing.T) (*sql.DB, string) { return freshDatabase(t, adminURL) },
			Reopen: func(dsn string) (*sql.DB, error) {
				return sql.Open(postgres.DriverName, dsn)
			},
			// Not a built-in name: say how to list its tables.
			Describe: integration.DescribePostgres,
			Schemas:  true,
		})
	}
	_ = testManager // func TestManager(t *testing.T) in the dialect's package
}
