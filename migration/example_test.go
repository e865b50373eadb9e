package migration_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

// exampleDB returns the path of a SQLite file in a fresh temporary
// directory, and a function that removes it.
func exampleDB() (path string, cleanup func()) {
	dir, err := os.MkdirTemp("", "strata-example")
	if err != nil {
		log.Fatal(err)
	}
	return filepath.Join(dir, "app.db"), func() { os.RemoveAll(dir) }
}

func Example() {
	path, cleanup := exampleDB()
	defer cleanup()

	db, err := sqlite.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	m, err := migration.NewManager(db, sqlite.New(), []migration.Migration{
		migration.SQL("0001_users",
			`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
			`DROP TABLE users`),
		migration.SQL("0002_posts",
			`CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id))`,
			`DROP TABLE posts`,
			"0001_users"),
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	results, err := m.Up(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Println("applied", r.ID)
	}
	// Every later start finds nothing to do, with one small query.
	results, err = m.Up(ctx)
	fmt.Println(len(results), err)
	// Output:
	// applied 0001_users
	// applied 0002_posts
	// 0 <nil>
}

// addEmail is a migration written as a type.
type addEmail struct{ migration.Base }

func (addEmail) ID() string             { return "0002_add_email" }
func (addEmail) Description() string    { return "users get an email address" }
func (addEmail) Dependencies() []string { return []string{"0001_users"} }

func (addEmail) Up(ctx context.Context, tx *migration.Tx) error {
	_, err := tx.ExecContext(ctx, `ALTER TABLE users ADD COLUMN email TEXT`)
	return err
}

func (addEmail) Down(ctx context.Context, tx *migration.Tx) error {
	// ALTER TABLE ... DROP COLUMN where the database can, a table rebuild
	// that keeps indexes, triggers and rows on SQLite.
	return tx.DropColumn(ctx, "users", "email")
}

func ExampleManager_Status() {
	path, cleanup := exampleDB()
	defer cleanup()
	db, err := sqlite.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	m, err := migration.NewManager(db, sqlite.New(), []migration.Migration{
		migration.SQL("0001_users", `CREATE TABLE users (id INTEGER PRIMARY KEY)`, `DROP TABLE users`),
		addEmail{},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.UpTo(ctx, "0001_users"); err != nil {
		log.Fatal(err)
	}
	status, err := m.Status(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range status {
		fmt.Printf("%s: %s %q\n", s.ID, s.State, s.Description)
	}
	// Output:
	// 0001_users: applied ""
	// 0002_add_email: pending "users get an email address"
}

func ExampleNewManager_cycle() {
	path, cleanup := exampleDB()
	defer cleanup()
	db, err := sqlite.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	_, err = migration.NewManager(db, sqlite.New(), []migration.Migration{
		migration.SQL("a", ``, ``, "c"),
		migration.SQL("b", ``, ``, "a"),
		migration.SQL("c", ``, ``, "b"),
	})
	fmt.Println(errors.Is(err, migration.ErrCycle))
	fmt.Println(err)
	// Output:
	// true
	// migration: dependency cycle: "a" -> "c" -> "b" -> "a"
}

func ExampleManager_Up_failure() {
	path, cleanup := exampleDB()
	defer cleanup()
	db, err := sqlite.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	errNoData := errors.New("no data to migrate")
	m, err := migration.NewManager(db, sqlite.New(), []migration.Migration{
		&migration.Func{
			Name:   "0001_backfill",
			UpFn:   func(context.Context, *migration.Tx) error { return errNoData },
			DownFn: func(context.Context, *migration.Tx) error { return nil },
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = m.Up(context.Background())
	var me *migration.Error
	if errors.As(err, &me) {
		fmt.Println(me.ID, me.Step, errors.Is(err, errNoData))
	}
	fmt.Println(err)
	// Output:
	// 0001_backfill up true
	// migration 0001_backfill: up: no data to migrate
}
