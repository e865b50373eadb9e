package backup

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-go/strata/internal/mysqlswap"
	"github.com/strata-go/strata/internal/testdb"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
)

// The kill tests run a backup or restore in a child process (this test
// binary, started again with killHelperEnv set) and SIGKILL it at a random
// moment. Then no process it started may be left running, the database
// must be either as it was or as the backup has it (tables, columns,
// constraints, rows), and the password must not be in any file the child
// could have written or in its output.
const (
	killHelperEnv = "STRATA_TEST_KILL_HELPER" // "backup" or "restore"
	killMarkEnv   = "STRATA_TEST_KILL_MARK"   // inherited by the tools: finds orphans
	// killCountEnv raises the number of kills per dialect and operation.
	killCountEnv = "STRATA_TEST_KILLS"
	// killPauseEnv makes the child's MySQL restore wait after the n-th
	// step of its swap, to be killed in the window a random moment
	// rarely hits.
	killPauseEnv = "STRATA_TEST_KILL_PAUSE"
)

func TestMain(m *testing.M) {
	if op := os.Getenv(killHelperEnv); op != "" {
		os.Exit(killHelper(op))
	}
	os.Exit(m.Run())
}

// killHelper is the child: it backs up or restores and exits 0.
func killHelper(op string) int {
	dialect, dsn, arg := os.Getenv("STRATA_TEST_KILL_DIALECT"), os.Getenv("STRATA_TEST_KILL_DSN"), os.Getenv("STRATA_TEST_KILL_ARG")
	var db *sql.DB
	var b Backuper
	var err error
	switch dialect {
	case "postgres":
		b = NewPostgres(dsn)
		db, err = sql.Open("pgx", dsn)
	case "mysql":
		b = NewMySQL(dsn)
		db, err = sql.Open("mysql", dsn)
	default:
		b = NewSQLite()
		db, err = openSQLite(dsn)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if n, _ := strconv.Atoi(os.Getenv(killPauseEnv)); n > 0 {
		// Wait at the n-th step of the swap to be killed there.
		seen := 0
		swapHook = func(step string) error {
			if seen++; seen == n {
				fmt.Fprintf(os.Stderr, "paused after swap step %q\n", step)
				time.Sleep(time.Hour)
			}
			return nil
		}
	}
	if op == "backup" {
		_, err = Create(ctx, b, c, Options{Dir: arg})
	} else {
		err = Restore(ctx, b, c, arg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type killCase struct {
	dialect string
	admin   interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	} // for checks
	dsn       string // with a password, for the child
	password  string
	backup    File
	old, want string // snapshots: before the restore, in the backup
	snapshot  func(t *testing.T) string
	// tables, if set, is the part of snapshot every kill must keep whole:
	// the tables, their columns, constraints and rows. The rest (MySQL's
	// triggers, views and routines) may be part old and part restored
	// after a kill in the instant a restore replaces them, until recover
	// runs.
	tables func(t *testing.T) string
	// recover, if set, is what the next run does first (on MySQL, what
	// the next restore or locked migration run does): after it, the
	// whole snapshot must be as it was or as the backup has it.
	recover func(t *testing.T)
	// swapSteps, if set, is about how many steps a restore's swap has:
	// every fourth restore is killed while it waits after one of them.
	swapSteps int
	// quiet, if set, reports whether no server session of the child
	// still runs a statement: a statement in flight when the child died
	// (a COMMIT, a RENAME) runs to its end on the server.
	quiet func(t *testing.T) bool
}

func killCount() int {
	if n, err := strconv.Atoi(os.Getenv(killCountEnv)); err == nil && n > 0 {
		return n
	}
	return 5
}

// killSecret is an awkward password: a quote, #, ?, @, spaces. (One
// with both kinds of quote goes to the MySQL tools in the environment.)
const killSecret = `k1ll"ed pw #?@ &=%\`

func TestKillMySQL(t *testing.T) {
	db, dsn := mytest.New(t)
	c := conn(t, db)
	cfg, err := parseMySQLDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	user := "strata_kl_" + strings.TrimPrefix(cfg.dbname, "strata_test_")[:8]
	quoted := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(killSecret)
	mustExec(t, c, "CREATE USER '"+user+"'@'%' IDENTIFIED BY '"+quoted+"'",
		"GRANT ALL ON `"+cfg.dbname+"`.* TO '"+user+"'@'%'",
		"GRANT ALL ON `strata\\_restore\\_%`.* TO '"+user+"'@'%'")
	t.Cleanup(func() { db.Exec("DROP USER '" + user + "'@'%'") })
	// A test that stops half way leaves the last kill's scratch databases.
	t.Cleanup(func() {
		prefix := mysqlswap.Prefix(cfg.dbname)
		rows, err := db.Query(`SELECT schema_name FROM information_schema.schemata WHERE LEFT(schema_name, ?) = ?`, len(prefix), prefix)
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
			db.Exec("DROP DATABASE " + quoteBack(s))
		}
	})
	userDSN := user + ":" + killSecret + "@tcp(" + cfg.host + ":" + cfg.port + ")/" + cfg.dbname
	mustExec(t, c,
		"CREATE TABLE parent (id int PRIMARY KEY, name varchar(200))",
		"CREATE TABLE child (id int AUTO_INCREMENT PRIMARY KEY, parent_id int, body text, CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent(id))",
		"CREATE TABLE schema_version (id varchar(100) PRIMARY KEY)",
		"INSERT INTO schema_version VALUES ('0001'), ('0002')",
	)
	// The trigger's definer is the user: creating one for another user
	// takes a privilege the user lacks.
	udb, err := sql.Open("mysql", userDSN)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, udb, "CREATE TRIGGER parent_bi BEFORE INSERT ON parent FOR EACH ROW SET NEW.name = TRIM(NEW.name)")
	udb.Close()
	fillRows(t, c, 60000, "(%d, 'parent %d')", "INSERT INTO parent VALUES ")
	fillRows(t, c, 60000, "(%d, '"+strings.Repeat("x", 100)+" %d')", "INSERT INTO child (parent_id, body) VALUES ")
	snap := func(t *testing.T) string { return myFullSnapshot(t, c) }
	tables := func(t *testing.T) string { return serverSnapshot(t, c, mySchema) }
	quiet := func(t *testing.T) bool {
		return len(testdb.Strings(t, c, "SELECT user FROM information_schema.processlist WHERE user = ?", user)) == 0
	}
	nextRun := func(t *testing.T) {
		if err := mysqlswap.Recover(t.Context(), c, cfg.dbname); err != nil {
			t.Fatalf("recover: %v", err)
		}
		if left := scratchLeft(t, c); len(left) > 0 {
			t.Fatalf("scratch databases left after recovery: %v", left)
		}
	}
	runKills(t, &killCase{dialect: "mysql", admin: c, dsn: userDSN, password: killSecret, snapshot: snap, tables: tables, quiet: quiet, recover: nextRun, swapSteps: 6},
		"DELETE FROM child WHERE id % 3 = 0", "DROP TABLE schema_version", "CREATE TABLE added (x int)")
	if left := scratchLeft(t, c); len(left) > 0 {
		t.Errorf("scratch databases left after a completed restore: %v", left)
	}
}

func TestKillPostgres(t *testing.T) {
	db, dsn := pgtest.New(t)
	c := conn(t, db)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), killSecret)
	mustExec(t, c,
		"CREATE TABLE parent (id int PRIMARY KEY, name text)",
		"CREATE TABLE child (id serial PRIMARY KEY, parent_id int REFERENCES parent(id), body text)",
		"CREATE TABLE schema_version (id text PRIMARY KEY)",
		"INSERT INTO schema_version VALUES ('0001'), ('0002')",
	)
	fillRows(t, c, 60000, "(%d, 'parent %d')", "INSERT INTO parent VALUES ")
	fillRows(t, c, 60000, "(%d, '"+strings.Repeat("x", 100)+" %d')", "INSERT INTO child (parent_id, body) VALUES ")
	snap := func(t *testing.T) string { return serverSnapshot(t, c, pgSchema) }
	quiet := func(t *testing.T) bool {
		return len(testdb.Strings(t, c, `SELECT state FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`)) == 0
	}
	runKills(t, &killCase{dialect: "postgres", admin: c, dsn: u.String(), password: killSecret, snapshot: snap, quiet: quiet},
		"DELETE FROM child WHERE id % 3 = 0", "DROP TABLE schema_version", "CREATE TABLE added (x int)")
}

// TestKillSQLite: a killed SQLite backup leaves temporary files (the copy
// and its journal) that the next backup removes; a killed restore leaves
// the database as it was or restored.
func TestKillSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mustExec(t, db,
		"CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT)",
		"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), body TEXT)",
		"CREATE TABLE schema_version (id TEXT PRIMARY KEY)",
		"INSERT INTO schema_version VALUES ('0001'), ('0002')",
		"CREATE INDEX child_parent ON child(parent_id)",
	)
	fillRows(t, db, 100000, "(%d, 'parent %d')", "INSERT INTO parent VALUES ")
	fillRows(t, db, 100000, "(%d, '"+strings.Repeat("x", 100)+" %d')", "INSERT INTO child (parent_id, body) VALUES ")
	snap := func(t *testing.T) string { return sqliteSnapshot(t, db) }
	runKills(t, &killCase{dialect: "sqlite", admin: db, dsn: path, snapshot: snap},
		"DELETE FROM child WHERE id % 3 = 0", "DROP TABLE schema_version", "CREATE TABLE added (x int)")
}

func fillRows(t *testing.T, c interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, n int, tuple, insert string) {
	t.Helper()
	var vals []string
	for i := 1; i <= n; i++ {
		vals = append(vals, fmt.Sprintf(tuple, i, i))
		if len(vals) == 2000 || i == n {
			mustExec(t, c, insert+strings.Join(vals, ","))
			vals = vals[:0]
		}
	}
}

// runKills backs the database up, changes it with damage, then kills
// backups and restores at random moments, checking after each kill.
func runKills(t *testing.T, k *killCase, damage ...string) {
	bdir := filepath.Join(t.TempDir(), "backups")
	tmp := t.TempDir() // the child's TMPDIR
	k.want = k.snapshot(t)
	start := time.Now()
	out, err := runHelper(t, k, "backup", bdir, tmp, 0)
	fullBackup := time.Since(start)
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	files, err := List(bdir)
	if err != nil || len(files) != 1 {
		t.Fatalf("backups: %v, %v", files, err)
	}
	k.backup = files[0]
	if k.tables == nil {
		k.tables = k.snapshot
	}
	wantTables := k.tables(t)
	mustExec(t, k.admin, damage...)
	k.old = k.snapshot(t)
	oldTables := k.tables(t)

	// How long a whole restore takes, to pick kill moments within it.
	start = time.Now()
	if out, err := runHelper(t, k, "restore", k.backup.Path, tmp, 0); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	full := time.Since(start)
	if got := k.snapshot(t); got != k.want {
		t.Fatalf("restore did not restore\ngot:\n%.2000s\nwant:\n%.2000s", got, k.want)
	}
	mustExec(t, k.admin, damage...)
	var state string
	t.Logf("a whole restore takes %v", full)

	n := killCount()
	for i := range n {
		op, arg, d := "restore", k.backup.Path, full
		if i%3 == 2 {
			op, arg, d = "backup", bdir, fullBackup
		}
		// Half the kills fall in the second half of a run, where a
		// restore replaces the database.
		delay := time.Duration(rand.Int64N(int64(d)*11/10 + 1))
		if i%2 == 1 {
			delay = d/2 + time.Duration(rand.Int64N(int64(d)*6/10+1))
		}
		var env []string
		if k.swapSteps > 0 && op == "restore" && i%4 == 3 {
			// The child waits there; kill it well after it got there.
			step := 1 + rand.IntN(k.swapSteps+1)
			env = append(env, fmt.Sprintf("%s=%d", killPauseEnv, step))
			delay = 3*d + 2*time.Second
		}
		out, err := runHelper(t, k, op, arg, tmp, delay, env...)
		if env != nil {
			t.Logf("kill %d: %s", i, strings.TrimSpace(string(out)))
		}
		if k.quiet != nil {
			deadline := time.Now().Add(30 * time.Second)
			for !k.quiet(t) {
				if time.Now().After(deadline) {
					t.Fatalf("kill %d: the child's server sessions still run after 30s", i)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		got := k.snapshot(t)
		// Nothing the child started may change the database later.
		time.Sleep(200 * time.Millisecond)
		if again := k.snapshot(t); again != got {
			t.Errorf("kill %d (%s after %v): the database changed after the child died", i, op, delay)
		}
		switch gotTables := k.tables(t); {
		case got == k.old:
			state = "old"
		case got == k.want:
			state = "restored"
		case k.recover != nil && (gotTables == oldTables || gotTables == wantTables):
			state = "old"
			if gotTables == wantTables {
				state = "restored"
			}
			t.Logf("kill %d (%s after %v): tables %s, the other objects part old and part restored until recovered: %v", i, op, delay, state,
				testdb.LineDiff(got, map[string]string{"old": k.old, "restored": k.want}[state], 20))
			state += " after recovery"
		case gotTables == oldTables || gotTables == wantTables:
			t.Fatalf("kill %d (%s after %v): the tables are whole but other objects differ: %v", i, op, delay, testdb.LineDiff(got, k.want, 20))
		default:
			t.Fatalf("kill %d (%s after %v): the tables are neither as they were nor as the backup has them: %v",
				i, op, delay, testdb.LineDiff(gotTables, wantTables, 20))
		}
		if k.recover != nil {
			// The next run finds the database exactly as it was or as
			// the backup has it, never a mix, and nothing of the
			// restore left.
			before := state
			k.recover(t)
			switch got := k.snapshot(t); {
			case got == k.old && !strings.HasPrefix(before, "restored"):
				state = "old"
			case got == k.want && !strings.HasPrefix(before, "old"):
				state = "restored"
			default:
				t.Fatalf("kill %d (%s after %v): after recovery from %s, the database is neither as it was nor as the backup has it: against old %v; against backup %v",
					i, op, delay, before, testdb.LineDiff(got, k.old, 20), testdb.LineDiff(got, k.want, 20))
			}
			if before != state {
				state = before + " -> " + state
			}
		}
		t.Logf("kill %d: %s after %v: %s (%v)", i, op, delay, state, err)
		checkSecretAbsent(t, k.password, out, tmp, bdir)
		if strings.HasPrefix(state, "restored") {
			mustExec(t, k.admin, damage...)
		}
	}
	// The backups left are all whole, and a last restore completes.
	files, err = List(bdir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := VerifyChecksum(f.Path); err != nil {
			t.Errorf("backup left by a killed backup: %v", err)
		}
	}
	if out, err := runHelper(t, k, "restore", k.backup.Path, tmp, 0); err != nil {
		t.Fatalf("restore after the kills: %v\n%s", err, out)
	}
	if got := k.snapshot(t); got != k.want {
		t.Errorf("restore after the kills did not restore\ngot:\n%.2000s", got)
	}
	// A backup after the kills removes what killed ones left behind.
	if out, err := runHelper(t, k, "backup", bdir, tmp, 0); err != nil {
		t.Fatalf("backup after the kills: %v\n%s", err, out)
	}
	for _, name := range dirNames(t, bdir) {
		if strings.HasPrefix(name, ".") {
			t.Errorf("left in the backup directory after a backup: %s", name)
		}
	}
	// SQLite's own temporary files (etilqs_*, unlinked as soon as they
	// are opened) may outlive a process killed in that instant; they hold
	// no password. Anything else must go.
	for _, name := range dirNames(t, tmp) {
		if !strings.HasPrefix(name, "etilqs_") {
			t.Errorf("left in the temporary directory: %s", name)
		}
	}
}

// runHelper runs the child; with delay > 0 it SIGKILLs it after delay (if
// it is still running) and checks that nothing it started survives.
func runHelper(t *testing.T, k *killCase, op, arg, tmp string, delay time.Duration, env ...string) ([]byte, error) {
	t.Helper()
	mark := fmt.Sprintf("%d-%d", os.Getpid(), rand.Int64())
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+op, killMarkEnv+"="+mark, "TMPDIR="+tmp,
		"STRATA_TEST_KILL_DIALECT="+k.dialect, "STRATA_TEST_KILL_DSN="+k.dsn, "STRATA_TEST_KILL_ARG="+arg)
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if delay == 0 {
		err := cmd.Wait()
		checkSecretAbsent(t, k.password, out.Bytes())
		return out.Bytes(), err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(delay):
		cmd.Process.Signal(syscall.SIGKILL)
		err = <-done
	}
	// The kernel kills the tools as the child dies: give it a moment,
	// far shorter than the tools would need to finish their work.
	var left []string
	for range 10 {
		if left = marked(mark); len(left) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("%s killed after %v: processes it started still run: %v", op, delay, left)
	}
	return out.Bytes(), err
}

// marked lists the processes whose environment holds the mark.
func marked(mark string) []string {
	want := []byte(killMarkEnv + "=" + mark + "\x00")
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			continue // a zombie has exited
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		out = append(out, e.Name()+":"+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}

// checkSecretAbsent fails if the password is in the output or in any file
// under the directories.
func checkSecretAbsent(t *testing.T, secret string, out []byte, dirs ...string) {
	t.Helper()
	if secret == "" {
		return
	}
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	for _, f := range forms {
		if bytes.Contains(out, []byte(f)) {
			t.Errorf("the password is in the output:\n%s", out)
		}
	}
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			for _, f := range forms {
				if bytes.Contains(data, []byte(f)) {
					t.Errorf("the password is in %s", p)
				}
			}
			return nil
		})
	}
}
