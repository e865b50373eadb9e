package backup

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Restore loads the dump into a scratch database and, only once it has
// loaded without error and every table has the rows the dump holds, swaps
// the tables in; see [MySQL].
func (m *MySQL) Restore(ctx context.Context, conn *sql.Conn, path string) (err error) {
	defer func() { err = hideSecrets(err, m.dsn) }()
	removeOldOptionDirs()
	c, err := m.conn()
	if err != nil {
		return err
	}
	client, mariadb, err := m.clientTool()
	if err != nil {
		return err
	}
	if _, err := m.Describe(ctx, conn); err != nil {
		return err
	}
	opt, env, err := c.optionData()
	if err != nil {
		return err
	}
	st, err := m.verifyDump(path)
	if err != nil {
		return err
	}
	want := st.expected()
	target := c.dbname
	exec := func(q string) error {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%.200s: %w", q, err)
		}
		return nil
	}

	var fk int
	if err := conn.QueryRowContext(ctx, `SELECT @@SESSION.foreign_key_checks`).Scan(&fk); err != nil {
		return fmt.Errorf("read foreign_key_checks: %w", err)
	}
	if err := exec(`SET SESSION foreign_key_checks = 0`); err != nil {
		return err
	}
	defer func() {
		if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`SET SESSION foreign_key_checks = %d`, fk)); ferr != nil {
			err = errors.Join(err, fmt.Errorf("restore foreign_key_checks: %w", ferr))
		}
	}()

	prefix := scratchPrefix(target)
	if err := dropScratch(ctx, conn, prefix); err != nil {
		return err
	}
	suffix := make([]byte, 8)
	rand.Read(suffix)
	scratch := prefix + "n" + hex.EncodeToString(suffix)
	hold := prefix + "o" + hex.EncodeToString(suffix)

	var cs, coll string
	if err := conn.QueryRowContext(ctx, `SELECT default_character_set_name, default_collation_name
		FROM information_schema.schemata WHERE schema_name = DATABASE()`).Scan(&cs, &coll); err != nil {
		return fmt.Errorf("read the database's character set: %w", err)
	}
	if err := exec(`CREATE DATABASE ` + quoteBack(scratch) + ` CHARACTER SET ` + cs + ` COLLATE ` + coll); err != nil {
		err = fmt.Errorf("create a scratch database to load the dump into (database %q is unchanged): %w", target, err)
		if strings.Contains(err.Error(), "1044") {
			err = fmt.Errorf("%w; the user needs all privileges on the scratch databases: GRANT ALL ON `%s%%`.* TO the user",
				err, strings.ReplaceAll(scratchBase, "_", `\_`))
		}
		return err
	}
	defer func() {
		if _, derr := conn.ExecContext(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+quoteBack(scratch)); derr != nil {
			err = errors.Join(err, fmt.Errorf("drop scratch database %s: %w", scratch, derr))
		}
	}()

	// Load, hashing what the client reads: the file must still be the
	// one whose checksum was verified.
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	err = tool{
		name:   filepath.Base(client),
		path:   client,
		args:   append(c.args(mariadb), "--default-character-set=utf8mb4", "--database="+scratch),
		secret: opt,
		env:    env,
		stdin:  io.TeeReader(f, h),
	}.run(ctx)
	if err != nil {
		err = fmt.Errorf("load the dump into scratch database %s (database %q is unchanged): %w", scratch, target, err)
		if strings.Contains(err.Error(), "ERROR 1044") {
			err = fmt.Errorf("%w; the DSN's user needs all privileges on the scratch databases: GRANT ALL ON `%s%%`.* TO the user",
				err, strings.ReplaceAll(scratchBase, "_", `\_`))
		}
		return err
	}
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if sum, cerr := readChecksum(path); cerr == nil && hex.EncodeToString(h.Sum(nil)) != sum {
		return fmt.Errorf("%w: %s changed while it was loaded; database %q is unchanged", ErrChecksum, path, target)
	}
	if err := checkLoaded(ctx, conn, scratch, want); err != nil {
		return fmt.Errorf("%w: %s: %w; database %q is unchanged", ErrInvalid, path, err, target)
	}
	return swapIn(ctx, conn, target, scratch, hold)
}

