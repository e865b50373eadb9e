package cli_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/strata-go/strata/migration/cli"
)

// down rolls back the last applied migration; down N the last N, newest
// first. Off a terminal it needs --yes.
func ExampleRun_down() {
	dir, err := os.MkdirTemp("", "strata-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	dsn := filepath.Join(dir, "app.db")
	migrate := func(stdout io.Writer, args ...string) int {
		return cli.Run(context.Background(), append([]string{"--dsn", dsn}, args...), exampleMigrations,
			cli.WithOutput(stdout, io.Discard))
	}
	migrate(io.Discard, "up")
	migrate(os.Stdout, "plan", "--down", "--all")
	fmt.Println("down 2 --yes:", migrate(io.Discard, "down", "2", "--yes"))
	migrate(os.Stdout, "pending")
	// Output:
	// down  0003_users_email
	// down  0002_posts
	// down  0001_users
	// down 2 --yes: 0
	// 0002_posts
	// 0003_users_email
}

// With --json every command prints one JSON document on stdout, for
// scripts; here what a run would do, and a baseline.
func ExampleRun_json() {
	dir, err := os.MkdirTemp("", "strata-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	dsn := filepath.Join(dir, "app.db")
	migrate := func(args ...string) int {
		return cli.Run(context.Background(), append([]string{"--json", "--dsn", dsn}, args...), exampleMigrations,
			cli.WithOutput(os.Stdout, io.Discard))
	}
	migrate("plan", "--to", "0002_posts")
	migrate("baseline", "0001_users")
	// Output:
	// [
	//   {
	//     "id": "0001_users",
	//     "description": "",
	//     "direction": "up",
	//     "backup_required": false,
	//     "no_transaction": false
	//   },
	//   {
	//     "id": "0002_posts",
	//     "description": "",
	//     "direction": "up",
	//     "backup_required": false,
	//     "no_transaction": false
	//   }
	// ]
	// {
	//   "baselined": [
	//     "0001_users"
	//   ]
	// }
}
