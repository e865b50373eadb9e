package main

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/strata-go/strata/integration"
)

// TestConformance runs the manager conformance suite against the dialect,
// as the built-in dialects do.
func TestConformance(t *testing.T) {
	integration.Run(t, integration.Target{
		Name:    Name,
		Dialect: New(),
		Open: func(t *testing.T) (*sql.DB, string) {
			path := filepath.Join(t.TempDir(), "conformance.db")
			db, err := New().Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db, path
		},
		Reopen:   New().Open,
		Describe: integration.DescribeSQLite, // the schema is SQLite's
	})
}
