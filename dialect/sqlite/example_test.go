package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

// openExample opens a SQLite file in a new temporary directory; cleanup
// closes it and removes the directory.
func openExample() (db *sql.DB, cleanup func()) {
	dir, err := os.MkdirTemp("", "strata-example")
	if err != nil {
		log.Fatal(err)
	}
	db, err = sqlite.Open(filepath.Join(dir, "app.db"))
	if err != nil {
		log.Fatal(err)
	}
	return db, func() { db.Close(); os.RemoveAll(dir) }
}

// printTable prints table's columns (name, type, NOT NULL, default), its
// indexes and its rows.
func printTable(ctx context.Context, db *sql.DB, table string) {
	rows, err := db.QueryContext(ctx, `SELECT name, type, "notnull", COALESCE(dflt_value, '') FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		log.Fatal(err)
	}
	var cols []string
	for rows.Next() {
		var name, typ, def string
		var notNull bool
		if err := rows.Scan(&name, &typ, &notNull, &def); err != nil {
			log.Fatal(err)
		}
		c := name + " " + typ
		if notNull {
			c += " NOT NULL"
		}
		if def != "" {
			c += " DEFAULT " + def
		}
		cols = append(cols, c)
	}
	rows.Close()
	fmt.Printf("columns: %s\n", strings.Join(cols, ", "))
	var indexes string
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(group_concat(name, ', '), '') FROM (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name)`, table).Scan(&indexes); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("indexes: %s\n", indexes)
	rows, err = db.QueryContext(ctx, `SELECT * FROM "`+table+`" ORDER BY rowid`)
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	names, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			log.Fatal(err)
		}
		fmt.Println("row:", strings.TrimSuffix(fmt.Sprintln(vals...), "\n"))
	}
}

// RebuildTable makes the changes SQLite's ALTER TABLE cannot: here, inside
// a migration, it drops an indexed column, renames another, retypes a
// third with a default and NOT NULL, and adds a CHECK. The rows, their
// rowids and the index on the renamed column survive.
func ExampleRebuildTable() {
	db, cleanup := openExample()
	defer cleanup()
	ctx := context.Background()

	ms := []migration.Migration{
		migration.SQL("0001_servers", `
			CREATE TABLE servers (id INTEGER PRIMARY KEY, addr TEXT, port TEXT, legacy INTEGER);
			CREATE INDEX servers_addr ON servers (addr);
			CREATE INDEX servers_legacy ON servers (legacy);
			INSERT INTO servers (id, addr, port, legacy) VALUES (1, 'alpha.test', '8080', 1), (2, 'beta.test', NULL, 0)`,
			`DROP TABLE servers`),
		&migration.Func{
			Name: "0002_servers_cleanup", Requires: []string{"0001_servers"},
			UpFn: func(ctx context.Context, tx *migration.Tx) error {
				return sqlite.RebuildTable(ctx, tx, "servers",
					sqlite.RemoveColumn("legacy"),
					sqlite.RenameColumn("addr", "host"),
					sqlite.AlterColumn("port", sqlite.SetType("INTEGER"), sqlite.Using("COALESCE(CAST(port AS INTEGER), 80)"),
						sqlite.SetNotNull(), sqlite.SetDefault("80")),
					sqlite.AddConstraint("CHECK (port BETWEEN 1 AND 65535)"),
				)
			},
			DownFn: func(ctx context.Context, tx *migration.Tx) error {
				return sqlite.RebuildTable(ctx, tx, "servers",
					sqlite.RenameColumn("host", "addr"),
					sqlite.AlterColumn("port", sqlite.SetType("TEXT"), sqlite.DropNotNull(), sqlite.DropDefault()),
					sqlite.DropCheck("port BETWEEN 1 AND 65535"),
					sqlite.AddColumn("legacy INTEGER"),
				)
			},
		},
	}
	m, err := migration.NewManager(db, sqlite.New(), ms)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		log.Fatal(err)
	}
	printTable(ctx, db, "servers")

	// Down rebuilds it back; the dropped column's values are gone.
	if _, err := m.Down(ctx); err != nil {
		log.Fatal(err)
	}
	printTable(ctx, db, "servers")
	// Output:
	// columns: id INTEGER, host TEXT, port INTEGER NOT NULL DEFAULT 80
	// indexes: servers_addr
	// row: 1 alpha.test 8080
	// row: 2 beta.test 80
	// columns: id INTEGER, addr TEXT, port TEXT, legacy INTEGER
	// indexes: servers_addr
	// row: 1 alpha.test 8080 <nil>
	// row: 2 beta.test 80 <nil>
}

// DropColumn drops a column whatever SQLite's ALTER TABLE DROP COLUMN
// thinks of it: an index on the column goes with it, as on PostgreSQL.
// A view that uses the column stops it, naming the view, and nothing
// changes.
func ExampleDropColumn() {
	db, cleanup := openExample()
	defer cleanup()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `
		CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, nickname TEXT);
		CREATE UNIQUE INDEX users_email ON users (email);
		CREATE INDEX users_name ON users (name);
		CREATE VIEW nicknames AS SELECT id, nickname FROM users;
		INSERT INTO users VALUES (1, 'ann', 'ann@example.com', 'annie')`); err != nil {
		log.Fatal(err)
	}

	// SQLite's own statement refuses an indexed column.
	_, err := db.ExecContext(ctx, `ALTER TABLE users DROP COLUMN email`)
	fmt.Println("ALTER TABLE refused:", err != nil)

	if err := sqlite.DropColumn(ctx, db, "users", "email"); err != nil {
		log.Fatal(err)
	}
	printTable(ctx, db, "users")

	err = sqlite.DropColumn(ctx, db, "users", "nickname")
	var dep *sqlite.DependencyError
	if errors.As(err, &dep) {
		fmt.Printf("refused: the %s %q uses %s\n", dep.Kind, dep.Name, dep.Column)
	}
	// Output:
	// ALTER TABLE refused: true
	// columns: id INTEGER, name TEXT NOT NULL, nickname TEXT
	// indexes: users_name
	// row: 1 ann annie
	// refused: the view "nicknames" uses nickname
}
