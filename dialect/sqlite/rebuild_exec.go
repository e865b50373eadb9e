package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/strata-go/strata/dialect"
)

const savepoint = "strata_rebuild"

// rebuilder runs one RebuildTable call on one connection.
type rebuilder struct {
	ex       dialect.Execer
	name     string // the table's stored name
	sql      string // its stored CREATE TABLE
	enforced bool   // foreign keys are enforced and cannot be switched off
	native   bool   // SQLite's DROP COLUMN was tried and refused, or must not be
	shadowed bool   // a TEMP table or view of the same name hides the table
}

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

func quoteName(name string) string { return dialect.QuoteDouble(name) }

func runRebuild(ctx context.Context, ex dialect.Execer, table, op string, changes []Change) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", op, err)
		}
	}()
	if ex == nil {
		return errors.New("nil Execer")
	}
	if db, ok := ex.(*sql.DB); ok {
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		ex = conn
	}
	r := &rebuilder{ex: ex}
	if err := r.lookup(ctx, table); err != nil {
		return err
	}
	// Apply the changes once before touching anything, so that a change
	// that does not fit the table fails at once.
	m, err := newModel(r.name, r.sql, nil, changes)
	if err != nil {
		return err
	}
	fk, err := r.pragmaBool(ctx, "foreign_keys")
	if err != nil {
		return err
	}
	inTxn, err := r.inTransaction(ctx, fk)
	if err != nil {
		return err
	}
	// SQLite's own DROP COLUMN and RENAME COLUMN read the table's indexes
	// and triggers against a TEMP table of the same name, when there is
	// one: they fail, or turn a "column" in an index expression into the
	// string 'column' and leave the index out of step with the rows. The
	// rebuild does without DROP COLUMN then, and refuses renames.
	if err := r.ex.QueryRowContext(ctx, `SELECT count(*) > 0 FROM temp.sqlite_schema WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE`,
		r.name).Scan(&r.shadowed); err != nil {
		return fmt.Errorf("look up TEMP tables: %w", err)
	}
	r.native = r.shadowed
	if !inTxn && !r.shadowed && m.removals == len(changes) && len(m.dropped) == 1 {
		// SQLite's own DROP COLUMN, as a transaction of its own: inside
		// an explicit transaction it would keep a statement journal of
		// every page it rewrites, which makes it much slower.
		done, err := r.autocommitDrop(ctx, m)
		if done || err != nil {
			return err
		}
		r.native = true
	}
	return r.atomically(ctx, fk, inTxn, func() error { return r.work(ctx, m, changes) })
}

// autocommitDrop removes one column with ALTER TABLE DROP COLUMN on a
// connection outside any transaction, after the checks SQLite does not
// make. SQLite lets a drop through that breaks a view with a column list
// over SELECT * or a trigger that writes the column, so every view and
// trigger is compiled before and after it, in a transaction that is rolled
// back if one broke; a schema without views and triggers has nothing to
// compile, and the statement runs alone. It reports false when SQLite
// refuses, which it does before changing anything.
func (r *rebuilder) autocommitDrop(ctx context.Context, m *tableModel) (done bool, err error) {
	refs, err := r.children(ctx)
	if err != nil {
		return false, err
	}
	triggers, err := r.triggers(ctx)
	if err != nil {
		return false, err
	}
	if err := r.blockers(m, refs, triggers); err != nil {
		return false, err
	}
	before, err := r.compileAll(ctx, triggers)
	if err != nil {
		return false, err
	}
	if len(before.views) == 0 && len(triggers) == 0 {
		// Nothing can break: let the drop be its own transaction, which
		// spares SQLite a statement journal of every page it rewrites.
		if err := r.exec(ctx, "ALTER TABLE main."+quoteName(r.name)+" DROP COLUMN "+quoteName(m.dropped[0].name)); err != nil {
			if refused(err) {
				return false, nil
			}
			return false, fmt.Errorf("drop column %q: %w", m.dropped[0].name, err)
		}
		return true, nil
	}
	if err := r.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	cleanup := context.WithoutCancel(ctx)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
		if err != nil || !done {
			if e := r.exec(cleanup, "ROLLBACK"); e != nil {
				err = errors.Join(err, fmt.Errorf("roll back: %w", e))
			}
			return
		}
		if e := r.exec(cleanup, "COMMIT"); e != nil {
			done, err = false, errors.Join(fmt.Errorf("commit: %w", e), r.exec(cleanup, "ROLLBACK"))
		}
	}()
	// The schema may have changed between the checks and BEGIN.
	var now string
	if err := r.ex.QueryRowContext(ctx, `SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?`, r.name).Scan(&now); err != nil {
		return false, fmt.Errorf("read table: %w", err)
	}
	if now != r.sql {
		return false, nil // the rebuild path reads it again
	}
	if err := r.exec(ctx, "ALTER TABLE main."+quoteName(r.name)+" DROP COLUMN "+quoteName(m.dropped[0].name)); err != nil {
		if refused(err) {
			return false, nil
		}
		return false, fmt.Errorf("drop column %q: %w", m.dropped[0].name, err)
	}
	after, err := r.compileAll(ctx, triggers)
	if err != nil {
		return false, err
	}
	if err := r.compare(ctx, before, after, m.droppedNames()); err != nil {
		return false, err
	}
	return true, nil
}

