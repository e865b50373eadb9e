package migration_test

import (
	"context"
	"fmt"
	"log"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

// The migrations of the Drift and Baseline examples.
func exampleSchema() []migration.Migration {
	return []migration.Migration{
		migration.SQL("0001_users", `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`, `DROP TABLE users`),
		migration.SQL("0002_users_name", `CREATE INDEX users_name ON users (name)`, `DROP INDEX users_name`, "0001_users"),
	}
}

// Every run records the schema it leaves. Drift compares the live schema
// with it and names what someone changed by hand since.
func ExampleManager_Drift() {
	path, cleanup := exampleDB()
	defer cleanup()
	db, err := sqlite.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	m, err := migration.NewManager(db, sqlite.New(), exampleSchema())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		log.Fatal(err)
	}
	rep, err := m.Drift(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("drifted after up:", rep.Drifted())

	// A hot fix applied by hand, outside the migrations.
	if _, err := db.ExecContext(ctx, `DROP INDEX users_name; ALTER TABLE users ADD COLUMN email TEXT`); err != nil {
		log.Fatal(err)
	}
	rep, err = m.Drift(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("drifted since", rep.Migration+":", rep.Drifted())
	for _, c := range rep.Diff.Changes {
		fmt.Println(c.Op, c.Object())
	}

	// Once the change is intended (a migration now does the same),
	// RecordSchema accepts it.
	if err := m.RecordSchema(ctx); err != nil {
		log.Fatal(err)
	}
	rep, err = m.Drift(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("drifted after RecordSchema:", rep.Drifted())
	// Output:
	// drifted after up: false
	// drifted since 0002_users_name: true
	// added column users.email
	// removed index users_name on users
	// drifted after RecordSchema: false
}

// A database created before strata managed it already has the schema of
// the first migrations. Baseline records them as applied without running
// them (and records the live schema for Drift); Up then applies only what
// is new.
func ExampleManager_Baseline() {
	path, cleanup := exampleDB()
	defer cleanup()
	db, err := sqlite.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// What the application created before it used strata.
	if _, err := db.ExecContext(ctx, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		log.Fatal(err)
	}

	m, err := migration.NewManager(db, sqlite.New(), exampleSchema())
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Baseline(ctx, "0001_users"); err != nil {
		log.Fatal(err)
	}
	rep, err := m.Drift(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("drifted after the baseline:", rep.Drifted())

	res, err := m.Up(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res {
		fmt.Println("applied", r.ID)
	}
	h, err := m.History(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range h {
		fmt.Printf("%d %s baselined=%v\n", r.Seq, r.ID, r.Baselined)
	}
	// Output:
	// drifted after the baseline: false
	// applied 0002_users_name
	// 1 0001_users baselined=true
	// 2 0002_users_name baselined=false
}