// checkLoaded compares the row count of every table in scratch with want.
func checkLoaded(ctx context.Context, conn *sql.Conn, scratch string, want map[string]int64) error {
	tables, err := mysqlTables(ctx, conn, scratch)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, t := range tables {
		have[t] = true
	}
	for t, n := range want {
		if !have[t] {
			return fmt.Errorf("table %q did not load", t)
		}
		var got int64
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteBack(scratch)+`.`+quoteBack(t)).Scan(&got); err != nil {
			return fmt.Errorf("count rows of %q: %w", t, err)
		}
		if got != n {
			return fmt.Errorf("table %q loaded %d rows, the dump has %d", t, got, n)
		}
	}
	return nil
}

// scratchPrefix names the scratch databases of target's restores: a hash
// keeps them short and tells them apart from other databases'.
func scratchPrefix(target string) string {
	sum := sha256.Sum256([]byte(target))
	return scratchBase + hex.EncodeToString(sum[:6]) + "_"
}

// scratchBase starts the names of all scratch databases.
const scratchBase = "strata_restore_"

// dropScratch drops the scratch databases a restore of the same database
// left behind when its process was killed. The caller holds the
// migration lock, so none is in use.
func dropScratch(ctx context.Context, conn *sql.Conn, prefix string) error {
	rows, err := conn.QueryContext(ctx, `SELECT schema_name FROM information_schema.schemata WHERE LEFT(schema_name, ?) = ?`, len(prefix), prefix)
	if err != nil {
		return fmt.Errorf("list scratch databases: %w", err)
	}
	var stale []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("list scratch databases: %w", err)
		}
		stale = append(stale, s)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("list scratch databases: %w", err)
	}
	for _, s := range stale {
		if _, err := conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+quoteBack(s)); err != nil {
			return fmt.Errorf("drop scratch database %s left by an interrupted restore: %w", s, err)
		}
	}
	return nil
}

// mysqlTables lists the tables (and sequences) of schema, not the views.
func mysqlTables(ctx context.Context, conn *sql.Conn, schema string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = ? AND table_type NOT IN ('VIEW', 'SYSTEM VIEW') ORDER BY table_name`, schema)
	if err != nil {
		return nil, fmt.Errorf("list tables of %s: %w", schema, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("list tables of %s: %w", schema, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// mysqlObject is a view, trigger or routine, with what recreates it.
type mysqlObject struct {
	kind, name string // kind: VIEW, TRIGGER, PROCEDURE, FUNCTION
	sqlMode    string
	create     string
}

// mysqlObjects reads the definitions of schema's routines, views and
// triggers, in the order they can be created. SHOW CREATE names the
// objects of the current database without qualifying them, so the
// definitions are read with schema as the current database and can be
// replayed in another.
func mysqlObjects(ctx context.Context, conn *sql.Conn, schema, current string) (objs []mysqlObject, err error) {
	if _, err := conn.ExecContext(ctx, `USE `+quoteBack(schema)); err != nil {
		return nil, err
	}
	defer func() {
		if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), `USE `+quoteBack(current)); uerr != nil {
			err = errors.Join(err, uerr)
		}
	}()
	list := func(q string) ([][2]string, error) {
		rows, err := conn.QueryContext(ctx, q, schema)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out [][2]string
		for rows.Next() {
			var a, b string
			if err := rows.Scan(&a, &b); err != nil {
				return nil, err
			}
			out = append(out, [2]string{a, b})
		}
		return out, rows.Err()
	}
	// show runs SHOW CREATE and returns the columns named.
	show := func(q, modeCol, createCol string) (string, string, error) {
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			return "", "", err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return "", "", err
		}
		if !rows.Next() {
			return "", "", fmt.Errorf("%s: no result (missing privilege?)", q)
		}
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", "", err
		}
		var mode, create string
		for i, c := range cols {
			switch c {
			case modeCol:
				mode = vals[i].String
			case createCol:
				if !vals[i].Valid {
					return "", "", fmt.Errorf("%s: no definition (missing privilege?)", q)
				}
				create = vals[i].String
			}
		}
		if create == "" {
			return "", "", fmt.Errorf("%s: no %s column", q, createCol)
		}
		return mode, create, rows.Err()
	}
	routines, err := list(`SELECT routine_type, routine_name FROM information_schema.routines
		WHERE routine_schema = ? AND routine_type IN ('PROCEDURE', 'FUNCTION') ORDER BY routine_type, routine_name`)
	if err != nil {
		return nil, fmt.Errorf("list routines of %s: %w", schema, err)
	}
	for _, r := range routines {
		mode, create, err := show(`SHOW CREATE `+r[0]+` `+quoteBack(r[1]), "sql_mode", "Create "+strings.ToUpper(r[0][:1])+strings.ToLower(r[0][1:]))
		if err != nil {
			return nil, err
		}
		objs = append(objs, mysqlObject{kind: r[0], name: r[1], sqlMode: mode, create: create})
	}
	views, err := list(`SELECT 'VIEW', table_name FROM information_schema.views WHERE table_schema = ? ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("list views of %s: %w", schema, err)
	}
	for _, v := range views {
		_, create, err := show(`SHOW CREATE VIEW `+quoteBack(v[1]), "", "Create View")
		if err != nil {
			return nil, err
		}
		objs = append(objs, mysqlObject{kind: "VIEW", name: v[1], create: create})
	}
	triggers, err := list(`SELECT 'TRIGGER', trigger_name FROM information_schema.triggers WHERE trigger_schema = ?
		ORDER BY event_object_table, action_timing, event_manipulation, action_order`)
	if err != nil {
		return nil, fmt.Errorf("list triggers of %s: %w", schema, err)
	}
	for _, tr := range triggers {
		mode, create, err := show(`SHOW CREATE TRIGGER `+quoteBack(tr[1]), "sql_mode", "SQL Original Statement")
		if err != nil {
			return nil, err
		}
		objs = append(objs, mysqlObject{kind: "TRIGGER", name: tr[1], sqlMode: mode, create: create})
	}
	return objs, nil
}

