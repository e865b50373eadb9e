package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// This file finds what depends on the table being rebuilt and checks that
// it survives: the other tables' foreign keys and the triggers, which step
// 3 remembers; what stops a column from being removed before anything
// changes (blockers); and step 9, done by compiling every view and trigger
// before and after the change (compileAll, compare), since a view or
// trigger is kept as written and must still compile against the new
// table.

// fkRef is one foreign key of another table that refers to the table.
type fkRef struct {
	child    string
	from, to string
	toPK     bool // the key names no parent columns: it refers to the primary key
}

// trigDef is one trigger of the schema.
type trigDef struct {
	schema, name, table, sql string
	head                     *triggerHead
}

// children lists the foreign keys of other tables (and the table itself)
// that refer to the table.
func (r *rebuilder) children(ctx context.Context) ([]fkRef, error) {
	rows, err := r.ex.QueryContext(ctx, `SELECT m.name, f."from", f."to"
		FROM main.sqlite_schema AS m, pragma_foreign_key_list(m.name, 'main') AS f
		WHERE m.type = 'table' AND f."table" = ? COLLATE NOCASE`, r.name)
	if err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	defer rows.Close()
	var refs []fkRef
	for rows.Next() {
		var f fkRef
		var to sql.NullString
		if err := rows.Scan(&f.child, &f.from, &to); err != nil {
			return nil, fmt.Errorf("list foreign keys: %w", err)
		}
		f.to, f.toPK = to.String, !to.Valid
		refs = append(refs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	return refs, nil
}

func (r *rebuilder) triggers(ctx context.Context) ([]trigDef, error) {
	rows, err := r.ex.QueryContext(ctx, `SELECT 'main', name, tbl_name, sql FROM main.sqlite_schema WHERE type = 'trigger'
		UNION ALL SELECT 'temp', name, tbl_name, sql FROM temp.sqlite_schema WHERE type = 'trigger'`)
	if err != nil {
		return nil, fmt.Errorf("list triggers: %w", err)
	}
	defer rows.Close()
	var out []trigDef
	for rows.Next() {
		var t trigDef
		if err := rows.Scan(&t.schema, &t.name, &t.table, &t.sql); err != nil {
			return nil, fmt.Errorf("list triggers: %w", err)
		}
		h, err := parseTriggerHead(t.sql)
		if err != nil {
			return nil, fmt.Errorf("parse trigger %q: %w", t.name, err)
		}
		t.head = h
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list triggers: %w", err)
	}
	return out, nil
}

// blockers finds, before anything changes, the objects that stop a column
// from being removed and that compiling the schema would not catch: other
// tables' foreign keys and UPDATE OF triggers.
func (r *rebuilder) blockers(m *tableModel, refs []fkRef, triggers []trigDef) error {
	var errs []error
	dropped := m.droppedNames()
	if len(dropped) == 0 {
		return nil
	}
	pk := m.old.primaryKey()
	for _, f := range refs {
		if foldEq(f.child, r.name) {
			continue // the table's own foreign keys are edited with it
		}
		var hit []string
		if f.toPK {
			hit = intersectFold(pk, dropped)
		} else if containsFold(dropped, f.to) {
			hit = []string{f.to}
		}
		for _, c := range hit {
			errs = append(errs, &DependencyError{Table: r.name, Column: c, Kind: "foreign key", Name: f.child})
		}
	}
	for _, t := range triggers {
		if !foldEq(t.head.table, r.name) {
			continue
		}
		for _, c := range intersectFold(t.head.updateOf, dropped) {
			errs = append(errs, &DependencyError{Table: r.name, Column: c, Kind: "trigger", Name: t.name})
		}
	}
	return errors.Join(errs...)
}

func intersectFold(a, b []string) []string {
	var out []string
	for _, x := range a {
		if containsFold(b, x) && !containsFold(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// compileResult records which views and trigger programs compile.
type compileResult struct {
	views    map[[2]string]string // schema, name -> error ("" when fine)
	triggers map[string]string    // trigger group -> error
	groups   map[string][]trigDef
}

// compileAll prepares (EXPLAIN) every view, and for every table with
// triggers a statement that fires them, which compiles their bodies.
func (r *rebuilder) compileAll(ctx context.Context, triggers []trigDef) (*compileResult, error) {
	c := &compileResult{views: map[[2]string]string{}, triggers: map[string]string{}, groups: map[string][]trigDef{}}
	views, err := r.pairs(ctx, "views", `SELECT 'main', name FROM main.sqlite_schema WHERE type = 'view'
		UNION ALL SELECT 'temp', name FROM temp.sqlite_schema WHERE type = 'view'`)
	if err != nil {
		return nil, err
	}
	for _, v := range views {
		c.views[v] = errText(r.compile(ctx, "EXPLAIN SELECT * FROM "+quoteName(v[0])+"."+quoteName(v[1])))
	}
	for _, t := range triggers {
		key := groupKey(t)
		c.groups[key] = append(c.groups[key], t)
	}
	for key, ts := range c.groups {
		stmt, err := r.firing(ctx, ts[0])
		if err != nil {
			return nil, err
		}
		if stmt != "" {
			c.triggers[key] = errText(r.compile(ctx, stmt))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

func groupKey(t trigDef) string {
	return t.schema + "\x00" + lowerASCII(t.head.table) + "\x00" + t.head.event
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (r *rebuilder) compile(ctx context.Context, stmt string) error {
	rows, err := r.ex.QueryContext(ctx, stmt)
	if err != nil {
		return err
	}
	return rows.Close()
}

// firing returns an EXPLAIN of a statement that fires t's triggers.
func (r *rebuilder) firing(ctx context.Context, t trigDef) (string, error) {
	target := quoteName(t.head.table)
	if t.schema == "main" {
		target = "main." + target
	}
	switch t.head.event {
	case "INSERT":
		return "EXPLAIN INSERT INTO " + target + " DEFAULT VALUES", nil
	case "DELETE":
		return "EXPLAIN DELETE FROM " + target, nil
	}
	schema := any(nil)
	if t.schema == "main" {
		schema = "main"
	}
	rows, err := r.ex.QueryContext(ctx, `SELECT name FROM pragma_table_xinfo(?, ?) WHERE hidden = 0`, t.head.table, schema)
	if err != nil {
		return "", fmt.Errorf("list columns of %q: %w", t.head.table, err)
	}
	defer rows.Close()
	var set []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return "", fmt.Errorf("list columns of %q: %w", t.head.table, err)
		}
		set = append(set, quoteName(n)+" = "+quoteName(n))
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("list columns of %q: %w", t.head.table, err)
	}
	if len(set) == 0 {
		return "", nil
	}
	return "EXPLAIN UPDATE " + target + " SET " + strings.Join(set, ", "), nil
}

// compare reports the views and triggers that compiled before the rebuild
// and do not after it.
func (r *rebuilder) compare(ctx context.Context, before, after *compileResult, dropped []string) error {
	column := ""
	if len(dropped) == 1 {
		column = dropped[0]
	}
	var errs []error
	var views [][2]string
	for v := range after.views {
		views = append(views, v)
	}
	sort.Slice(views, func(i, j int) bool { return views[i][0]+views[i][1] < views[j][0]+views[j][1] })
	for _, v := range views {
		if msg := after.views[v]; msg != "" && before.views[v] == "" {
			errs = append(errs, &DependencyError{Table: r.name, Column: column, Kind: "view", Name: v[1], Err: errors.New(msg)})
		}
	}
	var keys []string
	for k := range after.triggers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		msg := after.triggers[k]
		if msg == "" || before.triggers[k] != "" {
			continue
		}
		ts := after.groups[k]
		blamed, err := r.blame(ctx, ts)
		if err != nil {
			return err
		}
		for _, t := range blamed {
			errs = append(errs, &DependencyError{Table: r.name, Column: column, Kind: "trigger", Name: t.name, Err: errors.New(msg)})
		}
	}
	return errors.Join(errs...)
}

// blame finds which of the triggers of one group fail to compile, by
// compiling each alone (the others dropped under a savepoint that is
// rolled back).
func (r *rebuilder) blame(ctx context.Context, ts []trigDef) ([]trigDef, error) {
	if len(ts) == 1 {
		return ts, nil
	}
	const sp = "strata_rebuild_probe"
	var out []trigDef
	for _, t := range ts {
		if err := r.exec(ctx, "SAVEPOINT "+sp); err != nil {
			return nil, fmt.Errorf("savepoint: %w", err)
		}
		var err error
		for _, o := range ts {
			if o.name != t.name && err == nil {
				err = r.exec(ctx, "DROP TRIGGER "+quoteName(o.schema)+"."+quoteName(o.name))
			}
		}
		var stmt string
		if err == nil {
			stmt, err = r.firing(ctx, t)
		}
		failed := err == nil && stmt != "" && r.compile(ctx, stmt) != nil
		cleanup := context.WithoutCancel(ctx)
		if e := errors.Join(r.exec(cleanup, "ROLLBACK TO "+sp), r.exec(cleanup, "RELEASE "+sp)); e != nil {
			return nil, errors.Join(err, e)
		}
		if err != nil {
			return nil, err
		}
		if failed {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return ts, nil
	}
	return out, nil
}
