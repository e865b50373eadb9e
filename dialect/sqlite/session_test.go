package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
)

// TestSessionRestore: pragmas a migration changes come back as saved,
// databases it attached are detached, temporary objects it created are
// dropped (one shadowing a main table among them), those there before
// stay, and a transaction left open is committed or rolled back as asked.
func TestSessionRestore(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(stmts ...string) {
		t.Helper()
		for _, s := range stmts {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	probe := func() string {
		t.Helper()
		var s string
		err := conn.QueryRowContext(ctx, `SELECT concat_ws('|',
			(SELECT * FROM pragma_foreign_keys), (SELECT * FROM pragma_legacy_alter_table), (SELECT * FROM pragma_recursive_triggers),
			(SELECT * FROM pragma_query_only), (SELECT * FROM pragma_writable_schema),
			(SELECT group_concat(name) FROM pragma_database_list WHERE name <> 'temp'),
			(SELECT group_concat(name) FROM temp.sqlite_schema))`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exec(`CREATE TABLE t (id INTEGER)`, `CREATE TEMP TABLE kept (id INTEGER)`, `PRAGMA recursive_triggers = ON`)
	d := sqlite.New()
	sess, err := d.SaveSession(ctx, conn, "strata_migrations")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.(interface{ Close() error }).Close()
	if sess.Schema() != "main" || !sess.Reusable() {
		t.Errorf("Schema() = %q, Reusable() = %v; want main, true", sess.Schema(), sess.Reusable())
	}
	want := probe()
	count := func() int {
		t.Helper()
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM main.t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	exec(`PRAGMA foreign_keys = OFF`, `PRAGMA legacy_alter_table = ON`, `PRAGMA recursive_triggers = OFF`,
		`ATTACH DATABASE ':memory:' AS aux`, `CREATE TEMP TABLE t (shadow INTEGER)`, `CREATE TEMP VIEW v AS SELECT 1`,
		`CREATE TEMP TRIGGER tr AFTER INSERT ON main.t BEGIN SELECT 1; END`,
		`BEGIN`, `INSERT INTO main.t VALUES (1)`, `PRAGMA query_only = ON`)
	if in, err := d.InTransaction(conn); err != nil || !in {
		t.Errorf("InTransaction inside BEGIN = %v, %v; want true", in, err)
	}
	if err := sess.Restore(ctx, conn, false); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := probe(); got != want {
		t.Errorf("after Restore the session is %s, want %s", got, want)
	}
	if n := count(); n != 0 {
		t.Errorf("rows = %d after Restore without commit, want 0", n)
	}
	exec(`BEGIN`, `INSERT INTO main.t VALUES (2)`)
	if err := sess.Restore(ctx, conn, true); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if n := count(); n != 1 {
		t.Errorf("rows = %d after Restore with commit, want 1", n)
	}
	if in, err := d.InTransaction(conn); err != nil || in {
		t.Errorf("InTransaction after Restore = %v, %v; want false", in, err)
	}
}
