package integration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/schema"
)

// sqlMigration returns a migration that records its run, then runs stmts
// one by one, on Up; its Down records its run.
func sqlMigration(id string, noTx bool, stmts ...string) *migration.Func {
	return &migration.Func{
		Name: id,
		NoTx: noTx,
		UpFn: func(ctx context.Context, tx *migration.Tx) error {
			if err := record(ctx, tx, id, "up"); err != nil {
				return err
			}
			for _, s := range stmts {
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return fmt.Errorf("%s: %w", s, err)
				}
			}
			return nil
		},
		DownFn: func(ctx context.Context, tx *migration.Tx) error { return record(ctx, tx, id, "down") },
	}
}

// testVersionTableAddressed: a migration that makes unqualified names
// resolve elsewhere (MySQL's USE, PostgreSQL's search_path, a SQLite TEMP
// table that shadows the version table) neither redirects the manager's
// writes nor the next migration: the version table is addressed by the
// schema resolved when the run started, and the session is restored after
// each migration.
func testVersionTableAddressed(t *testing.T, tgt Target) {
	d := tgt.open(t)
	ctx := t.Context()
	dl := tgt.Dialect
	var elsewhere string // a version table the switch points at
	var switches []migration.Migration
	switch dl.Name() {
	case mysqlName:
		cur := strs(t, d.DB, `SELECT DATABASE()`)[0]
		other := cur + "_other"
		d.exec("CREATE DATABASE " + dl.QuoteIdent(other))
		t.Cleanup(func() { _, _ = d.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+dl.QuoteIdent(other)) })
		elsewhere = other + "." + migration.DefaultTable
		// As the Sakila and Chinook scripts begin.
		switches = append(switches, sqlMigration("use", false, "USE "+dl.QuoteIdent(other)))
	case postgresName:
		d.exec(`CREATE SCHEMA other`)
		elsewhere = "other." + migration.DefaultTable
		switches = append(switches,
			// As pg_dump's output begins.
			sqlMigration("set_config", false, `SELECT pg_catalog.set_config('search_path', '', false)`),
			sqlMigration("search_path", true, `SET search_path = other`))
	case sqliteName:
		elsewhere = "temp." + migration.DefaultTable
		var stmts []string
		for _, s := range dl.VersionTableDDL(elsewhere) {
			stmts = append(stmts, strings.Replace(s, "CREATE TABLE", "CREATE TEMP TABLE", 1))
		}
		switches = append(switches, sqlMigration("shadow", false, stmts...))
	default:
		t.Skipf("no way to switch schemas known for dialect %q", dl.Name())
	}
	if dl.Name() != sqliteName {
		for _, s := range dl.VersionTableDDL(elsewhere) {
			d.exec(s)
		}
	}
	ms := append(switches, table("after"))
	for i := 1; i < len(ms); i++ {
		ms[i].(*migration.Func).Requires = []string{ms[i-1].ID()}
	}
	res, err := d.manager(ms).Up(ctx)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	wantIDs(t, "results", resultIDs(res), migrationIDs(ms))

	// Another process sees every migration applied and clean.
	other := d.reopen()
	st, err := newManager(t, other, dl, ms).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range ms {
		want = append(want, m.ID()+"=applied")
	}
	wantIDs(t, "status seen by another process", states(st), want)
	// The version table the migration pointed at got nothing.
	if dl.Name() == sqliteName {
		if n := strs(t, d.DB, `SELECT count(*) FROM temp.sqlite_schema WHERE name = ?`, migration.DefaultTable); n[0] != "0" {
			t.Errorf("the shadowing TEMP table outlived the run")
		}
	} else if n := strs(t, other, `SELECT count(*) FROM `+dialect.QuoteTable(dl, elsewhere)); n[0] != "0" {
		t.Errorf("%s got %s rows, want none", elsewhere, n[0])
	}
	// The next migration ran where the run started.
	if !d.hasTable("t_after") {
		t.Errorf("t_after is not in the database migrated: the next migration ran where the switch pointed")
	}
	if d.runs("after", "up") != 1 {
		t.Errorf("the run of after was not recorded in the database migrated")
	}
}

