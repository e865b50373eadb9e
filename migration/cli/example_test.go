package cli_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/strata-go/strata/dialect/sqlite" // registers the sqlite dialect
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/cli"
)

// exampleMigrations is the history of the examples' schema.
var exampleMigrations = []migration.Migration{
	migration.SQL("0001_users", `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`, `DROP TABLE users`),
	migration.SQL("0002_posts", `CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id))`,
		`DROP TABLE posts`, "0001_users"),
	migration.SQL("0003_users_email", `ALTER TABLE users ADD COLUMN email TEXT`,
		`ALTER TABLE users DROP COLUMN email`, "0001_users"),
}

// An application's main passes its arguments and migrations to Run and
// exits with the code it returns:
//
//	os.Exit(cli.Run(ctx, os.Args[1:], migrations))
//
// Here several command lines run against a SQLite file.
func Example() {
	dir, err := os.MkdirTemp("", "strata-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	dsn := filepath.Join(dir, "app.db")

	ctx := context.Background()
	migrate := func(stdout io.Writer, args ...string) int {
		return cli.Run(ctx, append([]string{"--dsn", dsn}, args...), exampleMigrations,
			cli.WithOutput(stdout, io.Discard))
	}
	migrate(os.Stdout, "plan")
	// up prints a line per migration, such as "applied 0001_users (1ms)".
	fmt.Println("up --to 0002_posts:", migrate(io.Discard, "up", "--to", "0002_posts"))
	migrate(os.Stdout, "pending")
	fmt.Println("status --exit-code:", migrate(io.Discard, "status", "--exit-code"))
	fmt.Println("down without --yes off a terminal:", migrate(io.Discard, "down"))
	// Output:
	// up  0001_users
	// up  0002_posts
	// up  0003_users_email
	// up --to 0002_posts: 0
	// 0003_users_email
	// status --exit-code: 3
	// down without --yes off a terminal: 2
}

func ExampleRun_graph() {
	cli.Run(context.Background(), []string{"graph"}, exampleMigrations, cli.WithOutput(os.Stdout, os.Stderr))
	// Output:
	// ID                DEPENDS ON  NOTE
	// 0001_users        -           branches (2)
	// 0002_posts        0001_users  head
	// 0003_users_email  0001_users  head
}

// drift shows what was changed by hand since the last run and exits 4
// ([cli.ExitDrift]), so that a deploy script can stop; drift --accept
// records the changed schema as the expected one.
func ExampleRun_drift() {
	dir, err := os.MkdirTemp("", "strata-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	dsn := filepath.Join(dir, "app.db")

	ctx := context.Background()
	migrate := func(stdout io.Writer, args ...string) int {
		return cli.Run(ctx, append([]string{"--dsn", dsn}, args...), exampleMigrations,
			cli.WithOutput(stdout, io.Discard))
	}
	migrate(io.Discard, "up")
	fmt.Println("drift:", migrate(io.Discard, "drift"))

	// Someone adds an index by hand.
	db, _, err := cli.Connect(ctx, dsn, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := db.ExecContext(ctx, `CREATE INDEX users_name ON users (name)`); err != nil {
		fmt.Println(err)
	}
	db.Close()

	var out strings.Builder
	code := migrate(&out, "drift")
	// The first line names the migration and the time the schema was
	// recorded; the changes follow, one per line.
	_, changes, _ := strings.Cut(out.String(), "\n")
	fmt.Print(changes)
	fmt.Println("drift:", code)
	fmt.Println("drift --accept --yes:", migrate(io.Discard, "drift", "--accept", "--yes"))
	fmt.Println("drift:", migrate(io.Discard, "drift"))
	// Output:
	// drift: 0
	// + index users_name on users: (name)
	// drift: 4
	// drift --accept --yes: 0
	// drift: 0
}

func ExampleRedactDSN() {
	fmt.Println(cli.RedactDSN("postgres://app:s3cret@db.internal:5432/app?sslmode=require"))
	fmt.Println(cli.RedactDSN("app:s3cret@tcp(db.internal:3306)/app"))
	fmt.Println(cli.RedactDSN("host=db.internal user=app password=s3cret dbname=app"))
	// Output:
	// postgres://app:xxxxx@db.internal:5432/app?sslmode=require
	// app:xxxxx@tcp(db.internal:3306)/app
	// host=db.internal user=app password=xxxxx dbname=app
}

func ExampleGuessDialect() {
	for _, dsn := range []string{
		"postgres://app@db:5432/app",
		"host=db dbname=app",
		"app@tcp(db:3306)/app",
		"mysql://app@db/app",
		"/var/lib/app/app.db",
		"file:app.db",
	} {
		fmt.Printf("%-28s %s\n", dsn, cli.GuessDialect(dsn))
	}
	// Output:
	// postgres://app@db:5432/app   postgres
	// host=db dbname=app           postgres
	// app@tcp(db:3306)/app         mysql
	// mysql://app@db/app           mysql
	// /var/lib/app/app.db          sqlite
	// file:app.db                  sqlite
}

// An application migrates on start-up with the DSN its operators give the
// CLI, opened the same way.
func ExampleConnect() {
	dir, err := os.MkdirTemp("", "strata-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	db, d, err := cli.Connect(ctx, filepath.Join(dir, "app.db"), "")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	m, err := migration.NewManager(db, d, exampleMigrations)
	if err != nil {
		fmt.Println(err)
		return
	}
	results, err := m.Up(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: applied %d migrations\n", d.Name(), len(results))
	// Output:
	// sqlite: applied 3 migrations
}