// lookup finds the table and refuses what cannot be rebuilt.
func (r *rebuilder) lookup(ctx context.Context, table string) error {
	find := func(name string) (typ string, err error) {
		err = r.ex.QueryRowContext(ctx,
			`SELECT type, name, coalesce(sql, '') FROM main.sqlite_schema WHERE name = ? COLLATE NOCASE AND type IN ('table', 'view')`,
			name).Scan(&typ, &r.name, &r.sql)
		return typ, err
	}
	typ, err := find(table)
	if errors.Is(err, sql.ErrNoRows) && len(table) > 5 && foldEq(table[:5], "main.") {
		typ, err = find(table[5:])
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errors.New("no such table")
	}
	if err != nil {
		return fmt.Errorf("look up table: %w", err)
	}
	if typ == "view" {
		return fmt.Errorf("%q is a view, not a table", r.name)
	}
	if len(r.name) >= 7 && foldEq(r.name[:7], "sqlite_") {
		return fmt.Errorf("%q is an internal SQLite table", r.name)
	}
	if toks, _ := sqlTokens(r.sql); len(toks) > 1 && toks[1].is("VIRTUAL") {
		return fmt.Errorf("%q is a virtual table", r.name)
	}
	var kind string
	err = r.ex.QueryRowContext(ctx, `SELECT type FROM pragma_table_list WHERE schema = 'main' AND name = ?`, r.name).Scan(&kind)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("look up table: %w", err)
	}
	if kind == "shadow" {
		return fmt.Errorf("%q is a shadow table of a virtual table", r.name)
	}
	if i := strings.LastIndexByte(r.name, '_'); i > 0 {
		var n int
		err := r.ex.QueryRowContext(ctx,
			`SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE AND sql LIKE 'CREATE VIRTUAL TABLE%'`,
			r.name[:i]).Scan(&n)
		if err != nil {
			return fmt.Errorf("look up table: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("%q is a shadow table of virtual table %q", r.name, r.name[:i])
		}
	}
	return nil
}

func (r *rebuilder) pragmaBool(ctx context.Context, name string) (bool, error) {
	var on bool
	if err := r.ex.QueryRowContext(ctx, "PRAGMA "+name).Scan(&on); err != nil {
		return false, fmt.Errorf("read %s: %w", name, err)
	}
	return on, nil
}

func (r *rebuilder) exec(ctx context.Context, query string, args ...any) error {
	_, err := r.ex.ExecContext(ctx, query, args...)
	return err
}