// sessionProbe returns a description of the session of the connection q
// runs on, as an application would notice it. During a run, leaves out
// what may last until the run ends (temporary tables, prepared statements
// and variables a migration left, which the run drops with the session),
// and SQLite's foreign keys, off by design.
func sessionProbe(t *testing.T, tgt Target, q dialect.Execer, during bool) string {
	t.Helper()
	var queries, leftovers []string
	switch tgt.Dialect.Name() {
	case mysqlName:
		queries = []string{`SELECT CONCAT_WS('|', DATABASE(), @@autocommit, @@foreign_key_checks, @@unique_checks, @@sql_mode,
			@@time_zone, @@character_set_client)`}
		leftovers = []string{`SELECT IFNULL(@strata_leftover, '-')`,
			`SELECT count(*) FROM information_schema.tables WHERE table_name = 'tmp_leftover'`}
	case postgresName:
		queries = []string{`SELECT concat_ws('|', current_user, session_user, current_setting('search_path'),
			current_setting('statement_timeout'), current_setting('lock_timeout'), current_setting('DateStyle'))`}
		leftovers = []string{`SELECT concat_ws('|', (SELECT count(*) FROM pg_prepared_statements WHERE name = 'strata_leftover'),
			(SELECT count(*) FROM pg_class WHERE relname = 'tmp_leftover' AND relnamespace = pg_my_temp_schema()))`}
	case sqliteName:
		if !during {
			queries = append(queries, `PRAGMA foreign_keys`)
		}
		for _, p := range []string{"legacy_alter_table", "recursive_triggers", "writable_schema", "query_only"} {
			queries = append(queries, `PRAGMA `+p)
		}
		queries = append(queries, `SELECT count(*) FROM pragma_database_list WHERE name <> 'temp'`)
		leftovers = []string{`SELECT count(*) FROM temp.sqlite_schema`}
	default:
		t.Skipf("no session probe known for dialect %q", tgt.Dialect.Name())
	}
	if !during {
		queries = append(queries, leftovers...)
	}
	var out []string
	for _, query := range queries {
		var s string
		if err := q.QueryRowContext(t.Context(), query).Scan(&s); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out = append(out, s)
	}
	return strings.Join(out, "|")
}

// testSessionRestored: whatever a migration leaves on the session of the
// connection it ran on (settings, a role, a selected database, a
// transaction mode, temporary tables, prepared statements, attached
// databases), on success or failure, in a transaction or not, the next
// migration starts from the session as the run found it, and the
// application's next statement on a pool of one connection behaves as on a
// fresh connection: in particular, what it writes is committed.
func testSessionRestored(t *testing.T, tgt Target) {
	dl := tgt.Dialect
	var dirty []string // statements that change the session
	var tx []string    // the same, inside a transaction where the dialect has them
	switch dl.Name() {
	case mysqlName:
		// autocommit=0 as the Sakila data script leaves it.
		dirty = []string{`SET autocommit = 0`, `SET foreign_key_checks = 0`, `SET unique_checks = 0`,
			`SET sql_mode = 'ANSI_QUOTES'`, `SET time_zone = '+05:00'`, `SET NAMES latin1`, `SET @strata_leftover = 1`,
			`CREATE TEMPORARY TABLE tmp_leftover (id INT)`, `USE mysql`}
	case postgresName:
		role := fmt.Sprintf("strata_probe_%d", time.Now().UnixNano())
		probeDB := tgt.open(t)
		if _, err := probeDB.ExecContext(t.Context(), `CREATE ROLE `+role+` NOLOGIN`); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = probeDB.ExecContext(context.Background(), `DROP ROLE IF EXISTS `+role) })
		dirty = []string{`SET search_path = pg_catalog`, `SET lock_timeout = '7s'`, `SET DateStyle = 'German'`,
			`PREPARE strata_leftover AS SELECT 1`, `CREATE TEMP TABLE tmp_leftover (id int)`,
			`SET statement_timeout = '5min'`, `SET ROLE ` + role}
		tx = []string{`SELECT pg_catalog.set_config('search_path', '', false)`, `SET lock_timeout = '7s'`,
			`PREPARE strata_leftover AS SELECT 1`, `CREATE TEMP TABLE tmp_leftover (id int)`}
	case sqliteName:
		dirty = []string{`PRAGMA legacy_alter_table = ON`, `PRAGMA recursive_triggers = ON`, `PRAGMA foreign_keys = ON`,
			`ATTACH DATABASE ':memory:' AS aux`, `CREATE TEMP TABLE tmp_leftover (id INTEGER)`, `PRAGMA query_only = ON`}
		tx = []string{`CREATE TEMP TABLE tmp_leftover (id INTEGER)`, `PRAGMA recursive_triggers = ON`}
	default:
		t.Skipf("no session changes known for dialect %q", dl.Name())
	}
	type variant struct {
		name  string
		noTx  bool
		stmts []string
		fail  bool
	}
	variants := []variant{{"outside a transaction", true, dirty, false}, {"outside a transaction, failing", true, dirty, true}}
	if tx != nil {
		variants = append(variants, variant{"in a transaction", false, tx, false})
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			d := tgt.open(t)
			d.SetMaxOpenConns(1)
			ctx := t.Context()
			fresh := sessionProbe(t, tgt, d.DB, false)
			freshDuring := sessionProbe(t, tgt, d.DB, true)
			dirtying := sqlMigration("dirty", v.noTx, v.stmts...)
			if v.fail {
				up := dirtying.UpFn
				dirtying.UpFn = func(ctx context.Context, tx *migration.Tx) error {
					return errors.Join(up(ctx, tx), errBoom)
				}
			}
			// The next migration must start from the session the run
			// found: it sees it as a fresh connection would.
			var seen string
			next := table("next", "dirty")
			nextUp := next.UpFn
			next.UpFn = func(ctx context.Context, tx *migration.Tx) error {
				seen = sessionProbe(t, tgt, tx, true)
				return nextUp(ctx, tx)
			}
			_, err := d.manager([]migration.Migration{dirtying, next}).Up(ctx)
			if v.fail {
				if !errors.Is(err, errBoom) {
					t.Fatalf("Up = %v, want errBoom", err)
				}
			} else {
				if err != nil {
					t.Fatalf("Up: %v", err)
				}
				if seen != freshDuring {
					t.Errorf("the next migration saw the session\n%s\nwant, as the run found it,\n%s", seen, freshDuring)
				}
			}
			if got := sessionProbe(t, tgt, d.DB, false); got != fresh {
				t.Errorf("after the run the pool's connection has the session\n%s\nwant, as a fresh one,\n%s", got, fresh)
			}
			// What the application writes next is committed.
			d.exec(`INSERT INTO ` + runsTable + ` (id, dir) VALUES ('app', 'app')`)
			if n := countRuns(t, d.reopen(), dl, "app", "app"); n != 1 {
				t.Errorf("another connection sees %d rows the application inserted after the run, want 1", n)
			}
			// And the run's own records are as another process reads them.
			st, err := newManager(t, d.reopen(), dl, []migration.Migration{dirtying, next}).Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"dirty=applied", "next=applied"}
			switch {
			case v.fail && tgt.Transactional() && !v.noTx:
				want = []string{"dirty=pending", "next=pending"}
			case v.fail:
				want = []string{"dirty=dirty", "next=pending"}
			}
			wantIDs(t, "status", states(st), want)
		})
	}
}

