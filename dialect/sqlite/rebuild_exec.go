package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/strata-go/strata/dialect"
)

// This file runs a rebuild from start to end, following SQLite's 12-step
// ALTER TABLE procedure (https://sqlite.org/lang_altertable.html#otheralter):
// finding the table and refusing what cannot be rebuilt, steps 1 and 2
// (foreign keys off, a transaction or a savepoint of the caller's), the
// choice between SQLite's own DROP COLUMN (rebuild_native.go) and a
// rebuild, the order of steps 3 to 10, and steps 11 and 12 (commit,
// foreign keys back on). The steps themselves are in rebuild_depend.go
// (what depends on the table; step 9), rebuild_rename.go (columns renamed
// in place before step 4), rebuild_copy.go (steps 4 to 7),
// rebuild_recreate.go (step 8, indexes and triggers again) and
// rebuild_fkcheck.go (step 10).

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

// pairs runs query and returns its rows of two text columns, with the
// rows closed, so that the connection is free for the next statement.
// what names the list in errors.
func (r *rebuilder) pairs(ctx context.Context, what, query string, args ...any) ([][2]string, error) {
	rows, err := r.ex.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list %s: %w", what, err)
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return out, nil
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

// rebuild is steps 3 to 10 of SQLite's procedure, on the table as
// renameColumns left it. triggers and refs are the triggers of
// the schema and the foreign keys that refer to the table, read before.
//
// before is what compiled before anything changed, when columns are removed.
func (r *rebuilder) rebuild(ctx context.Context, m *tableModel, triggers []trigDef, refs []fkRef, before *compileResult) error {
	dropped := m.droppedNames()
	// Step 3: remember the indexes and the AUTOINCREMENT counter.
	indexes, err := r.indexes(ctx)
	if err != nil {
		return err
	}
	seq, err := r.sequence(ctx)
	if err != nil {
		return err
	}
	// Steps 4 to 7: the new table, filled, in the old one's place.
	if err := r.replaceTable(ctx, m); err != nil {
		return err
	}
	if err := r.restoreSequence(ctx, m, seq); err != nil {
		return err
	}
	// Step 8: the indexes and triggers again. Views are kept as they are
	// and name the table by its name.
	if err := r.recreateIndexes(ctx, indexes, dropped); err != nil {
		return err
	}
	if err := r.recreateTriggers(ctx, triggers); err != nil {
		return err
	}
	// Step 9: no view or trigger that compiled before may fail now.
	if before != nil {
		after, err := r.compileAll(ctx, triggers)
		if err != nil {
			return err
		}
		if err := r.compare(ctx, before, after, dropped); err != nil {
			return err
		}
	}
	// Step 10.
	return r.checkForeignKeys(ctx, m.def, refs)
}
