package backup_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/strata-go/strata/backup"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/dialect/sqlite"
)

// Back a SQLite database up and restore it. The backup goes beside the
// database file, in "<file>.backups", with a checksum file that
// `sha256sum -c` reads.
func Example() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(filepath.Join(dir, "app.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')`); err != nil {
		log.Fatal(err)
	}

	f, err := backup.Create(ctx, backup.NewSQLite(), conn, backup.Options{Label: "before-cleanup", Keep: 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(filepath.Base(filepath.Dir(f.Path)), f.Database, f.Label, filepath.Ext(f.Path))

	if _, err := conn.ExecContext(ctx, `DROP TABLE notes`); err != nil {
		log.Fatal(err)
	}
	if err := backup.Restore(ctx, backup.NewSQLite(), conn, f.Path); err != nil {
		log.Fatal(err)
	}
	var body string
	if err := conn.QueryRowContext(ctx, `SELECT body FROM notes`).Scan(&body); err != nil {
		log.Fatal(err)
	}
	fmt.Println(body)
	// Output:
	// app.db.backups app before-cleanup .sqlite
	// keep me
}

// Back a PostgreSQL database up with pg_dump, keeping a week of nightly
// backups. The password in the DSN reaches pg_dump in PGPASSWORD, not on
// its command line.
func ExampleNewPostgres() {
	ctx := context.Background()
	dsn := "postgres://app:secret@db.internal:5432/app?sslmode=require"
	db, err := sql.Open(postgres.DriverName, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	b := backup.NewPostgres(dsn)
	b.PGDump = "/usr/lib/postgresql/16/bin/pg_dump" // when several versions are installed
	f, err := backup.Create(ctx, b, conn, backup.Options{Dir: "/var/backups/app", Label: "nightly", Keep: 7})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("backed up to", f.Path)
}
