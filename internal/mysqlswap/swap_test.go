package mysqlswap_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/internal/mysqlswap"
	"github.com/strata-go/strata/internal/testdb"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/migration"
)

// oldSchema is the database before a restore; newSchema what the dump
// loaded into the scratch database has. Both have several tables,
// triggers on several tables (two firing on the same event, one under
// another sql_mode), views on views, procedures and functions; some
// objects are only on one side, some differ, some are the same.
var oldSchema = []string{
	"CREATE TABLE a (id int PRIMARY KEY, name varchar(50), n int DEFAULT 0)",
	"CREATE TABLE b (id int PRIMARY KEY, a_id int, note text, CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a(id))",
	"CREATE TABLE log (id int AUTO_INCREMENT PRIMARY KEY, msg varchar(100))",
	"CREATE TABLE only_old (x int)",
	"INSERT INTO a (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three')",
	"INSERT INTO b VALUES (1, 1, 'b1'), (2, 3, NULL)",
	"INSERT INTO only_old VALUES (7)",
	"CREATE TRIGGER a_bi1 BEFORE INSERT ON a FOR EACH ROW SET NEW.name = UPPER(NEW.name)",
	"CREATE TRIGGER a_bi2 BEFORE INSERT ON a FOR EACH ROW FOLLOWS a_bi1 SET NEW.n = NEW.n + 1",
	"SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'",
	"CREATE TRIGGER a_ai AFTER INSERT ON a FOR EACH ROW INSERT INTO log (msg) VALUES (CONCAT('old a ', NEW.id))",
	"SET SESSION sql_mode = DEFAULT",
	"CREATE TRIGGER b_bu BEFORE UPDATE ON b FOR EACH ROW SET NEW.note = CONCAT(OLD.note, '+')",
	"CREATE VIEW v_a AS SELECT id, name FROM a",
	"CREATE VIEW v_ab AS SELECT v_a.name, b.note FROM v_a JOIN b ON b.a_id = v_a.id",
	"CREATE VIEW v_top AS SELECT name FROM v_ab WHERE note IS NOT NULL",
	"CREATE PROCEDURE p_old_only() SELECT 1",
	"CREATE PROCEDURE p_add(IN x int) INSERT INTO log (msg) VALUES (CONCAT('old ', x))",
	"CREATE FUNCTION f_double(x int) RETURNS int DETERMINISTIC RETURN x * 2",
}

var newSchema = []string{
	"CREATE TABLE a (id int PRIMARY KEY, name varchar(80), n int DEFAULT 0)",
	"CREATE TABLE b (id int PRIMARY KEY, a_id int, note text, CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a(id))",
	"CREATE TABLE log (id int AUTO_INCREMENT PRIMARY KEY, msg varchar(100))",
	"CREATE TABLE only_new (y int)",
	"INSERT INTO a (id, name) VALUES (1, 'uno'), (4, 'cuatro')",
	"INSERT INTO b VALUES (1, 4, 'b1 new')",
	"INSERT INTO log (msg) VALUES ('kept')",
	"INSERT INTO only_new VALUES (8), (9)",
	"CREATE TRIGGER a_bi1 BEFORE INSERT ON a FOR EACH ROW SET NEW.name = LOWER(NEW.name)",
	"CREATE TRIGGER a_bi2 BEFORE INSERT ON a FOR EACH ROW FOLLOWS a_bi1 SET NEW.n = NEW.n + 1",
	"CREATE TRIGGER a_bu BEFORE UPDATE ON a FOR EACH ROW SET NEW.n = OLD.n + 10",
	"CREATE TRIGGER b_bu BEFORE UPDATE ON b FOR EACH ROW SET NEW.note = CONCAT(OLD.note, '+')",
	"SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'",
	"CREATE TRIGGER only_new_bi BEFORE INSERT ON only_new FOR EACH ROW SET NEW.y = NEW.y * 3",
	"SET SESSION sql_mode = DEFAULT",
	"CREATE VIEW v_a AS SELECT id, name, n FROM a",
	"CREATE VIEW v_ab AS SELECT v_a.name, b.note FROM v_a JOIN b ON b.a_id = v_a.id",
	"CREATE VIEW v_top AS SELECT name FROM v_ab WHERE note IS NOT NULL",
	"CREATE VIEW v_new AS SELECT COUNT(*) AS c FROM v_top",
	"CREATE PROCEDURE p_add(IN x int) INSERT INTO log (msg) VALUES (CONCAT('new ', x))",
	"CREATE PROCEDURE p_new() SELECT 2",
	"CREATE FUNCTION f_double(x int) RETURNS int DETERMINISTIC RETURN x * 2",
	"CREATE FUNCTION f_triple(x int) RETURNS int DETERMINISTIC RETURN x * 3",
}