// testTransactionEnded: a migration that ends its transaction itself, with
// COMMIT or ROLLBACK in its SQL, is caught and named, and the version
// table tells the truth: the migration is recorded dirty, never applied
// without its work, and in an atomic run the migrations before it are
// recorded exactly as their work stands. Without transactional DDL, a
// transaction a migration opens and leaves open is committed with its
// work, not left to swallow the manager's writes and the application's.
func testTransactionEnded(t *testing.T, tgt Target) {
	ctx := t.Context()
	t.Run("left open outside a transaction", func(t *testing.T) {
		d := tgt.open(t)
		d.SetMaxOpenConns(1)
		begin := "BEGIN"
		if tgt.Dialect.Name() == mysqlName {
			begin = "START TRANSACTION" // CREATE TABLE would commit it: it comes first
		}
		open := sqlMigration("open", true, `CREATE TABLE t_open (id INTEGER)`, begin, `INSERT INTO t_open (id) VALUES (1)`)
		if _, err := d.manager([]migration.Migration{open}).Up(ctx); err != nil {
			t.Fatalf("Up: %v", err)
		}
		other := d.reopen()
		if n := strs(t, other, `SELECT count(*) FROM t_open`); n[0] != "1" {
			t.Errorf("another connection sees %s rows of the migration's open transaction, want 1", n[0])
		}
		st, err := newManager(t, other, tgt.Dialect, []migration.Migration{open}).Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, "status", states(st), []string{"open=applied"})
		// The application's next write is its own, committed at once.
		d.exec(`INSERT INTO t_open (id) VALUES (2)`)
		if n := strs(t, other, `SELECT count(*) FROM t_open`); n[0] != "2" {
			t.Errorf("another connection sees %s rows after the application's insert, want 2", n[0])
		}
	})
	if !tgt.Transactional() {
		return
	}
	cases := []struct {
		name   string
		stmts  []string
		fail   bool
		atomic bool
		tables []string // t_ tables after the run
		before string   // state of the migration before it
	}{
		{name: "commit", stmts: []string{`CREATE TABLE t_x (id INTEGER)`, `COMMIT`, `CREATE TABLE t_y (id INTEGER)`},
			tables: []string{"t_before", "t_x", "t_y"}, before: "applied"},
		{name: "rollback", stmts: []string{`CREATE TABLE t_x (id INTEGER)`, `ROLLBACK`, `CREATE TABLE t_y (id INTEGER)`},
			tables: []string{"t_before", "t_y"}, before: "applied"},
		{name: "rollback then failure", stmts: []string{`CREATE TABLE t_x (id INTEGER)`, `ROLLBACK`}, fail: true,
			tables: []string{"t_before"}, before: "applied"},
		{name: "atomic commit", stmts: []string{`CREATE TABLE t_x (id INTEGER)`, `COMMIT`}, atomic: true,
			tables: []string{"t_before", "t_x"}, before: "applied"},
		{name: "atomic rollback", stmts: []string{`CREATE TABLE t_x (id INTEGER)`, `ROLLBACK`}, atomic: true,
			before: "pending"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := tgt.open(t)
			ender := sqlMigration("ender", false, c.stmts...)
			ender.Requires = []string{"before"}
			if c.fail {
				up := ender.UpFn
				ender.UpFn = func(ctx context.Context, tx *migration.Tx) error { return errors.Join(up(ctx, tx), errBoom) }
			}
			ms := []migration.Migration{table("before"), ender}
			var opts []migration.Option
			if c.atomic {
				opts = append(opts, migration.WithAtomic())
			}
			res, err := d.manager(ms, opts...).Up(ctx)
			if !errors.Is(err, migration.ErrTransactionEnded) {
				t.Fatalf("Up = %v, want ErrTransactionEnded", err)
			}
			if me, ok := err.(*migration.Error); !ok || me.ID != "ender" || me.Step != migration.StepUp {
				t.Errorf("error %T %v, want a *migration.Error for ender at step up", err, err)
			}
			if !strings.Contains(err.Error(), "dirty") {
				t.Errorf("the error %q does not say the migration is recorded dirty", err)
			}
			if len(res) == 0 || res[len(res)-1].ID != "ender" || res[len(res)-1].Err == nil {
				t.Errorf("results %+v, want ender last, failed", res)
			}
			st, err := newManager(t, d.reopen(), tgt.Dialect, ms).Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantIDs(t, "status", states(st), []string{"before=" + c.before, "ender=dirty"})
			wantIDs(t, "tables", d.tables(), c.tables)
			// Nothing runs until it is repaired.
			if _, err := d.manager(ms).Up(ctx); !errors.Is(err, migration.ErrDirty) {
				t.Errorf("the next Up = %v, want ErrDirty", err)
			}
		})
	}
}

