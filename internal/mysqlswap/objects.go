package mysqlswap

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// object is a view, trigger or routine, with what recreates it.
type object struct {
	kind, name string // kind: VIEW, TRIGGER, PROCEDURE, FUNCTION
	// sqlMode is the sql_mode create is run under: a trigger's or
	// routine's own, and for a view the one of the session that read it,
	// whose ANSI_QUOTES decides how SHOW CREATE VIEW quotes names.
	sqlMode string
	create  string
}

func (o object) String() string { return strings.ToLower(o.kind) + " " + o.name }

// Hook is called after each step of a swap or a recovery with a name for
// the step. Tests use it to fail a step or, returning [ErrStop], to leave
// everything as a process killed right there would.
type Hook func(step string) error

// ErrStop, returned by a [Hook], stops a swap or recovery at once: nothing
// more is done or undone.
var ErrStop = errors.New("mysqlswap: stopped")

// run is one swap or recovery on a connection.
type run struct {
	conn *sql.Conn
	hook Hook
}

func (r *run) step(name string) error {
	if r.hook == nil {
		return nil
	}
	return r.hook(name)
}

func (r *run) exec(ctx context.Context, q string, args ...any) error {
	_, err := r.conn.ExecContext(ctx, q, args...)
	return err
}

// tables lists the tables (and sequences) of schema, not the views.
func tables(ctx context.Context, conn *sql.Conn, schema string) ([]string, error) {
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables of %s: %w", schema, err)
	}
	return out, nil
}

// readObjects reads the definitions of schema's routines, views and
// triggers, in the order they can be created (triggers in the order they
// fire). SHOW CREATE names the objects of the current database without
// qualifying them, so the definitions are read with schema as the current
// database, which is current again afterwards, and can be replayed in
// another.
func readObjects(ctx context.Context, conn *sql.Conn, schema, current string) (objs []object, err error) {
	if schema != current {
		if _, err := conn.ExecContext(ctx, `USE `+quote(schema)); err != nil {
			return nil, err
		}
		defer func() {
			if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), `USE `+quote(current)); uerr != nil {
				err = errors.Join(err, uerr)
			}
		}()
	}
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
		mode, create, err := show(`SHOW CREATE `+r[0]+` `+quote(r[1]), "sql_mode", "Create "+strings.ToUpper(r[0][:1])+strings.ToLower(r[0][1:]))
		if err != nil {
			return nil, fmt.Errorf("read %s %s of %s: %w", strings.ToLower(r[0]), r[1], schema, err)
		}
		objs = append(objs, object{kind: r[0], name: r[1], sqlMode: mode, create: create})
	}
	views, err := list(`SELECT 'VIEW', table_name FROM information_schema.views WHERE table_schema = ? ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("list views of %s: %w", schema, err)
	}
	var sessionMode string
	if len(views) > 0 {
		if err := conn.QueryRowContext(ctx, `SELECT @@SESSION.sql_mode`).Scan(&sessionMode); err != nil {
			return nil, fmt.Errorf("read sql_mode: %w", err)
		}
	}
	for _, v := range views {
		_, create, err := show(`SHOW CREATE VIEW `+quote(v[1]), "", "Create View")
		if err != nil {
			return nil, fmt.Errorf("read view %s of %s: %w", v[1], schema, err)
		}
		objs = append(objs, object{kind: "VIEW", name: v[1], sqlMode: sessionMode, create: create})
	}
	triggers, err := list(`SELECT 'TRIGGER', trigger_name FROM information_schema.triggers WHERE trigger_schema = ?
		ORDER BY event_object_table, action_timing, event_manipulation, action_order`)
	if err != nil {
		return nil, fmt.Errorf("list triggers of %s: %w", schema, err)
	}
	for _, tr := range triggers {
		mode, create, err := show(`SHOW CREATE TRIGGER `+quote(tr[1]), "sql_mode", "SQL Original Statement")
		if err != nil {
			return nil, fmt.Errorf("read trigger %s of %s: %w", tr[1], schema, err)
		}
		objs = append(objs, object{kind: "TRIGGER", name: tr[1], sqlMode: mode, create: create})
	}
	return objs, nil
}

// drop drops objs of the given kinds (all, if none is given) in schema.
func (r *run) drop(ctx context.Context, schema string, objs []object, kinds ...string) error {
	for _, o := range objs {
		if len(kinds) > 0 && !slices.Contains(kinds, o.kind) {
			continue
		}
		if err := r.exec(ctx, `DROP `+o.kind+` IF EXISTS `+quote(schema)+`.`+quote(o.name)); err != nil {
			return fmt.Errorf("drop %s of database %s: %w", o, schema, err)
		}
		if err := r.step("drop " + o.String()); err != nil {
			return err
		}
	}
	return nil
}

// create creates objs in the current database, schema, each under its
// sql_mode. Views may depend on views: those that fail are retried while
// others succeed.
func (r *run) create(ctx context.Context, schema string, objs []object) (err error) {
	var mode string
	if err := r.conn.QueryRowContext(ctx, `SELECT @@SESSION.sql_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("read sql_mode: %w", err)
	}
	defer func() {
		if merr := r.exec(context.WithoutCancel(ctx), `SET SESSION sql_mode = ?`, mode); merr != nil {
			err = errors.Join(err, fmt.Errorf("restore sql_mode: %w", merr))
		}
	}()
	cur := mode
	// create returns a failure to create o as failed, and errors from
	// everything else (setting sql_mode, the hook) as err.
	create := func(o object) (failed, err error) {
		m := o.sqlMode
		if m != cur {
			if err := r.exec(ctx, `SET SESSION sql_mode = ?`, m); err != nil {
				return nil, fmt.Errorf("set sql_mode for %s: %w", o, err)
			}
			cur = m
		}
		if err := r.exec(ctx, o.create); err != nil {
			return fmt.Errorf("create %s in database %s: %w", o, schema, err), nil
		}
		return nil, r.step("create " + o.String())
	}
	// Triggers first: they complete the tables. Then routines, which
	// nothing checks at creation, and views, as often as they make
	// progress (a view may use another).
	var views []object
	for _, kind := range []string{"TRIGGER", "PROCEDURE", "FUNCTION", "VIEW"} {
		for _, o := range objs {
			if o.kind != kind {
				continue
			}
			if kind == "VIEW" {
				views = append(views, o)
				continue
			}
			failed, err := create(o)
			if err := errors.Join(failed, err); err != nil {
				return err
			}
		}
	}
	for len(views) > 0 {
		var again []object
		var lastErr error
		for _, v := range views {
			failed, err := create(v)
			if err != nil {
				return err
			}
			if failed != nil {
				again, lastErr = append(again, v), failed
			}
		}
		if len(again) == len(views) {
			return lastErr
		}
		views = again
	}
	return nil
}