// swapFixture is a database with oldSchema and a scratch database loaded
// with newSchema, as a restore has them right before it swaps.
type swapFixture struct {
	db                    *sql.DB
	target, scratch, hold string
	old, new              string // snapshots
}

func newFixture(t *testing.T) *swapFixture {
	t.Helper()
	db, _ := mytest.New(t)
	f := &swapFixture{db: db}
	f.target = testdb.Strings(t, db, "SELECT DATABASE()")[0]
	f.scratch, f.hold = mysqlswap.Names(f.target)
	t.Cleanup(func() { dropRestoreDatabases(db, f.target) })
	c := pin(t, db)
	defer c.Close()
	execAll(t, c, oldSchema...)
	execAll(t, c, "CREATE DATABASE "+quote(f.scratch), "USE "+quote(f.scratch))
	execAll(t, c, newSchema...)
	execAll(t, c, "USE "+quote(f.target))
	f.old, f.new = snapshot(t, db, f.target), snapshot(t, db, f.scratch)
	return f
}

// swap runs the swap on a connection of its own with hook, as a restore
// does: foreign key checks off, the target the current database.
func (f *swapFixture) swap(t *testing.T, hook mysqlswap.Hook) error {
	t.Helper()
	c := pin(t, f.db)
	defer c.Close()
	execAll(t, c, "SET SESSION foreign_key_checks = 0")
	return mysqlswap.Swap(t.Context(), c, f.target, f.scratch, f.hold, hook)
}

// recover runs Recover (and with hook, the hooked one) on a connection
// of its own.
func (f *swapFixture) recover(t *testing.T, hook mysqlswap.Hook) error {
	t.Helper()
	c := pin(t, f.db)
	defer c.Close()
	if hook != nil {
		return mysqlswap.RecoverWith(t.Context(), c, f.target, hook)
	}
	return mysqlswap.Recover(t.Context(), c, f.target)
}

