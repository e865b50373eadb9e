package backup_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/strata-go/strata/backup"
	"github.com/strata-go/strata/dialect/sqlite"
)

// Restore checks a backup against its checksum before it touches the
// database: a damaged copy is refused and the database is left as it is;
// the intact one brings the data back.
func ExampleRestore() {
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
	if _, err := conn.ExecContext(ctx, `CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER); INSERT INTO orders VALUES (1, 250), (2, 990)`); err != nil {
		log.Fatal(err)
	}
	f, err := backup.Create(ctx, backup.NewSQLite(), conn, backup.Options{Label: "nightly"})
	if err != nil {
		log.Fatal(err)
	}

	// Someone deletes rows; someone else damages a copy of the backup.
	if _, err := conn.ExecContext(ctx, `DELETE FROM orders WHERE id = 2`); err != nil {
		log.Fatal(err)
	}
	damaged := filepath.Join(dir, "damaged.sqlite")
	data, err := os.ReadFile(f.Path)
	if err != nil {
		log.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	sum, err := os.ReadFile(f.Path + backup.ChecksumExt)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(damaged, data, 0o600); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(damaged+backup.ChecksumExt, sum, 0o600); err != nil {
		log.Fatal(err)
	}

	count := func() (n int) {
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders`).Scan(&n); err != nil {
			log.Fatal(err)
		}
		return n
	}
	err = backup.Restore(ctx, backup.NewSQLite(), conn, damaged)
	fmt.Println("damaged copy refused:", errors.Is(err, backup.ErrChecksum), "- orders:", count())

	if err := backup.Restore(ctx, backup.NewSQLite(), conn, f.Path); err != nil {
		log.Fatal(err)
	}
	fmt.Println("restored - orders:", count())
	// Output:
	// damaged copy refused: true - orders: 1
	// restored - orders: 2
}