// converge makes the views, triggers and routines of schema, the current
// database, exactly want: it keeps those already as wanted, drops the
// rest and creates what is missing. Triggers are kept only if all of
// them are as wanted, in order: one created again would fire after the
// others of its table and event.
func (r *run) converge(ctx context.Context, schema string, want []object) error {
	have, err := readObjects(ctx, r.conn, schema, schema)
	if err != nil {
		return err
	}
	var drop, create []object
	if ht, wt := onlyKind(have, "TRIGGER"), onlyKind(want, "TRIGGER"); !slices.Equal(ht, wt) {
		drop, create = ht, wt
	}
	key := func(o object) string { return o.kind + " " + o.name }
	wantBy, haveBy := map[string]object{}, map[string]object{}
	for _, o := range notKind(want, "TRIGGER") {
		wantBy[key(o)] = o
	}
	for _, o := range notKind(have, "TRIGGER") {
		haveBy[key(o)] = o
		if w, ok := wantBy[key(o)]; !ok || w != o {
			drop = append(drop, o)
		}
	}
	for _, o := range notKind(want, "TRIGGER") {
		if h, ok := haveBy[key(o)]; !ok || h != o {
			create = append(create, o)
		}
	}
	if err := r.drop(ctx, schema, drop); err != nil {
		return err
	}
	return r.create(ctx, schema, create)
}

func notKind(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o.kind != kind {
			out = append(out, o)
		}
	}
	return out
}

func onlyKind(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o.kind == kind {
			out = append(out, o)
		}
	}
	return out
}