// migrate runs a migration with the MySQL dialect; its locked run
// recovers first.
func (f *swapFixture) migrate(t *testing.T) error {
	t.Helper()
	m, err := migration.NewManager(f.db, mysql.New(), []migration.Migration{migration.SQL("0001_noop", "DO 0", "DO 0")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Up(t.Context())
	return err
}

// check fails unless the target is exactly want ("old" or "new") and no
// database of a restore is left.
func (f *swapFixture) check(t *testing.T, want string) {
	t.Helper()
	got := snapshot(t, f.db, f.target)
	switch {
	case got == map[string]string{"old": f.old, "new": f.new}[want]:
	case got == f.old:
		t.Errorf("database is the old one, want the %s one", want)
	case got == f.new:
		t.Errorf("database is the restored one, want the %s one", want)
	default:
		t.Errorf("database is a mix: against old %v; against new %v", testdb.LineDiff(got, f.old, 20), testdb.LineDiff(got, f.new, 20))
	}
	if left := restoreDatabases(t, f.db, f.target); len(left) > 0 {
		t.Errorf("restore databases left: %v", left)
	}
}

// swapSteps records the steps of a whole swap.
func swapSteps(t *testing.T) []string {
	t.Helper()
	f := newFixture(t)
	var steps []string
	if err := f.swap(t, func(s string) error { steps = append(steps, s); return nil }); err != nil {
		t.Fatalf("swap: %v", err)
	}
	execAll(t, f.db, "DROP DATABASE "+quote(f.scratch)) // as the restore does
	f.check(t, "new")
	return steps
}

// stopAt returns a hook that stops at the n-th step named step (from 1),
// or at the i-th step of all if step is "".
func stopAt(step string, n int) mysqlswap.Hook {
	seen := 0
	return func(s string) error {
		if step == "" || s == step {
			seen++
			if seen == n {
				return mysqlswap.ErrStop
			}
		}
		return nil
	}
}

// TestMySQLSwapRecovery stops a swap after each of its steps, as a killed
// restore would, then recovers by Recover or by a migration run: the
// database must be exactly the old one if the tables had not moved, and
// exactly the restored one if they had, with nothing of the restore left.
func TestMySQLSwapRecovery(t *testing.T) {
	steps := swapSteps(t)
	t.Logf("steps: %q", steps)
	for _, want := range []string{"create hold", "journal", "drop trigger a_bi1", "rename", "create trigger a_bu",
		"drop view v_a", "drop procedure p_old_only", "create view v_new", "create function f_triple", "done"} {
		if !slices.Contains(steps, want) {
			t.Fatalf("no step %q", want)
		}
	}
	moved := slices.Index(steps, "rename")
	for i, step := range steps {
		want := "old"
		if i >= moved {
			want = "new"
		}
		for _, by := range []string{"recover", "migrate"} {
			t.Run(fmt.Sprintf("%02d %s/%s", i, step, by), func(t *testing.T) {
				f := newFixture(t)
				if err := f.swap(t, stopAt("", i+1)); !errors.Is(err, mysqlswap.ErrStop) {
					t.Fatalf("swap: %v, want it stopped", err)
				}
				if by == "recover" {
					if err := f.recover(t, nil); err != nil {
						t.Fatalf("Recover: %v", err)
					}
				} else if err := f.migrate(t); err != nil {
					t.Fatalf("migrate: %v", err)
				}
				f.check(t, want)
				// Nothing to do: again changes nothing.
				if err := f.recover(t, nil); err != nil {
					t.Fatalf("Recover again: %v", err)
				}
				f.check(t, want)
			})
		}
	}
}

// TestMySQLSwapRecoveryInterrupted stops the recovery itself after each of
// its steps, for swaps stopped before and after the tables moved; the
// next recovery still ends in exactly one state.
func TestMySQLSwapRecoveryInterrupted(t *testing.T) {
	for _, tt := range []struct {
		stop string // the swap's step
		want string
	}{
		{"drop trigger a_bi2", "old"},
		{"create trigger a_bi1", "new"},
		{"create view v_a", "new"},
	} {
		// The steps a recovery from there takes.
		f := newFixture(t)
		if err := f.swap(t, stopAt(tt.stop, 1)); !errors.Is(err, mysqlswap.ErrStop) {
			t.Fatalf("swap: %v, want it stopped", err)
		}
		var steps []string
		if err := f.recover(t, func(s string) error { steps = append(steps, s); return nil }); err != nil {
			t.Fatalf("Recover: %v", err)
		}
		f.check(t, tt.want)
		t.Logf("recovery after %s: %q", tt.stop, steps)
		for i, step := range steps {
			t.Run(fmt.Sprintf("%s/%02d %s", tt.stop, i, step), func(t *testing.T) {
				f := newFixture(t)
				if err := f.swap(t, stopAt(tt.stop, 1)); !errors.Is(err, mysqlswap.ErrStop) {
					t.Fatalf("swap: %v, want it stopped", err)
				}
				if err := f.recover(t, stopAt("", i+1)); !errors.Is(err, mysqlswap.ErrStop) {
					t.Fatalf("Recover: %v, want it stopped", err)
				}
				if err := f.recover(t, nil); err != nil {
					t.Fatalf("Recover after a stopped one: %v", err)
				}
				f.check(t, tt.want)
			})
		}
	}
}

// TestMySQLSwapRecoveryFallsBack: a recovery that cannot create the
// restored views puts the old database back instead.
func TestMySQLSwapRecoveryFallsBack(t *testing.T) {
	f := newFixture(t)
	if err := f.swap(t, stopAt("create trigger a_bu", 1)); !errors.Is(err, mysqlswap.ErrStop) {
		t.Fatalf("swap: %v, want it stopped", err)
	}
	failed := false
	err := f.recover(t, func(s string) error {
		if s == "create view v_new" && !failed {
			failed = true
			return errors.New("injected failure")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if !failed {
		t.Fatal("the recovery did not create v_new")
	}
	f.check(t, "old")
}

// TestMySQLSwapUndo: a swap that fails at any step puts the old database
// back itself.
func TestMySQLSwapUndo(t *testing.T) {
	steps := swapSteps(t)
	for i, step := range steps {
		if step == "create hold" || step == "journal" {
			continue // the hook failing there is a failure before anything changed
		}
		t.Run(fmt.Sprintf("%02d %s", i, step), func(t *testing.T) {
			f := newFixture(t)
			n := 0
			err := f.swap(t, func(s string) error {
				if n++; n == i+1 {
					return errors.New("injected failure")
				}
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), "injected failure") || !strings.Contains(err.Error(), "is unchanged") {
				t.Fatalf("swap: %v", err)
			}
			execAll(t, f.db, "DROP DATABASE "+quote(f.scratch))
			f.check(t, "old")
		})
	}
}

// TestRecoverTouchesOnlyItsTarget: Recover of one database leaves another's
// unfinished swap alone, also where their names differ only in a
// character LIKE treats as a wildcard, and leaves alone a database whose
// name matches the restore databases' prefix only through such a
// wildcard.
func TestRecoverTouchesOnlyItsTarget(t *testing.T) {
	db, _ := mytest.New(t)
	base := testdb.Strings(t, db, "SELECT DATABASE()")[0]
	mk := func(name string) *swapFixture {
		execAll(t, db, "CREATE DATABASE "+quote(name)+" CHARACTER SET utf8mb4")
		t.Cleanup(func() {
			db.Exec("DROP DATABASE IF EXISTS " + quote(name))
			dropRestoreDatabases(db, name)
		})
		f := &swapFixture{db: db, target: name}
		f.scratch, f.hold = mysqlswap.Names(name)
		c := pin(t, db)
		defer c.Close()
		execAll(t, c, "USE "+quote(name))
		execAll(t, c, oldSchema...)
		execAll(t, c, "CREATE DATABASE "+quote(f.scratch), "USE "+quote(f.scratch))
		execAll(t, c, newSchema...)
		execAll(t, c, "USE "+quote(base))
		f.old, f.new = snapshot(t, db, f.target), snapshot(t, db, f.scratch)
		return f
	}
	ab, axb := mk(base+"_a_b"), mk(base+"_aXb")
	// A database named like a_b's restore databases, but with an X where
	// the prefix has its last '_'.
	p := mysqlswap.Prefix(ab.target)
	decoy := p[:len(p)-1] + "Xo0123456789abcdef"
	execAll(t, db, "CREATE DATABASE "+quote(decoy))
	t.Cleanup(func() { db.Exec("DROP DATABASE IF EXISTS " + quote(decoy)) })

	swapIn := func(f *swapFixture) {
		c := pin(t, db)
		defer c.Close()
		execAll(t, c, "USE "+quote(f.target), "SET SESSION foreign_key_checks = 0")
		if err := mysqlswap.Swap(t.Context(), c, f.target, f.scratch, f.hold, stopAt("create trigger a_bu", 1)); !errors.Is(err, mysqlswap.ErrStop) {
			t.Fatalf("swap: %v, want it stopped", err)
		}
		execAll(t, c, "USE "+quote(base), "SET SESSION foreign_key_checks = 1")
	}
	swapIn(ab)
	mid := snapshot(t, db, ab.target)
	if mid == ab.old || mid == ab.new {
		t.Fatal("the stopped swap left no mix to recover")
	}
	c := pin(t, db)
	defer c.Close()
	if err := mysqlswap.Recover(t.Context(), c, axb.target); err != nil {
		t.Fatalf("Recover %s: %v", axb.target, err)
	}
	if got := snapshot(t, db, ab.target); got != mid {
		t.Errorf("Recover of %s changed %s: %v", axb.target, ab.target, testdb.LineDiff(got, mid, 20))
	}
	if left := restoreDatabases(t, db, ab.target); len(left) != 2 {
		t.Errorf("restore databases of %s after Recover of %s: %v, want the scratch and hold ones", ab.target, axb.target, left)
	}
	if err := mysqlswap.Recover(t.Context(), c, ab.target); err != nil {
		t.Fatalf("Recover %s: %v", ab.target, err)
	}
	if got := snapshot(t, db, ab.target); got != ab.new {
		t.Errorf("Recover of %s did not finish its restore: %v", ab.target, testdb.LineDiff(got, ab.new, 20))
	}
	if n := testdb.Strings(t, db, "SELECT schema_name FROM information_schema.schemata WHERE schema_name = ?", decoy); len(n) != 1 {
		t.Errorf("Recover dropped %s, which is not a restore database", decoy)
	}
	// The other database's own swap is still its own to recover.
	if got := snapshot(t, db, axb.target); got != axb.old {
		t.Errorf("%s changed: %v", axb.target, testdb.LineDiff(got, axb.old, 20))
	}
}

// TestRecoverKeepsSession: Recover leaves the session's database (also
// none), sql_mode and foreign_key_checks as it found them.
func TestRecoverKeepsSession(t *testing.T) {
	for _, none := range []bool{false, true} {
		t.Run(fmt.Sprint("no database ", none), func(t *testing.T) {
			f := newFixture(t)
			if err := f.swap(t, stopAt("create trigger a_bu", 1)); !errors.Is(err, mysqlswap.ErrStop) {
				t.Fatalf("swap: %v, want it stopped", err)
			}
			c := pin(t, f.db)
			defer c.Close()
			if none {
				execAll(t, c, "CREATE DATABASE "+quote(f.target+"_gone"), "USE "+quote(f.target+"_gone"), "DROP DATABASE "+quote(f.target+"_gone"))
			}
			execAll(t, c, "SET SESSION sql_mode = 'ANSI_QUOTES'", "SET SESSION foreign_key_checks = 1")
			read := func() string {
				var db sql.NullString
				var mode string
				var fk int
				if err := c.QueryRowContext(t.Context(), "SELECT DATABASE(), @@SESSION.sql_mode, @@SESSION.foreign_key_checks").Scan(&db, &mode, &fk); err != nil {
					t.Fatal(err)
				}
				return fmt.Sprint(db, mode, fk)
			}
			before := read()
			if err := mysqlswap.Recover(t.Context(), c, f.target); err != nil {
				t.Fatalf("Recover: %v", err)
			}
			if after := read(); after != before {
				t.Errorf("session after Recover: %s, before: %s", after, before)
			}
			f.check(t, "new")
		})
	}
}

// snapshot describes schema for comparison with another: its tables with
// their definitions and a checksum of their rows, and its triggers (in
// firing order), views and routines with their definitions and sql_mode.
// The tables of a migration run are left out.
func snapshot(t *testing.T, db *sql.DB, schema string) string {
	t.Helper()
	var b strings.Builder
	c := db
	for _, tbl := range testdb.Strings(t, c, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = ? AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'strata|_migrations%' ESCAPE '|' ORDER BY table_name`, schema) {
		for _, l := range rowsText(t, c, "SHOW CREATE TABLE "+quote(schema)+"."+quote(tbl)) {
			b.WriteString("table " + l + "\n")
		}
		for _, l := range rowsText(t, c, "CHECKSUM TABLE "+quote(schema)+"."+quote(tbl)+" EXTENDED") {
			b.WriteString("checksum " + strings.Replace(l, `"`+schema+".", `"`, 1) + "\n")
		}
	}
	for _, l := range rowsText(t, c, `SELECT trigger_name, event_object_table, action_timing, event_manipulation, action_order,
		action_statement, sql_mode, definer FROM information_schema.triggers WHERE trigger_schema = ?
		ORDER BY event_object_table, action_timing, event_manipulation, action_order`, schema) {
		b.WriteString("trigger " + l + "\n")
	}
	for _, l := range rowsText(t, c, `SELECT table_name, view_definition, definer, security_type
		FROM information_schema.views WHERE table_schema = ? ORDER BY table_name`, schema) {
		b.WriteString("view " + strings.ReplaceAll(l, quote(schema)+".", "") + "\n")
	}
	for _, l := range rowsText(t, c, `SELECT routine_type, routine_name, routine_definition, dtd_identifier, sql_mode, definer
		FROM information_schema.routines WHERE routine_schema = ? ORDER BY routine_type, routine_name`, schema) {
		b.WriteString("routine " + l + "\n")
	}
	for _, l := range rowsText(t, c, `SELECT specific_name, ordinal_position, parameter_name, dtd_identifier
		FROM information_schema.parameters WHERE specific_schema = ? ORDER BY specific_name, ordinal_position`, schema) {
		b.WriteString("parameter " + l + "\n")
	}
	return b.String()
}

// restoreDatabases lists the databases restores of target made.
func restoreDatabases(t *testing.T, db *sql.DB, target string) []string {
	t.Helper()
	p := mysqlswap.Prefix(target)
	return testdb.Strings(t, db, `SELECT schema_name FROM information_schema.schemata WHERE LEFT(schema_name, ?) = ?`, len(p), p)
}

func dropRestoreDatabases(db *sql.DB, target string) {
	p := mysqlswap.Prefix(target)
	rows, err := db.Query(`SELECT schema_name FROM information_schema.schemata WHERE LEFT(schema_name, ?) = ?`, len(p), p)
	if err != nil {
		return
	}
	var left []string
	for rows.Next() {
		var s string
		if rows.Scan(&s) == nil {
			left = append(left, s)
		}
	}
	rows.Close()
	for _, s := range left {
		db.Exec("DROP DATABASE IF EXISTS " + quote(s))
	}
}

func pin(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func execAll(t *testing.T, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// rowsText runs q and returns each row's columns joined by '|'.
func rowsText(t *testing.T, db queryer, q string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = "NULL"
			if v.Valid {
				parts[i] = fmt.Sprintf("%q", v.String)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func quote(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// TestMySQLSwapRecoveryOtherSQLMode: the journal's views were read by a
// session with ANSI_QUOTES, which SHOW CREATE VIEW quotes names for; a
// recovery by a session without it must still put them back.
func TestMySQLSwapRecoveryOtherSQLMode(t *testing.T) {
	for _, tt := range []struct {
		stop string // the swap's step
		want string
	}{
		{"journal", "old"},
		{"create trigger a_bu", "new"},
	} {
		t.Run(tt.stop, func(t *testing.T) {
			f := newFixture(t)
			c := pin(t, f.db)
			execAll(t, c, "SET SESSION foreign_key_checks = 0", "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES')")
			err := mysqlswap.Swap(t.Context(), c, f.target, f.scratch, f.hold, stopAt(tt.stop, 1))
			c.Raw(func(any) error { return driver.ErrBadConn }) // as a killed process's session: gone
			c.Close()
			if !errors.Is(err, mysqlswap.ErrStop) {
				t.Fatalf("swap: %v, want it stopped", err)
			}
			if err := f.recover(t, nil); err != nil {
				t.Fatalf("Recover: %v", err)
			}
			f.check(t, tt.want)
		})
	}
}

// TestRecoverLeavesLiveRestore: a Recover on another connection (a
// migration run, or a restore started beside one run without the
// migration lock) leaves the databases of a restore still running alone,
// both while it loads and in the middle of its swap; once the restore's
// connection is gone, they are its to clean up.
func TestRecoverLeavesLiveRestore(t *testing.T) {
	t.Run("loading", func(t *testing.T) {
		f := newFixture(t)
		live := pin(t, f.db)
		release, err := mysqlswap.Claim(t.Context(), live, f.target, f.scratch)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		if err := f.recover(t, nil); err != nil {
			t.Fatalf("Recover: %v", err)
		}
		if !slices.Contains(restoreDatabases(t, f.db, f.target), f.scratch) {
			t.Fatal("Recover dropped the scratch database of a restore still loading")
		}
		// The restore's connection dies: its scratch database is left over.
		live.Raw(func(any) error { return driver.ErrBadConn })
		live.Close()
		if err := f.recover(t, nil); err != nil {
			t.Fatalf("Recover: %v", err)
		}
		f.check(t, "old")
	})
	t.Run("swapping", func(t *testing.T) {
		f := newFixture(t)
		live := pin(t, f.db)
		defer live.Close()
		release, err := mysqlswap.Claim(t.Context(), live, f.target, f.scratch)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		execAll(t, live, "SET SESSION foreign_key_checks = 0")
		var checked []string
		hook := func(step string) error {
			if step != "rename" && step != "journal" {
				return nil
			}
			if err := f.recover(t, nil); err != nil {
				return fmt.Errorf("Recover in the middle of a swap: %w", err)
			}
			if left := restoreDatabases(t, f.db, f.target); !slices.Contains(left, f.hold) {
				return fmt.Errorf("Recover at step %s took the hold database of a live swap: %v left", step, left)
			}
			checked = append(checked, step)
			return nil
		}
		if err := mysqlswap.Swap(t.Context(), live, f.target, f.scratch, f.hold, hook); err != nil {
			t.Fatal(err)
		}
		if len(checked) != 2 {
			t.Fatalf("checked at %v", checked)
		}
		execAll(t, f.db, "DROP DATABASE "+quote(f.scratch)) // as the restore does
		f.check(t, "new")
	})
	t.Run("claimed twice", func(t *testing.T) {
		f := newFixture(t)
		a, b := pin(t, f.db), pin(t, f.db)
		defer a.Close()
		defer b.Close()
		release, err := mysqlswap.Claim(t.Context(), a, f.target, f.scratch)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		if _, err := mysqlswap.Claim(t.Context(), b, f.target, f.scratch); err == nil {
			t.Fatal("a second connection claimed the same restore's databases")
		}
		if _, err := mysqlswap.Claim(t.Context(), b, f.target, "other"); err == nil || !strings.Contains(err.Error(), "other") {
			t.Fatalf("claim of a name no restore uses: %v", err)
		}
	})
}

// TestMySQLSwapRecoveryOtherCharset: the journal holds the objects'
// statements with text no single-byte character set can hold; a
// recovery by a session whose character set is latin1 (a DSN with
// charset=latin1) must still create them exactly, and leave that
// session's character set as it was.
func TestMySQLSwapRecoveryOtherCharset(t *testing.T) {
	for _, tt := range []struct {
		stop string // the swap's step
		want string
	}{
		{"journal", "old"},
		{"create trigger a_bu", "new"},
	} {
		t.Run(tt.stop, func(t *testing.T) {
			f := newFixture(t)
			execAll(t, f.db,
				"CREATE VIEW "+quote(f.target)+".v_text AS SELECT 'ancien ✓ 日本語' AS s",
				"CREATE VIEW "+quote(f.scratch)+".v_text AS SELECT 'nouveau ✓ 新しい' AS s")
			f.old, f.new = snapshot(t, f.db, f.target), snapshot(t, f.db, f.scratch)
			if err := f.swap(t, stopAt(tt.stop, 1)); !errors.Is(err, mysqlswap.ErrStop) {
				t.Fatalf("swap: %v, want it stopped", err)
			}
			c := pin(t, f.db)
			defer c.Close()
			execAll(t, c, "SET NAMES latin1")
			if err := mysqlswap.Recover(t.Context(), c, f.target); err != nil {
				t.Fatalf("Recover: %v", err)
			}
			if got := testdb.Strings(t, c, "SELECT CONCAT_WS(',', @@character_set_client, @@character_set_connection, @@character_set_results)"); got[0] != "latin1,latin1,latin1" {
				t.Errorf("the session's character set is %s after Recover, want latin1", got[0])
			}
			f.check(t, tt.want)
		})
	}
}

// TestMySQLSwapOtherCharset: a whole swap by a session whose character
// set is latin1 recreates text no single-byte set can hold exactly, and
// leaves the session's character set as it was.
func TestMySQLSwapOtherCharset(t *testing.T) {
	f := newFixture(t)
	execAll(t, f.db,
		"CREATE VIEW "+quote(f.target)+".v_text AS SELECT 'ancien ✓ 日本語' AS s",
		"CREATE VIEW "+quote(f.scratch)+".v_text AS SELECT 'nouveau ✓ 新しい' AS s")
	c := pin(t, f.db)
	execAll(t, c, "USE "+quote(f.scratch),
		"CREATE TRIGGER only_new_bu BEFORE UPDATE ON only_new FOR EACH ROW SET @note = '✓ 新しい'",
		"USE "+quote(f.target))
	f.old, f.new = snapshot(t, f.db, f.target), snapshot(t, f.db, f.scratch)
	defer c.Close()
	execAll(t, c, "SET NAMES latin1", "SET SESSION foreign_key_checks = 0")
	if err := mysqlswap.Swap(t.Context(), c, f.target, f.scratch, f.hold, nil); err != nil {
		t.Fatal(err)
	}
	if got := testdb.Strings(t, c, "SELECT CONCAT_WS(',', @@character_set_client, @@character_set_connection, @@character_set_results)"); got[0] != "latin1,latin1,latin1" {
		t.Errorf("the session's character set is %s after Swap, want latin1", got[0])
	}
	execAll(t, f.db, "DROP DATABASE "+quote(f.scratch)) // as the restore does
	f.check(t, "new")
}
