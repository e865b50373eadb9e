package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/cli"
)

// migrations is the example's schema history.
func migrations() []migration.Migration {
	return []migration.Migration{
		migration.SQL("0001_notes",
			`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT`,
			`DROP TABLE notes`),
		&migration.Func{
			Name: "0002_notes_created_at", Desc: "add notes.created_at", Requires: []string{"0001_notes"},
			UpFn: func(ctx context.Context, tx *migration.Tx) error {
				_, err := tx.ExecContext(ctx, `ALTER TABLE notes ADD COLUMN created_at TEXT NOT NULL DEFAULT ''`)
				return err
			},
			DownFn: func(ctx context.Context, tx *migration.Tx) error {
				return tx.DropColumn(ctx, "notes", "created_at")
			},
		},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// Register the dialect so that the command line finds it by name,
	// as sql.Register makes a driver available to sql.Open.
	if _, ok := dialect.Lookup(Name); !ok {
		if err := dialect.Register(New()); err != nil {
			fmt.Fprintln(stderr, "customdialect:", err)
			return cli.ExitFailure
		}
	}
	return cli.Run(ctx, args, migrations(),
		cli.WithProgramName("customdialect"),
		cli.WithOutput(stdout, stderr),
		cli.WithDefaultDSN("customdialect.db"),
		cli.WithDefaultDialect(Name), // its DSNs look like SQLite's: do not guess
	)
}