// inTransaction reports whether the connection is inside a transaction.
// PRAGMA foreign_keys cannot change inside one, so it flips the pragma,
// reads it back and flips it back; fk is its current value.
func (r *rebuilder) inTransaction(ctx context.Context, fk bool) (bool, error) {
	set := func(on bool) error {
		v := "OFF"
		if on {
			v = "ON"
		}
		if err := r.exec(ctx, "PRAGMA foreign_keys = "+v); err != nil {
			return fmt.Errorf("set foreign_keys: %w", err)
		}
		return nil
	}
	if err := set(!fk); err != nil {
		return false, err
	}
	now, err := r.pragmaBool(ctx, "foreign_keys")
	if err != nil {
		return false, errors.Join(err, set(fk))
	}
	if now == fk {
		return true, nil
	}
	return false, set(fk)
}

// atomically runs work in a transaction of its own, with foreign keys
// switched off, when the connection is not in one, and under a savepoint
// of the caller's transaction otherwise. fk is PRAGMA foreign_keys.
func (r *rebuilder) atomically(ctx context.Context, fk, inTxn bool, work func() error) (err error) {
	cleanup := context.WithoutCancel(ctx)
	owned := !inTxn
	if inTxn {
		r.enforced = fk
	} else {
		if fk {
			if err := r.exec(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
				return fmt.Errorf("switch foreign_keys off: %w", err)
			}
			defer func() {
				if e := r.exec(cleanup, "PRAGMA foreign_keys = ON"); e != nil {
					err = errors.Join(err, fmt.Errorf("switch foreign_keys back on: %w", e))
				}
			}()
		}
		if err := r.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
	}
	if owned {
		// The transaction is ours: rolling it back is enough.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("internal error: %v", p)
			}
			if err != nil {
				if e := r.exec(cleanup, "ROLLBACK"); e != nil {
					err = errors.Join(err, fmt.Errorf("roll back: %w", e))
				}
				return
			}
			if e := r.exec(cleanup, "COMMIT"); e != nil {
				err = errors.Join(fmt.Errorf("commit: %w", e), r.exec(cleanup, "ROLLBACK"))
			}
		}()
		return work()
	}
	// The caller's transaction: a savepoint makes the rebuild atomic in it.
	if err := r.exec(ctx, "SAVEPOINT "+savepoint); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
		if err != nil {
			e1 := r.exec(cleanup, "ROLLBACK TO "+savepoint)
			e2 := r.exec(cleanup, "RELEASE "+savepoint)
			if e := errors.Join(e1, e2); e != nil {
				err = errors.Join(err, fmt.Errorf("roll back: %w", e))
			}
			return
		}
		if e := r.exec(cleanup, "RELEASE "+savepoint); e != nil {
			err = errors.Join(fmt.Errorf("release savepoint: %w", e),
				r.exec(cleanup, "ROLLBACK TO "+savepoint), r.exec(cleanup, "RELEASE "+savepoint))
		}
	}()
	return work()
}

