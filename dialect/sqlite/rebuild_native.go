package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// This file holds the path that skips the 12 steps: SQLite's own ALTER
// TABLE DROP COLUMN, which rewrites the rows in place and leaves indexes
// alone, tried when the changes only remove columns. Outside a transaction
// it runs as one of its own (autocommitDrop), inside one under the
// rebuild's savepoint (nativeDrop). SQLite checks less than the rebuild,
// so the views and triggers are compiled before and after it
// (rebuild_depend.go) and a drop that breaks one is rolled back.

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
		return r.dropColumn(ctx, m.dropped[0].name)
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
	if ok, err := r.dropColumn(ctx, m.dropped[0].name); !ok || err != nil {
		return false, err
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
		ok, err := r.dropColumn(ctx, c.name)
		if err != nil {
			return false, err
		}
		if !ok {
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

// dropColumn runs ALTER TABLE DROP COLUMN on the table; ok is false when
// SQLite refuses it, which it does before changing anything.
func (r *rebuilder) dropColumn(ctx context.Context, name string) (ok bool, err error) {
	if err := r.exec(ctx, "ALTER TABLE main."+quoteName(r.name)+" DROP COLUMN "+quoteName(name)); err != nil {
		if refused(err) {
			return false, nil
		}
		return false, fmt.Errorf("drop column %q: %w", name, err)
	}
	return true, nil
}

// refused reports whether err is SQLite refusing a statement (SQLITE_ERROR),
// as opposed to failing to run it (busy, I/O, interrupted).
func refused(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrError
}
