package mysql_test

import (
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/internal/testdb/mytest"
)

// TestSessionRestore: the variables a migration changes come back as
// saved, the database is selected again, and a transaction left open (by
// autocommit = 0, as the Sakila data script leaves it) is committed or
// rolled back as asked.
func TestSessionRestore(t *testing.T) {
	db, _ := mytest.New(t)
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
		err := conn.QueryRowContext(ctx, `SELECT CONCAT_WS('|', DATABASE(), @@autocommit, @@foreign_key_checks, @@unique_checks,
			@@sql_mode, @@time_zone, @@character_set_client, @@collation_connection)`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exec(`SET time_zone = '+01:00'`, `CREATE TABLE t (id INT) ENGINE=InnoDB`)
	d := mysql.New()
	sess, err := d.SaveSession(ctx, conn, "strata_migrations")
	if err != nil {
		t.Fatal(err)
	}
	want := probe()
	if !strings.HasPrefix(want, sess.Schema()+"|") || sess.Reusable() {
		t.Errorf("Schema() = %q, Reusable() = %v; want the current database, false", sess.Schema(), sess.Reusable())
	}
	count := func() string {
		t.Helper()
		var n string
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	exec(`SET autocommit = 0`, `INSERT INTO t VALUES (1)`, `SET foreign_key_checks = 0, unique_checks = 0`,
		`SET sql_mode = 'ANSI_QUOTES'`, `SET time_zone = '+05:00'`, `SET NAMES latin1`, `USE mysql`)
	if err := sess.Restore(ctx, conn, false); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := probe(); got != want {
		t.Errorf("after Restore the session is %s, want %s", got, want)
	}
	if n := count(); n != "0" {
		t.Errorf("rows = %s after Restore without commit, want 0 (rolled back)", n)
	}

	exec(`SET autocommit = 0`, `INSERT INTO t VALUES (2)`)
	if err := sess.Restore(ctx, conn, true); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if n := count(); n != "1" {
		t.Errorf("rows = %s after Restore with commit, want 1", n)
	}
	exec(`START TRANSACTION`, `INSERT INTO t VALUES (3)`)
	if err := sess.Restore(ctx, conn, true); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if n := count(); n != "2" {
		t.Errorf("rows = %s after Restore of START TRANSACTION with commit, want 2", n)
	}
	if got := probe(); got != want {
		t.Errorf("after Restore the session is %s, want %s", got, want)
	}
}