// work does the rebuild inside the savepoint. m is the changes applied to
// the table as found.
func (r *rebuilder) work(ctx context.Context, m *tableModel, changes []Change) error {
	// The table may have changed since it was read outside the transaction.
	var now string
	if err := r.ex.QueryRowContext(ctx, `SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?`, r.name).Scan(&now); err != nil {
		return fmt.Errorf("read table: %w", err)
	}
	if now != r.sql {
		r.sql = now
		var err error
		if m, err = newModel(r.name, r.sql, nil, changes); err != nil {
			return err
		}
	}
	refs, err := r.children(ctx)
	if err != nil {
		return err
	}
	triggers, err := r.triggers(ctx)
	if err != nil {
		return err
	}
	if err := r.blockers(m, refs, triggers); err != nil {
		return err
	}
	var before *compileResult
	if len(m.dropped) > 0 {
		if before, err = r.compileAll(ctx, triggers); err != nil {
			return err
		}
	}
	if m.removals == len(changes) && len(m.dropped) > 0 && !r.native {
		ok, err := r.nativeDrop(ctx, m)
		if err != nil {
			return err
		}
		if ok {
			// SQLite checks less than the rebuild does: compile every
			// view and trigger again, and the caller's error return
			// rolls the drop back.
			after, err := r.compileAll(ctx, triggers)
			if err != nil {
				return err
			}
			return r.compare(ctx, before, after, m.droppedNames())
		}
	}
	if r.enforced {
		var parts []string
		if m.old.hasForeignKeys() || m.def.hasForeignKeys() {
			parts = append(parts, "it has foreign keys")
		}
		for _, f := range refs {
			if !foldEq(f.child, r.name) {
				parts = append(parts, fmt.Sprintf("table %q refers to it", f.child))
				break
			}
		}
		if len(parts) > 0 {
			return fmt.Errorf("%w: %s, and the rebuild must drop the old table, which would run ON DELETE actions; "+
				"rebuild it inside a strata migration, on a connection outside any transaction, "+
				"or after PRAGMA foreign_keys=OFF before the transaction begins", ErrForeignKeysEnforced, strings.Join(parts, "; "))
		}
	}
	renamed, err := r.renameColumns(ctx, m, changes)
	if err != nil {
		return err
	}
	if renamed != m {
		// SQLite rewrote the triggers that name the renamed columns
		if triggers, err = r.triggers(ctx); err != nil {
			return err
		}
	}
	return r.rebuild(ctx, renamed, triggers, refs, before)
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

// nativeDrop tries SQLite's own ALTER TABLE DROP COLUMN, which rewrites the
// rows in place and leaves the indexes alone. SQLite refuses it for a
// column that an index or constraint involves; then nativeDrop undoes what
// it did and reports false, and the table is rebuilt instead.
func (r *rebuilder) nativeDrop(ctx context.Context, m *tableModel) (bool, error) {
	// One statement undoes itself when it fails; several need a savepoint.
	const sp = "strata_native_drop"
	nested := len(m.dropped) > 1
	if nested {
		if err := r.exec(ctx, "SAVEPOINT "+sp); err != nil {
			return false, fmt.Errorf("savepoint: %w", err)
		}
	}
	for _, c := range m.dropped {
		if err := r.exec(ctx, "ALTER TABLE main."+quoteName(r.name)+" DROP COLUMN "+quoteName(c.name)); err != nil {
			if !refused(err) {
				return false, fmt.Errorf("drop column %q: %w", c.name, err)
			}
			if nested {
				cleanup := context.WithoutCancel(ctx)
				if e := errors.Join(r.exec(cleanup, "ROLLBACK TO "+sp), r.exec(cleanup, "RELEASE "+sp)); e != nil {
					return false, fmt.Errorf("roll back native drop: %w", e)
				}
			}
			return false, nil
		}
	}
	if nested {
		if err := r.exec(ctx, "RELEASE "+sp); err != nil {
			return false, fmt.Errorf("release savepoint: %w", err)
		}
	}
	return true, nil
}

// refused reports whether err is SQLite refusing a statement (SQLITE_ERROR),
// as opposed to failing to run it (busy, I/O, interrupted).
func refused(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrError
}

// renameColumns renames the columns that the changes rename with ALTER
// TABLE RENAME COLUMN, so that SQLite rewrites every index, trigger, view
// and foreign key that names them, and applies the changes again to the
// renamed table.
func (r *rebuilder) renameColumns(ctx context.Context, m *tableModel, changes []Change) (*tableModel, error) {
	origs := m.old.columns()
	cur := make([]string, len(origs))
	final := make([]string, len(origs))
	removed := make([]bool, len(origs))
	for i, c := range origs {
		cur[i] = c.name
	}
	for _, c := range m.dropped {
		removed[c.orig] = true
	}
	var renamed []int
	for _, c := range m.def.columns() {
		if c.orig >= 0 {
			final[c.orig] = c.work
			if c.work != cur[c.orig] {
				renamed = append(renamed, c.orig)
			}
		}
	}
	if len(renamed) == 0 {
		return m, nil
	}
	if r.shadowed {
		i := renamed[0]
		return nil, fmt.Errorf("rename column %q: a TEMP table or view named %q hides the table on this connection, "+
			"and SQLite's ALTER TABLE RENAME COLUMN, which does the renaming, would read the table's indexes and triggers against it",
			cur[i], r.name)
	}
	legacy, err := r.pragmaBool(ctx, "legacy_alter_table")
	if err != nil {
		return nil, err
	}
	if legacy {
		if err := r.exec(ctx, "PRAGMA legacy_alter_table = OFF"); err != nil {
			return nil, fmt.Errorf("switch legacy_alter_table off: %w", err)
		}
		defer func() { _ = r.exec(context.WithoutCancel(ctx), "PRAGMA legacy_alter_table = ON") }()
	}
	rename := func(i int, to string) error {
		err := r.exec(ctx, "ALTER TABLE main."+quoteName(r.name)+" RENAME COLUMN "+quoteName(cur[i])+" TO "+quoteName(to))
		if err != nil {
			return fmt.Errorf("rename column %q to %q: %w", cur[i], to, err)
		}
		cur[i] = to
		return nil
	}
	// A new name that another column still has (a swap, or the name of
	// a removed column) needs a detour through a free name.
	clash := map[int]bool{}
	for _, i := range renamed {
		for j := range cur {
			if foldEq(final[i], cur[j]) {
				clash[i] = true
				if removed[j] {
					clash[j] = true
				}
			}
		}
	}
	if len(clash) > 0 {
		taken := append(append([]string(nil), cur...), final...)
		keys := make([]int, 0, len(clash))
		for i := range clash {
			keys = append(keys, i)
		}
		sort.Ints(keys)
		for _, i := range keys {
			tmp := freeName("strata_tmp_"+cur[i], taken)
			taken = append(taken, tmp)
			if err := rename(i, tmp); err != nil {
				return nil, err
			}
		}
	}
	for _, i := range renamed {
		if err := rename(i, final[i]); err != nil {
			return nil, err
		}
	}
	if err := r.ex.QueryRowContext(ctx, `SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?`, r.name).Scan(&r.sql); err != nil {
		return nil, fmt.Errorf("read renamed table: %w", err)
	}
	work := make([]string, len(origs))
	for i, c := range origs {
		work[i] = c.name
	}
	return newModel(r.name, r.sql, work, changes)
}

func freeName(base string, taken []string) string {
	name := base
	for n := 2; containsFold(taken, name); n++ {
		name = fmt.Sprintf("%s_%d", base, n)
	}
	return name
}

// rebuild is steps 4 to 10 of SQLite's procedure.
//
// before is what compiled before anything changed, when columns are removed.
func (r *rebuilder) rebuild(ctx context.Context, m *tableModel, triggers []trigDef, refs []fkRef, before *compileResult) error {
	dropped := m.droppedNames()
	var indexes [][2]string
	rows, err := r.ex.QueryContext(ctx, `SELECT name, sql FROM main.sqlite_schema
		WHERE type = 'index' AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL ORDER BY rowid`, r.name)
	if err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	for rows.Next() {
		var ix [2]string
		if err := rows.Scan(&ix[0], &ix[1]); err != nil {
			rows.Close()
			return fmt.Errorf("list indexes: %w", err)
		}
		indexes = append(indexes, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	seq, err := r.sequence(ctx)
	if err != nil {
		return err
	}
	scratch, err := r.scratchName(ctx)
	if err != nil {
		return err
	}

	if err := r.exec(ctx, "CREATE TABLE main."+quoteName(scratch)+unqualify(m.def.body(), r.name)); err != nil {
		return fmt.Errorf("create new table: %w", err)
	}
	if err := r.copyRows(ctx, m, scratch); err != nil {
		return err
	}
	if err := r.exec(ctx, "DROP TABLE main."+quoteName(r.name)); err != nil {
		return fmt.Errorf("drop old table: %w", err)
	}
	// Legacy mode keeps the rename from rewriting, or checking, the views
	// and triggers that name the table: they keep naming it.
	legacy, err := r.pragmaBool(ctx, "legacy_alter_table")
	if err != nil {
		return err
	}
	if !legacy {
		if err := r.exec(ctx, "PRAGMA legacy_alter_table = ON"); err != nil {
			return fmt.Errorf("switch legacy_alter_table on: %w", err)
		}
	}
	err = r.exec(ctx, "ALTER TABLE main."+quoteName(scratch)+" RENAME TO "+quoteName(r.name))
	if !legacy {
		if e := r.exec(context.WithoutCancel(ctx), "PRAGMA legacy_alter_table = OFF"); e != nil {
			err = errors.Join(err, fmt.Errorf("switch legacy_alter_table off: %w", e))
		}
	}
	if err != nil {
		return fmt.Errorf("rename new table: %w", err)
	}
	if !seq.Valid && m.def.hasAutoincrement() {
		// The copy made the counter; the old table had none.
		if err := r.exec(ctx, `DELETE FROM main.sqlite_sequence WHERE name = ?`, r.name); err != nil {
			return fmt.Errorf("restore AUTOINCREMENT counter: %w", err)
		}
	}
	if seq.Valid && m.def.hasAutoincrement() {
		res, err := r.ex.ExecContext(ctx, `UPDATE main.sqlite_sequence SET seq = max(seq, ?) WHERE name = ?`, seq.Int64, r.name)
		if err == nil {
			var n int64
			if n, err = res.RowsAffected(); err == nil && n == 0 {
				err = r.exec(ctx, `INSERT INTO main.sqlite_sequence (name, seq) VALUES (?, ?)`, r.name, seq.Int64)
			}
		}
		if err != nil {
			return fmt.Errorf("restore AUTOINCREMENT counter: %w", err)
		}
	}
	for _, ix := range indexes {
		d, err := parseIndexSQL(ix[1])
		if err != nil {
			return fmt.Errorf("parse index %q: %w", ix[0], err)
		}
		if len(indexMentions(d, dropped)) > 0 {
			continue // it goes with the column
		}
		// in main by name: unqualified, it would go to a TEMP table of
		// the same name
		if err := r.exec(ctx, inMain(ix[1], "INDEX")); err != nil {
			return fmt.Errorf("recreate index %q: %w", ix[0], err)
		}
	}
	for _, t := range triggers {
		if !foldEq(t.head.table, r.name) {
			continue
		}
		if t.schema == "temp" {
			var n int
			if err := r.ex.QueryRowContext(ctx, `SELECT count(*) FROM temp.sqlite_schema WHERE type = 'trigger' AND name = ?`, t.name).Scan(&n); err != nil {
				return fmt.Errorf("look up trigger %q: %w", t.name, err)
			}
			if n > 0 {
				continue // it was on a temp table of the same name
			}
		}
		// A main trigger goes back to main by its name, a TEMP one on the
		// table by the table's: unqualified, either would go to a TEMP
		// table of the same name.
		stmt := inMain(t.sql, "TRIGGER")
		if t.schema == "temp" {
			stmt = triggerOnMain(t.sql)
			if toks, err := sqlTokens(stmt); err == nil && len(toks) > 1 && toks[0].is("CREATE") && toks[1].is("TRIGGER") {
				stmt = stmt[:toks[0].end] + " TEMP" + stmt[toks[0].end:]
			}
		}
		if err := r.exec(ctx, stmt); err != nil {
			return fmt.Errorf("recreate trigger %q: %w", t.name, err)
		}
	}
	if before != nil {
		after, err := r.compileAll(ctx, triggers)
		if err != nil {
			return err
		}
		if err := r.compare(ctx, before, after, dropped); err != nil {
			return err
		}
	}
	return r.checkForeignKeys(ctx, m.def, refs)
}

// copyRows is step 5: every row, with its rowid, into the new table.
// Generated columns are left out: the new table computes them.
func (r *rebuilder) copyRows(ctx context.Context, m *tableModel, scratch string) error {
	alias := ""
	if !m.old.withoutRowid && !m.def.withoutRowid {
		for _, a := range []string{"rowid", "_rowid_", "oid"} {
			if !hasColumnFold(m.old, a) && !hasColumnFold(m.def, a) {
				alias = a
				break
			}
		}
	}
	ipk := m.def.rowidAlias()
	var into, from []string
	if alias != "" && ipk == nil {
		into, from = append(into, alias), append(from, alias)
	}
	for _, c := range m.def.columns() {
		if c.generated() {
			continue
		}
		src := c.from
		if c == ipk && src == "" {
			src = alias
		}
		if src == "" {
			continue
		}
		into, from = append(into, quoteName(c.name)), append(from, src)
	}
	if len(into) == 0 {
		return errors.New("copy rows: no column of the new table is filled from the old one")
	}
	stmt := "INSERT INTO main." + quoteName(scratch) + " (" + strings.Join(into, ", ") + ") SELECT " +
		strings.Join(from, ", ") + " FROM main." + quoteName(r.name)
	if err := r.exec(ctx, stmt); err != nil {
		return fmt.Errorf("copy rows: %w", err)
	}
	return nil
}

func hasColumnFold(d *tableDef, name string) bool {
	for _, c := range d.columns() {
		if foldEq(c.name, name) {
			return true
		}
	}
	return false
}

func (r *rebuilder) sequence(ctx context.Context) (sql.NullInt64, error) {
	var seq sql.NullInt64
	var n int
	if err := r.ex.QueryRowContext(ctx, `SELECT count(*) FROM main.sqlite_schema WHERE name = 'sqlite_sequence'`).Scan(&n); err != nil {
		return seq, fmt.Errorf("read sqlite_sequence: %w", err)
	}
	if n == 0 {
		return seq, nil
	}
	err := r.ex.QueryRowContext(ctx, `SELECT seq FROM main.sqlite_sequence WHERE name = ?`, r.name).Scan(&seq)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return seq, fmt.Errorf("read sqlite_sequence: %w", err)
	}
	return seq, nil
}

// scratchName returns a table name that no object of the schema has.
func (r *rebuilder) scratchName(ctx context.Context) (string, error) {
	base := "strata_new_" + r.name
	name := base
	for n := 2; ; n++ {
		var c int
		err := r.ex.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM main.sqlite_schema WHERE name = ?1 COLLATE NOCASE)
			+ (SELECT count(*) FROM temp.sqlite_schema WHERE name = ?1 COLLATE NOCASE)`, name).Scan(&c)
		if err != nil {
			return "", fmt.Errorf("choose a scratch table name: %w", err)
		}
		if c == 0 {
			return name, nil
		}
		name = fmt.Sprintf("%s_%d", base, n)
	}
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
	rows, err := r.ex.QueryContext(ctx, `SELECT 'main', name FROM main.sqlite_schema WHERE type = 'view'
		UNION ALL SELECT 'temp', name FROM temp.sqlite_schema WHERE type = 'view'`)
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	var views [][2]string
	for rows.Next() {
		var v [2]string
		if err := rows.Scan(&v[0], &v[1]); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list views: %w", err)
		}
		views = append(views, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list views: %w", err)
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

// checkForeignKeys is step 10: PRAGMA foreign_key_check on the rebuilt
// table and on the tables that refer to it.
func (r *rebuilder) checkForeignKeys(ctx context.Context, def *tableDef, refs []fkRef) error {
	var tables []string
	if def.hasForeignKeys() {
		tables = append(tables, r.name)
	}
	for _, f := range refs {
		if !containsFold(tables, f.child) {
			tables = append(tables, f.child)
		}
	}
	var fe ForeignKeyError
	for _, t := range tables {
		if err := r.foreignKeyCheck(ctx, t, &fe); err != nil {
			return err
		}
	}
	if len(fe.Violations) > 0 {
		return &fe
	}
	return nil
}

func (r *rebuilder) foreignKeyCheck(ctx context.Context, table string, fe *ForeignKeyError) error {
	rows, err := r.ex.QueryContext(ctx, "PRAGMA main.foreign_key_check("+quoteName(table)+")")
	if err != nil {
		return fmt.Errorf("foreign_key_check %q: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v ForeignKeyViolation
		var rowid sql.NullInt64
		if err := rows.Scan(&v.Table, &rowid, &v.Parent, &v.FKID); err != nil {
			return fmt.Errorf("foreign_key_check %q: %w", table, err)
		}
		v.RowID = rowid.Int64
		fe.Violations = append(fe.Violations, v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("foreign_key_check %q: %w", table, err)
	}
	return nil
}
