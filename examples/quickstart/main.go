package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

// migrations is the schema's history. Each has an ID that never changes,
// SQL to apply and to revert it, and the IDs it depends on.
var migrations = []migration.Migration{
	migration.SQL("0001_users",
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
		`DROP TABLE users`),
	migration.SQL("0002_posts",
		`CREATE TABLE posts (
			id      INTEGER PRIMARY KEY,
			user_id INTEGER NOT NULL REFERENCES users (id),
			body    TEXT NOT NULL
		)`,
		`DROP TABLE posts`,
		"0001_users"),
	migration.SQL("0003_users_email",
		`ALTER TABLE users ADD COLUMN email TEXT`,
		`ALTER TABLE users DROP COLUMN email`,
		"0001_users"),
}

func main() {
	path := "quickstart.db"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	if err := run(context.Background(), os.Stdout, path); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, path string) error {
	db, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()

	m, err := migration.NewManager(db, sqlite.New(), migrations)
	if err != nil {
		return err
	}
	results, err := m.Up(ctx)
	for _, r := range results {
		if r.Err == nil {
			fmt.Fprintf(w, "applied %s (%s)\n", r.ID, r.Duration.Round(time.Microsecond))
		}
	}
	if err != nil {
		return err
	}
	if len(results) == 0 {
		fmt.Fprintf(w, "%s is up to date\n", path)
	} else {
		fmt.Fprintf(w, "%s: applied %d migration(s)\n", path, len(results))
	}
	return nil
}
