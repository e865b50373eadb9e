package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/internal/testdb/pgtest"
)

// TestSessionRestore: what the session had changed before it was saved
// (a search_path, a timeout, a role) comes back after a migration changed
// it again, and what the migration added goes; a transaction left open is
// committed or rolled back as asked, and one that failed is rolled back
// and reported.
func TestSessionRestore(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := t.Context()
	role := fmt.Sprintf("strata_session_%d", time.Now().UnixNano())
	for _, s := range []string{`CREATE SCHEMA app`, `CREATE ROLE ` + role + ` NOLOGIN`, `GRANT ALL ON SCHEMA app, public TO ` + role} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = db.ExecContext(context.Background(), `DROP OWNED BY `+role)
		_, _ = db.ExecContext(context.Background(), `DROP ROLE IF EXISTS `+role)
	})
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
		err := conn.QueryRowContext(ctx, `SELECT concat_ws('|', current_user, current_setting('search_path'),
			current_setting('statement_timeout'), current_setting('lock_timeout'), current_setting('DateStyle'))`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exec(`SET search_path = app, public`, `SET statement_timeout = '7s'`, `SET ROLE `+role)
	d := postgres.New()
	sess, err := d.SaveSession(ctx, conn, "strata_migrations")
	if err != nil {
		t.Fatal(err)
	}
	if sess.Schema() != "app" || sess.Reusable() {
		t.Errorf("Schema() = %q, Reusable() = %v; want app, false", sess.Schema(), sess.Reusable())
	}
	want := probe()

	exec(`RESET ROLE`, `SELECT pg_catalog.set_config('search_path', '', false)`, `SET statement_timeout = '1min'`,
		`SET lock_timeout = '3s'`, `SET DateStyle = 'German'`, `BEGIN`, `CREATE TABLE public.rolled_back (id int)`)
	if err := sess.Restore(ctx, conn, false); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := probe(); got != want {
		t.Errorf("after Restore the session is %s, want %s", got, want)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_class WHERE relname = 'rolled_back'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the transaction left open was not rolled back (%d, %v)", n, err)
	}
	if in, err := d.InTransaction(conn); err != nil || in {
		t.Errorf("InTransaction after Restore = %v, %v; want false", in, err)
	}

	exec(`BEGIN`, `CREATE TABLE app.committed (id int)`)
	if in, err := d.InTransaction(conn); err != nil || !in {
		t.Errorf("InTransaction inside BEGIN = %v, %v; want true", in, err)
	}
	if err := sess.Restore(ctx, conn, true); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_class WHERE relname = 'committed'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the transaction left open was not committed (%d, %v)", n, err)
	}

	exec(`BEGIN`)
	if _, err := conn.ExecContext(ctx, `SELECT 1/0`); err == nil {
		t.Fatal("1/0 succeeded")
	}
	err = sess.Restore(ctx, conn, true)
	if err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Errorf("Restore after a failed transaction = %v, want it reported rolled back", err)
	}
	if got := probe(); got != want {
		t.Errorf("after Restore the session is %s, want %s", got, want)
	}
}