// dropObjects drops objs of the given kinds in schema.
func dropObjects(ctx context.Context, conn *sql.Conn, schema string, objs []mysqlObject, kinds ...string) error {
	for _, o := range objs {
		for _, k := range kinds {
			if o.kind == k {
				if _, err := conn.ExecContext(ctx, `DROP `+o.kind+` IF EXISTS `+quoteBack(schema)+`.`+quoteBack(o.name)); err != nil {
					return fmt.Errorf("drop %s %s: %w", strings.ToLower(o.kind), o.name, err)
				}
			}
		}
	}
	return nil
}

// createObjects creates objs in the current database, each under its
// sql_mode. Views may depend on views: those that fail are retried while
// others succeed.
func createObjects(ctx context.Context, conn *sql.Conn, objs []mysqlObject) (err error) {
	var mode string
	if err := conn.QueryRowContext(ctx, `SELECT @@SESSION.sql_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("read sql_mode: %w", err)
	}
	defer func() {
		if _, merr := conn.ExecContext(context.WithoutCancel(ctx), `SET SESSION sql_mode = ?`, mode); merr != nil {
			err = errors.Join(err, fmt.Errorf("restore sql_mode: %w", merr))
		}
	}()
	cur := mode
	create := func(o mysqlObject) error {
		m := o.sqlMode
		if o.kind == "VIEW" {
			m = mode
		}
		if m != cur {
			if _, err := conn.ExecContext(ctx, `SET SESSION sql_mode = ?`, m); err != nil {
				return err
			}
			cur = m
		}
		if _, err := conn.ExecContext(ctx, o.create); err != nil {
			return fmt.Errorf("create %s %s: %w", strings.ToLower(o.kind), o.name, err)
		}
		return nil
	}
	// Triggers first: they complete the tables. Then routines, which
	// nothing checks at creation, and views, as often as they make
	// progress (a view may use another).
	var views []mysqlObject
	for _, kind := range []string{"TRIGGER", "PROCEDURE", "FUNCTION", "VIEW"} {
		for _, o := range objs {
			if o.kind != kind {
				continue
			}
			if kind == "VIEW" {
				views = append(views, o)
				continue
			}
			if err := create(o); err != nil {
				return err
			}
		}
	}
	for len(views) > 0 {
		var failed []mysqlObject
		var lastErr error
		for _, v := range views {
			if err := create(v); err != nil {
				failed, lastErr = append(failed, v), err
			}
		}
		if len(failed) == len(views) {
			return lastErr
		}
		views = failed
	}
	return nil
}

// swapIn replaces target's tables, views, routines and triggers with
// scratch's. The tables move in one RENAME TABLE, which the server does
// all or nothing: target's go to hold, scratch's to target. Triggers
// cannot move between databases and views and routines cannot be renamed
// into another, so they are read from scratch first and created again
// in target. On failure everything is put back as it was.
func swapIn(ctx context.Context, conn *sql.Conn, target, scratch, hold string) (err error) {
	newObjs, err := mysqlObjects(ctx, conn, scratch, target)
	if err != nil {
		return fmt.Errorf("read the loaded dump's views, routines and triggers (database %q is unchanged): %w", target, err)
	}
	oldObjs, err := mysqlObjects(ctx, conn, target, target)
	if err != nil {
		return fmt.Errorf("read the views, routines and triggers of database %q (it is unchanged): %w", target, err)
	}
	newTables, err := mysqlTables(ctx, conn, scratch)
	if err != nil {
		return err
	}
	oldTables, err := mysqlTables(ctx, conn, target)
	if err != nil {
		return err
	}
	if err := dropObjects(ctx, conn, scratch, newObjs, "TRIGGER"); err != nil {
		return fmt.Errorf("%w (database %q is unchanged)", err, target)
	}
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+quoteBack(hold)); err != nil {
		return fmt.Errorf("create a database to move the old tables to (database %q is unchanged): %w", target, err)
	}
	// From here on, a failure puts back what was changed. The undo runs
	// even if ctx is done.
	bg := context.WithoutCancel(ctx)
	dropHold := true
	defer func() {
		if dropHold {
			if _, derr := conn.ExecContext(bg, `DROP DATABASE IF EXISTS `+quoteBack(hold)); derr != nil && err != nil {
				err = errors.Join(err, fmt.Errorf("drop %s: %w", hold, derr))
			}
		}
	}()
	renames := func(from, to string, tables []string) []string {
		var out []string
		for _, t := range tables {
			out = append(out, quoteBack(from)+"."+quoteBack(t)+" TO "+quoteBack(to)+"."+quoteBack(t))
		}
		return out
	}
	oldTriggers := onlyKind(oldObjs, "TRIGGER")
	if err := dropObjects(ctx, conn, target, oldObjs, "TRIGGER"); err != nil {
		return errors.Join(fmt.Errorf("database %q may lack triggers: %w", target, err), createObjects(bg, conn, oldTriggers))
	}
	pairs := append(renames(target, hold, oldTables), renames(scratch, target, newTables)...)
	if len(pairs) > 0 {
		if _, err := conn.ExecContext(ctx, `RENAME TABLE `+strings.Join(pairs, ", ")); err != nil {
			err = fmt.Errorf("move the loaded tables into database %q: %w", target, err)
			if uerr := createObjects(bg, conn, oldTriggers); uerr != nil {
				return errors.Join(err, fmt.Errorf("recreate the triggers of database %q: %w", target, uerr))
			}
			return fmt.Errorf("%w; database %q is unchanged", err, target)
		}
	}
	// The tables are the dump's: give them their triggers at once, then
	// replace the views and routines.
	err = createObjects(ctx, conn, onlyKind(newObjs, "TRIGGER"))
	if err == nil && swapFault != nil {
		err = swapFault()
	}
	if err == nil {
		err = dropObjects(ctx, conn, target, oldObjs, "VIEW", "PROCEDURE", "FUNCTION")
	}
	if err == nil {
		err = createObjects(ctx, conn, notKind(newObjs, "TRIGGER"))
	}
	if err != nil {
		// Put the old tables and objects back.
		undo := dropObjects(bg, conn, target, newObjs, "TRIGGER", "VIEW", "PROCEDURE", "FUNCTION")
		if undo == nil {
			undo = dropObjects(bg, conn, target, oldObjs, "VIEW", "PROCEDURE", "FUNCTION")
		}
		if undo == nil && len(pairs) > 0 {
			back := append(renames(target, scratch, newTables), renames(hold, target, oldTables)...)
			if _, uerr := conn.ExecContext(bg, `RENAME TABLE `+strings.Join(back, ", ")); uerr != nil {
				undo = uerr
			}
		}
		if undo == nil {
			undo = createObjects(bg, conn, oldObjs)
		}
		if undo != nil {
			dropHold = false
			return fmt.Errorf("replace views, routines and triggers of database %q: %w; putting the old ones back failed too (the old tables are in database %s): %w", target, err, hold, undo)
		}
		return fmt.Errorf("replace views, routines and triggers of database %q: %w; database %q is unchanged", target, err, target)
	}
	return nil
}

// swapFault, if set (by tests), fails a restore after its tables have
// moved, to exercise putting them back.
var swapFault func() error

func notKind(objs []mysqlObject, kind string) []mysqlObject {
	var out []mysqlObject
	for _, o := range objs {
		if o.kind != kind {
			out = append(out, o)
		}
	}
	return out
}

func onlyKind(objs []mysqlObject, kind string) []mysqlObject {
	var out []mysqlObject
	for _, o := range objs {
		if o.kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// quoteBack quotes a MySQL identifier with backquotes.
func quoteBack(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