// testDriftKept: a change made by hand between runs is not absorbed by the
// next run's recording of the schema: the run logs it and keeps it, Drift
// reports it after the run until RecordSchema accepts it, and under
// WithDriftPolicy(DriftRefuse) the run refuses to start.
func testDriftKept(t *testing.T, tgt Target) {
	if _, ok := tgt.Dialect.(schema.Inspector); !ok {
		t.Skipf("dialect %q cannot describe schemas (schema.Inspector), so there is no drift to keep", tgt.Dialect.Name())
	}
	d := tgt.open(t)
	ctx := t.Context()
	a, b, c := table("a"), table("b", "a"), table("c", "b")
	if _, err := d.manager([]migration.Migration{a}).Up(ctx); err != nil {
		t.Fatal(err)
	}
	d.exec(`CREATE TABLE handmade (id INTEGER PRIMARY KEY)`)

	var log logBuffer
	m := d.manager([]migration.Migration{a, b}, migration.WithLogger(log.logger()))
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("Up under the default policy: %v", err)
	}
	if !strings.Contains(log.String(), "the schema changed since the last run recorded it") || !strings.Contains(log.String(), "handmade") {
		t.Errorf("the run did not log the drift it found:\n%s", log.String())
	}
	rep, err := m.Drift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Drifted() || !rep.Diff.Empty() || len(rep.Kept) != 1 {
		t.Fatalf("Drift after the run = %s\nwant no live change and the drift the run found kept", rep)
	}
	if k := rep.Kept[0]; k.Migration != "a" || !strings.Contains(k.Report, "+ table handmade") {
		t.Errorf("kept drift %+v, want the table made by hand since a", k)
	}

	d.exec(`CREATE TABLE handmade2 (id INTEGER PRIMARY KEY)`)
	strict := d.manager([]migration.Migration{a, b, c}, migration.WithDriftPolicy(migration.DriftRefuse))
	res, err := strict.Up(ctx)
	if !errors.Is(err, migration.ErrDrift) || !strings.Contains(err.Error(), "handmade2") {
		t.Fatalf("Up under DriftRefuse = %v, want ErrDrift naming handmade2", err)
	}
	wantStepErr(t, err, "", migration.StepDrift)
	if len(res) != 0 || d.hasTable("t_c") {
		t.Fatalf("the refused run ran something: %+v", res)
	}
	rep, err = strict.Drift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Diff.Changes) != 1 || len(rep.Kept) != 2 {
		t.Fatalf("Drift after the refusal = %s\nwant handmade2 live and two kept drifts", rep)
	}
	if err := strict.RecordSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, err = strict.Drift(ctx); err != nil || rep.Drifted() {
		t.Fatalf("Drift after RecordSchema = %v, %v; want no drift", rep, err)
	}
	if _, err := strict.Up(ctx); err != nil {
		t.Fatalf("Up once the drift was accepted: %v", err)
	}
}
