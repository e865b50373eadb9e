package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/internal/mysqlswap"
	"github.com/strata-go/strata/internal/testdb"
	"github.com/strata-go/strata/internal/testdb/mytest"
)

// myFullSnapshot is serverSnapshot plus what it leaves out on MySQL: the
// definitions of views, triggers and routines, each table's CREATE TABLE
// (collations, engines, AUTO_INCREMENT) and a checksum of its rows.
func myFullSnapshot(t *testing.T, q queryer) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(serverSnapshot(t, q, mySchema))
	for _, l := range rowsText(t, q, `SELECT trigger_name, event_object_table, action_timing, event_manipulation, action_order, action_statement
		FROM information_schema.triggers WHERE trigger_schema = DATABASE() ORDER BY trigger_name`) {
		b.WriteString("trigger " + l + "\n")
	}
	for _, l := range rowsText(t, q, `SELECT routine_type, routine_name, routine_definition
		FROM information_schema.routines WHERE routine_schema = DATABASE() ORDER BY routine_type, routine_name`) {
		b.WriteString("routine " + l + "\n")
	}
	for _, l := range rowsText(t, q, `SELECT table_name, view_definition FROM information_schema.views
		WHERE table_schema = DATABASE() ORDER BY table_name`) {
		b.WriteString("view " + strings.ReplaceAll(l, "`"+testdb.Strings(t, q, "SELECT DATABASE()")[0]+"`.", "") + "\n")
	}
	for _, name := range testdb.Strings(t, q, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name`) {
		b.WriteString(strings.Join(rowsText(t, q, "SHOW CREATE TABLE "+quoteBack(name)), "\n") + "\n")
		b.WriteString(strings.Join(rowsText(t, q, "CHECKSUM TABLE "+quoteBack(name)+" EXTENDED"), "\n") + "\n")
	}
	return b.String()
}

// myRestoreFixture fills the connection's database with n rows in a table
// with awkward strings, a second table with a foreign key to it, a view, a
// trigger and a function, backs it up and changes it.
func myRestoreFixture(t *testing.T, n int) (cn *sql.Conn, b *MySQL, f File, before string) {
	t.Helper()
	db, dsn := mytest.New(t)
	cn = conn(t, db)
	mustExec(t, cn,
		"CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL, note text, data blob) ENGINE=InnoDB",
		"CREATE TABLE posts (id int AUTO_INCREMENT PRIMARY KEY, user_id int NOT NULL, body text, CONSTRAINT posts_user FOREIGN KEY (user_id) REFERENCES users(id))",
		"CREATE TABLE empty_one (x int)",
		"CREATE TABLE `odd ``name`` (` (a int, b int AS (a * 2) VIRTUAL, c int INVISIBLE DEFAULT 7)",
		"INSERT INTO `odd ``name`` (` (a) VALUES (1), (2), (3)",
		"CREATE VIEW user_names AS SELECT name FROM users WHERE note IS NOT NULL",
		"CREATE FUNCTION answer() RETURNS int DETERMINISTIC RETURN 42",
		"CREATE TRIGGER users_bi BEFORE INSERT ON users FOR EACH ROW SET NEW.name = TRIM(NEW.name)",
		"CREATE TRIGGER posts_ai AFTER INSERT ON posts FOR EACH ROW BEGIN INSERT INTO empty_one VALUES (1); INSERT INTO empty_one VALUES (2); END",
		"DELETE FROM empty_one",
	)
	var vals []string
	for i := range n {
		vals = append(vals, fmt.Sprintf("('u%d', 'a ) ( ; -- b /* c \\' \" `d` #e\\n', x'00ff0a27%04x')", i, i%65536))
		if len(vals) == 1000 || i == n-1 {
			mustExec(t, cn, "INSERT INTO users (name, note, data) VALUES "+strings.Join(vals, ","))
			vals = vals[:0]
		}
	}
	mustExec(t, cn, "INSERT INTO posts (user_id, body) VALUES (1, 'hello'), (2, 'world')", "DELETE FROM empty_one")
	before = myFullSnapshot(t, cn)
	b = NewMySQL(dsn)
	var err error
	if f, err = Create(t.Context(), b, cn, Options{Dir: t.TempDir()}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return cn, b, f, before
}

// TestMySQLRestoreRoundTrip: a restore brings back every table, row, view,
// trigger and routine, and leaves no scratch database behind.
func TestMySQLRestoreRoundTrip(t *testing.T) {
	c, b, f, before := myRestoreFixture(t, 3000)
	mustExec(t, c, "DROP TRIGGER users_bi", "DROP VIEW user_names", "DELETE FROM posts", "DROP TABLE posts",
		"UPDATE users SET name = 'changed' WHERE id < 10", "CREATE TABLE newer (x int)", "CREATE PROCEDURE p() SELECT 1")
	if err := Restore(t.Context(), b, c, f.Path); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if after := myFullSnapshot(t, c); after != before {
		t.Errorf("restored database differs\nbefore:\n%.3000s\nafter:\n%.3000s", before, after)
	}
	if left := scratchLeft(t, c); len(left) > 0 {
		t.Errorf("scratch databases left: %v", left)
	}
}

// TestMySQLRestoreRefusesBadDump: a dump that cannot be loaded whole, with
// its checksum updated to match, leaves the database exactly as it was,
// whether the damage is found by reading the file (rows missing from the
// middle), by the server (a collation it lacks, a broken statement at the
// end), or by counting what the server loaded.
func TestMySQLRestoreRefusesBadDump(t *testing.T) {
	tests := []struct {
		name string
		edit func([]byte) []byte
		msg  string
	}{
		{"insert commented out in the middle", func(d []byte) []byte {
			i := bytes.Index(d, []byte("\nINSERT INTO `users`"))
			j := bytes.Index(d[i+1:], []byte("\nINSERT INTO `users`"))
			i += j + 1
			return append(append(d[:i:i], "-- SERT"...), d[i+len("INSERT"):]...)
		}, "rows in the dump, 3000 when it was written"},
		{"collation the server lacks", func(d []byte) []byte {
			return bytes.ReplaceAll(d, []byte("utf8mb4_general_ci"), []byte("utf8mb4_0900_ai_ci"))
		}, "0900_ai_ci"},
		{"broken statement after the data", func(d []byte) []byte {
			return bytes.Replace(d, []byte("UNLOCK TABLES;"), []byte("UNLOCK TABLES;\nSELECT nosuchfunction();"), 2)
		}, "nosuchfunction"},
		{"byte damaged in the middle", func(d []byte) []byte {
			i := bytes.Index(d, []byte("u1500"))
			d[i+1] = '\''
			return d
		}, "damaged"},
		{"rows deleted by a hidden statement", func(d []byte) []byte {
			return bytes.Replace(d, []byte("\n-- Dump completed"), []byte("\n/*!40000 DELETE FROM `users` WHERE id > 2998 */;\n-- Dump completed"), 1)
		}, "loaded 2998 rows, the dump has 3000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, b, f, _ := myRestoreFixture(t, 3000)
			mustExec(t, c, "DROP TRIGGER posts_ai", "UPDATE users SET name = 'changed' WHERE id < 10", "CREATE TABLE newer (x int)")
			want := myFullSnapshot(t, c)
			spoilDump(t, f.Path, tt.edit)
			err := Restore(t.Context(), b, c, f.Path)
			checkErr(t, err, nil, tt.msg)
			if got := myFullSnapshot(t, c); got != want {
				t.Errorf("a refused restore changed the database\nwant:\n%.3000s\ngot:\n%.3000s", want, got)
			}
			if left := scratchLeft(t, c); len(left) > 0 {
				t.Errorf("scratch databases left: %v", left)
			}
		})
	}
}

// spoilDump rewrites the dump at path with edit and records its new
// checksum, as if it had been written that way.
func spoilDump(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := edit(bytes.Clone(data))
	if bytes.Equal(out, data) {
		t.Fatal("the edit changed nothing")
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	rewriteChecksum(t, path)
}

// scratchLeft lists the scratch databases of the connection's database.
func scratchLeft(t *testing.T, c queryer) []string {
	t.Helper()
	prefix := mysqlswap.Prefix(testdb.Strings(t, c, "SELECT DATABASE()")[0])
	return testdb.Strings(t, c, `SELECT schema_name FROM information_schema.schemata WHERE LEFT(schema_name, ?) = ?`, len(prefix), prefix)
}

// TestMySQLRestoreUndo: a restore that fails after the tables have moved
// puts the old tables, views, routines and triggers back exactly.
func TestMySQLRestoreUndo(t *testing.T) {
	c, b, f, _ := myRestoreFixture(t, 3000)
	mustExec(t, c, "DROP TRIGGER posts_ai", "UPDATE users SET name = 'changed' WHERE id < 10",
		"CREATE TABLE newer (x int)", "CREATE PROCEDURE p() SELECT 1", "CREATE VIEW v2 AS SELECT x FROM newer",
		"CREATE TRIGGER newer_bi BEFORE INSERT ON newer FOR EACH ROW SET NEW.x = NEW.x + 1")
	want := myFullSnapshot(t, c)
	// Fail right after the dump's triggers are created.
	moved, failed := false, false
	swapHook = func(step string) error {
		if step == "rename" {
			moved = true
		} else if moved && !failed && !strings.HasPrefix(step, "create trigger ") {
			failed = true
			return errors.New("injected failure")
		}
		return nil
	}
	t.Cleanup(func() { swapHook = nil })
	err := Restore(t.Context(), b, c, f.Path)
	checkErr(t, err, nil, "injected failure", "is unchanged")
	if got := myFullSnapshot(t, c); got != want {
		t.Errorf("a failed restore changed the database: %v", testdb.LineDiff(got, want, 20))
	}
	if left := scratchLeft(t, c); len(left) > 0 {
		t.Errorf("scratch databases left: %v", left)
	}
}

// TestMySQLRestoreNeedsScratchPrivilege: a user who may not create the
// scratch database gets an error saying which grant is missing, and the
// database is unchanged.
func TestMySQLRestoreNeedsScratchPrivilege(t *testing.T) {
	c, _, f, _ := myRestoreFixture(t, 10)
	dbname := testdb.Strings(t, c, "SELECT DATABASE()")[0]
	user := "strata_np_" + strings.TrimPrefix(dbname, "strata_test_")[:8]
	mustExec(t, c, "CREATE USER '"+user+"'@'%' IDENTIFIED BY 'pw'", "GRANT ALL ON `"+dbname+"`.* TO '"+user+"'@'%'")
	t.Cleanup(func() { c.ExecContext(context.Background(), "DROP USER '"+user+"'@'%'") })
	host, _ := mytest.Address(os.Getenv("STRATA_TEST_MYSQL_DSN"))
	udsn := user + ":pw@tcp(" + host + ")/" + dbname
	udb, err := sql.Open("mysql", udsn)
	if err != nil {
		t.Fatal(err)
	}
	defer udb.Close()
	uc := conn(t, udb)
	want := myFullSnapshot(t, c)
	err = Restore(t.Context(), NewMySQL(udsn), uc, f.Path)
	checkErr(t, err, nil, "is unchanged", "GRANT ALL ON `strata\\_restore\\_%`.*")
	if got := myFullSnapshot(t, c); got != want {
		t.Errorf("a refused restore changed the database: %v", testdb.LineDiff(got, want, 20))
	}
}

// TestMySQLRestoreAfterInterruptedSwap: a restore stopped at any step of
// its swap, as if killed there, leaves what the next restore finishes or
// undoes before it restores: the database ends exactly as the backup has
// it, with no scratch database left.
func TestMySQLRestoreAfterInterruptedSwap(t *testing.T) {
	damage := []string{"DROP TRIGGER posts_ai", "UPDATE users SET name = 'changed' WHERE id < 10",
		"CREATE TABLE newer (x int)", "CREATE PROCEDURE p() SELECT 1", "CREATE VIEW v2 AS SELECT x FROM newer",
		"CREATE TRIGGER newer_bi BEFORE INSERT ON newer FOR EACH ROW SET NEW.x = NEW.x + 1"}
	var steps []string
	c, b, f, want := myRestoreFixture(t, 100)
	mustExec(t, c, damage...)
	swapHook = func(s string) error { steps = append(steps, s); return nil }
	t.Cleanup(func() { swapHook = nil })
	if err := Restore(t.Context(), b, c, f.Path); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := myFullSnapshot(t, c); got != want {
		t.Fatalf("restored database differs: %v", testdb.LineDiff(got, want, 20))
	}
	for i, step := range steps {
		t.Run(fmt.Sprintf("%02d %s", i, step), func(t *testing.T) {
			c, b, f, want := myRestoreFixture(t, 100)
			mustExec(t, c, damage...)
			n := 0
			swapHook = func(string) error {
				if n++; n == i+1 {
					return mysqlswap.ErrStop
				}
				return nil
			}
			if err := Restore(t.Context(), b, c, f.Path); !errors.Is(err, mysqlswap.ErrStop) {
				t.Fatalf("Restore: %v, want it stopped", err)
			}
			swapHook = nil
			if err := Restore(t.Context(), b, c, f.Path); err != nil {
				t.Fatalf("Restore after a stopped one: %v", err)
			}
			if got := myFullSnapshot(t, c); got != want {
				t.Errorf("database differs from the backup: %v", testdb.LineDiff(got, want, 20))
			}
			if left := scratchLeft(t, c); len(left) > 0 {
				t.Errorf("scratch databases left: %v", left)
			}
		})
	}
}

// myQualifiedTriggers fills the connection's database with triggers whose
// headers name the database (ON db.t, ON `db`.`t`, TRIGGER db.tr, with
// comments and spaces between the parts), an unqualified one, and bodies
// that name the database's tables; it returns the database's name.
func myQualifiedTriggers(t *testing.T, c *sql.Conn) string {
	t.Helper()
	db := testdb.Strings(t, c, "SELECT DATABASE()")[0]
	mustExec(t, c,
		"CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int, b int, c varchar(20))",
		"CREATE TABLE log (x int)",
		"CREATE TRIGGER t_bi1 BEFORE INSERT ON "+db+".t FOR EACH ROW SET NEW.a = 1 /* ON "+db+".t */",
		"CREATE TRIGGER t_bi2 BEFORE INSERT ON t FOR EACH ROW FOLLOWS t_bi1 SET NEW.c = CONCAT('on ', NEW.a)",
		"CREATE TRIGGER t_ai AFTER INSERT ON `"+db+"`.`t` FOR EACH ROW INSERT INTO "+db+".log VALUES (NEW.id)",
		"CREATE TRIGGER "+db+".t_bu BEFORE UPDATE ON t FOR EACH ROW SET NEW.b = (SELECT COUNT(*) FROM "+db+".t)",
		"CREATE TRIGGER /* ON "+db+".t */ `"+db+"` . t_bd BEFORE DELETE ON /* x */ "+db+"\n . `t` FOR EACH ROW INSERT INTO `"+db+"`.log VALUES (-OLD.id)",
		"INSERT INTO t (a) VALUES (5), (6), (7)",
		"UPDATE t SET a = 2 WHERE id = 2",
		"DELETE FROM t WHERE id = 3",
	)
	return db
}

// myTriggerBodies lists every trigger's statement from FOR EACH ROW on, as
// SHOW CREATE TRIGGER has it.
func myTriggerBodies(t *testing.T, c *sql.Conn) []string {
	t.Helper()
	var out []string
	for _, name := range testdb.Strings(t, c, "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE() ORDER BY trigger_name") {
		var trig, mode, stmt, cs, cc, dc string
		var created sql.NullString
		if err := c.QueryRowContext(t.Context(), "SHOW CREATE TRIGGER "+quoteBack(name)).Scan(&trig, &mode, &stmt, &cs, &cc, &dc, &created); err != nil {
			t.Fatalf("SHOW CREATE TRIGGER %s: %v", name, err)
		}
		_, body, ok := strings.Cut(stmt, "FOR EACH ROW")
		if !ok {
			t.Fatalf("SHOW CREATE TRIGGER %s: no FOR EACH ROW in %q", name, stmt)
		}
		out = append(out, name+": "+body)
	}
	return out
}

// TestMySQLRestoreQualifiedTriggers: triggers whose headers name the
// database (which the server keeps as written, and the dump tools write
// back) are restored exactly, and fire on the restored tables.
func TestMySQLRestoreQualifiedTriggers(t *testing.T) {
	db, dsn := mytest.New(t)
	c := conn(t, db)
	name := myQualifiedTriggers(t, c)
	before, bodies := myFullSnapshot(t, c), myTriggerBodies(t, c)
	b := NewMySQL(dsn)
	f, err := Create(t.Context(), b, c, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	data, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ON " + name + ".t FOR", "ON `" + name + "`.`t` FOR", "TRIGGER " + name + ".t_bu"} {
		if !bytes.Contains(data, []byte(s)) {
			t.Fatalf("the dump does not have %q: the test no longer tests qualified triggers", s)
		}
	}
	mustExec(t, c, "DROP TRIGGER t_bi2", "INSERT INTO t (a) VALUES (8)", "UPDATE t SET a = 9", "DELETE FROM log WHERE x < 0",
		"CREATE TRIGGER t_au AFTER UPDATE ON t FOR EACH ROW INSERT INTO log VALUES (100)")
	if err := Restore(t.Context(), b, c, f.Path); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if after := myFullSnapshot(t, c); after != before {
		t.Errorf("restored database differs: %v", testdb.LineDiff(after, before, 20))
	}
	if got := myTriggerBodies(t, c); !slices.Equal(got, bodies) {
		t.Errorf("restored trigger bodies\n%q\nwant\n%q", got, bodies)
	}
	if left := scratchLeft(t, c); len(left) > 0 {
		t.Errorf("scratch databases left: %v", left)
	}
	// The triggers fire, in their order, on the restored tables.
	mustExec(t, c, "INSERT INTO t (a) VALUES (50)", "UPDATE t SET a = 60 WHERE id = 4", "DELETE FROM t WHERE id = 1")
	if got := strings.Join(rowsText(t, c, "SELECT id, a, b, c FROM t ORDER BY id"), "\n"); got != "2|2|3|\"on 1\"\n4|60|3|\"on 1\"" {
		t.Errorf("rows after the triggers fired:\n%s", got)
	}
	if got := strings.Join(rowsText(t, c, "SELECT x FROM log ORDER BY x"), " "); got != "-3 -1 1 2 3 4" {
		t.Errorf("log after the triggers fired: %s", got)
	}
}

// TestMySQLRestoreRefusesForeignTrigger: a dump with a trigger of another
// database, which no restore can create in this one, is refused before
// anything is created.
func TestMySQLRestoreRefusesForeignTrigger(t *testing.T) {
	db, dsn := mytest.New(t)
	c := conn(t, db)
	name := myQualifiedTriggers(t, c)
	b := NewMySQL(dsn)
	f, err := Create(t.Context(), b, c, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	mustExec(t, c, "DROP TRIGGER t_bi2", "INSERT INTO t (a) VALUES (8)")
	want := myFullSnapshot(t, c)
	spoilDump(t, f.Path, func(d []byte) []byte {
		return bytes.Replace(d, []byte("ON `"+name+"`.`t` FOR"), []byte("ON `other`.`t` FOR"), 1)
	})
	var steps []string
	swapHook = func(s string) error { steps = append(steps, s); return nil }
	t.Cleanup(func() { swapHook = nil })
	err = Restore(t.Context(), b, c, f.Path)
	checkErr(t, err, ErrInvalid, `trigger "t_ai"`, `database "other"`, "is unchanged")
	if got := myFullSnapshot(t, c); got != want {
		t.Errorf("a refused restore changed the database: %v", testdb.LineDiff(got, want, 20))
	}
	if left := scratchLeft(t, c); len(left) > 0 || len(steps) > 0 {
		t.Errorf("scratch databases left: %v, swap steps run: %v", left, steps)
	}
}
