package sqlite_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/sqlite"
)

func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDialect(t *testing.T) {
	d := sqlite.New()
	if got, ok := dialect.Lookup("sqlite"); !ok || got.Name() != "sqlite" {
		t.Fatalf("Lookup(sqlite) = %v, %v", got, ok)
	}
	if err := dialect.Register(sqlite.New()); err == nil {
		t.Error("registering sqlite twice succeeded")
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Odd identifiers survive quoting.
	for _, name := range []string{"order", `we"ird`, "my col", "ünï"} {
		q := `CREATE TABLE ` + d.QuoteIdent(name) + ` (` + d.QuoteIdent(name) + ` INTEGER)`
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		ok, err := d.HasTable(t.Context(), db, name)
		if err != nil || !ok {
			t.Errorf("HasTable(%q) = %v, %v", name, ok, err)
		}
	}
	if ok, err := d.HasTable(t.Context(), db, "missing"); err != nil || ok {
		t.Errorf("HasTable(missing) = %v, %v", ok, err)
	}
	for range 2 { // idempotent
		for _, stmt := range d.VersionTableDDL("main.versions") {
			if _, err := db.Exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ok, err := d.HasTable(t.Context(), db, "main.versions"); err != nil || !ok {
		t.Errorf("HasTable(main.versions) = %v, %v", ok, err)
	}
	if d.Placeholder(3) != "?" || !d.TransactionalDDL() {
		t.Error("placeholder or transactional DDL wrong")
	}
}

func TestForeignKeyHooks(t *testing.T) {
	d := sqlite.New()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "fk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id) ON DELETE CASCADE); INSERT INTO p VALUES (1); INSERT INTO c VALUES (10, 1)`); err != nil {
		t.Fatal(err)
	}
	c := conn(t, db)
	restore, err := d.PrepareConn(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	pragma := func() int {
		var on int
		if err := c.QueryRowContext(t.Context(), `PRAGMA foreign_keys`).Scan(&on); err != nil {
			t.Fatal(err)
		}
		return on
	}
	if pragma() != 0 {
		t.Fatal("foreign keys still on after PrepareConn")
	}
	tx, err := c.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// With enforcement off, deleting the parent does not cascade ...
	if _, err := tx.Exec(`DELETE FROM p`); err != nil {
		t.Fatal(err)
	}
	// ... and the check before commit names the orphan.
	err = d.BeforeCommit(t.Context(), tx)
	var fe *sqlite.ForeignKeyError
	if !errors.As(err, &fe) || len(fe.Violations) != 1 || fe.Violations[0].Table != "c" || fe.Violations[0].RowID != 10 || fe.Violations[0].Parent != "p" {
		t.Fatalf("BeforeCommit = %v, want c rowid 10 -> p", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := restore(t.Context()); err != nil {
		t.Fatal(err)
	}
	if pragma() != 1 {
		t.Fatal("foreign keys not restored")
	}
	c.Close() // the pool has one connection
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM c`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("child rows = %d, %v; want 1", n, err)
	}
}

// rawTx is a transaction that reaches its driver connection, as the
// manager's transactions do in BeforeCommit.
type rawTx struct {
	*sql.Tx
	conn *sql.Conn
}

func (t rawTx) Raw(f func(any) error) error { return t.conn.Raw(f) }

// CheckForeignKeys asks the driver directly first when it can; it must
// find exactly what the plain query finds, inside the transaction.
func TestCheckForeignKeysRaw(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "fk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id)); INSERT INTO p VALUES (1), (2); INSERT INTO c VALUES (10, 1), (20, 2)`); err != nil {
		t.Fatal(err)
	}
	c := conn(t, db)
	if _, err := c.ExecContext(t.Context(), `PRAGMA foreign_keys = OFF`); err != nil {
		t.Fatal(err)
	}
	tx, err := c.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, ex := range []dialect.Execer{rawTx{tx, c}, tx} {
		if err := sqlite.CheckForeignKeys(t.Context(), ex); err != nil {
			t.Fatalf("%T: clean data: %v", ex, err)
		}
	}
	if _, err := tx.Exec(`DELETE FROM p WHERE id = 2`); err != nil { // uncommitted
		t.Fatal(err)
	}
	for _, ex := range []dialect.Execer{rawTx{tx, c}, tx} {
		err := sqlite.CheckForeignKeys(t.Context(), ex)
		var fe *sqlite.ForeignKeyError
		if !errors.As(err, &fe) || len(fe.Violations) != 1 || fe.Violations[0].RowID != 20 {
			t.Fatalf("%T: CheckForeignKeys = %v, want c rowid 20 -> p", ex, err)
		}
	}
}
