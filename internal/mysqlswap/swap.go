package mysqlswap

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Swap replaces the tables, views, routines and triggers of target, which
// must be conn's current database, with those of scratch. It creates the
// database hold, writes the journal into it, moves target's tables there
// and scratch's into target in one RENAME TABLE, replaces the views,
// triggers and routines, and drops hold. On failure it puts the old state
// back. If the process dies on the way, [Recover] finishes or undoes the
// swap. hook is nil except in tests.
func Swap(ctx context.Context, conn *sql.Conn, target, scratch, hold string, hook Hook) (err error) {
	r := &run{conn: conn, hook: hook}
	charset, err := useUTF8(ctx, conn)
	if err != nil {
		return fmt.Errorf("%w (database %q is unchanged)", err, target)
	}
	defer func() {
		if cerr := charset(context.WithoutCancel(ctx)); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	newObjs, err := readObjects(ctx, conn, scratch, target)
	if err != nil {
		return fmt.Errorf("read the loaded dump's views, routines and triggers (database %q is unchanged): %w", target, err)
	}
	oldObjs, err := readObjects(ctx, conn, target, target)
	if err != nil {
		return fmt.Errorf("read the views, routines and triggers of database %q (it is unchanged): %w", target, err)
	}
	newTables, err := tables(ctx, conn, scratch)
	if err != nil {
		return err
	}
	oldTables, err := tables(ctx, conn, target)
	if err != nil {
		return err
	}
	if slices.Contains(oldTables, journalTable) {
		return fmt.Errorf("database %q has a table named %s, which a restore needs for itself (the database is unchanged)", target, journalTable)
	}
	// The loaded tables' triggers go before they move (a table with
	// triggers cannot); they are in the journal, to be created again.
	if err := (&run{conn: conn}).drop(ctx, scratch, newObjs, "TRIGGER"); err != nil {
		return fmt.Errorf("%w (database %q is unchanged)", err, target)
	}
	if err := r.exec(ctx, `CREATE DATABASE `+quote(hold)); err != nil {
		return fmt.Errorf("create a database to move the old tables to (database %q is unchanged): %w", target, err)
	}
	// From here on, a failure puts back what was changed, even if ctx is
	// done. hold goes once the swap is done or undone: it holds the
	// journal, which must outlive a failure to undo.
	bg := context.WithoutCancel(ctx)
	keepHold := false
	defer func() {
		if keepHold {
			return
		}
		if derr := r.exec(bg, `DROP DATABASE IF EXISTS `+quote(hold)); derr != nil && err != nil {
			err = errors.Join(err, fmt.Errorf("drop %s: %w", hold, derr))
		}
	}()
	if err := r.step("create hold"); err != nil {
		keepHold = errors.Is(err, ErrStop)
		return err
	}
	j := &journal{target: target, scratch: scratch, oldTables: oldTables, newTables: newTables, oldObjs: oldObjs, newObjs: newObjs}
	if err := j.write(ctx, conn, hold); err != nil {
		return fmt.Errorf("write the restore's journal into database %s (database %q is unchanged): %w", hold, target, err)
	}
	if err := r.step("journal"); err != nil {
		keepHold = errors.Is(err, ErrStop)
		return err
	}
	err = r.forward(ctx, j, hold)
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrStop) {
		keepHold = true
		return err
	}
	err = fmt.Errorf("replace the tables, views, routines and triggers of database %q: %w", target, err)
	if uerr := r.back(bg, j, hold); uerr != nil {
		keepHold = true
		if errors.Is(uerr, ErrStop) {
			return uerr
		}
		return fmt.Errorf("%w; putting the old ones back failed too: %w (the next restore or locked migration run finishes or undoes the restore; until then the old tables are in database %s)", err, uerr, hold)
	}
	return fmt.Errorf("%w; database %q is unchanged", err, target)
}

// forward does the swap j describes from its start: drops the old
// triggers, moves the tables, creates the new triggers, replaces the
// views and routines.
func (r *run) forward(ctx context.Context, j *journal, hold string) error {
	if err := r.drop(ctx, j.target, j.oldObjs, "TRIGGER"); err != nil {
		return err
	}
	pairs := append(renames(j.target, hold, j.oldTables), renames(j.scratch, j.target, j.newTables)...)
	if len(pairs) > 0 {
		if err := r.exec(ctx, `RENAME TABLE `+strings.Join(pairs, ", ")); err != nil {
			return fmt.Errorf("move the loaded tables into database %q: %w", j.target, err)
		}
	}
	if err := r.step("rename"); err != nil {
		return err
	}
	// The tables are the dump's: give them their triggers at once, then
	// replace the views and routines.
	if err := r.create(ctx, j.target, onlyKind(j.newObjs, "TRIGGER")); err != nil {
		return err
	}
	if err := r.drop(ctx, j.target, j.oldObjs, "VIEW", "PROCEDURE", "FUNCTION"); err != nil {
		return err
	}
	if err := r.create(ctx, j.target, notKind(j.newObjs, "TRIGGER")); err != nil {
		return err
	}
	return r.step("done")
}

// back puts the state before the swap j describes back, from wherever the
// swap got to: if the tables moved, it drops every view, trigger and
// routine of the target and moves the tables back; then it makes the
// target's views, triggers and routines the old ones. The target must be
// the current database.
func (r *run) back(ctx context.Context, j *journal, hold string) error {
	moved, err := j.moved(ctx, r.conn, hold)
	if err != nil {
		return err
	}
	if moved {
		have, err := readObjects(ctx, r.conn, j.target, j.target)
		if err != nil {
			return err
		}
		if err := r.drop(ctx, j.target, have); err != nil {
			return err
		}
		if err := r.exec(ctx, `CREATE DATABASE IF NOT EXISTS `+quote(j.scratch)); err != nil {
			return fmt.Errorf("create database %s to move the loaded tables back to: %w", j.scratch, err)
		}
		pairs := append(renames(j.target, j.scratch, j.newTables), renames(hold, j.target, j.oldTables)...)
		if err := r.exec(ctx, `RENAME TABLE `+strings.Join(pairs, ", ")); err != nil {
			return fmt.Errorf("move the old tables back from database %s into %q: %w", hold, j.target, err)
		}
		if err := r.step("rename back"); err != nil {
			return err
		}
	}
	return r.converge(ctx, j.target, j.oldObjs)
}

// renames returns the "from.t TO to.t" clauses of RENAME TABLE for tables.
func renames(from, to string, tables []string) []string {
	var out []string
	for _, t := range tables {
		out = append(out, quote(from)+"."+quote(t)+" TO "+quote(to)+"."+quote(t))
	}
	return out
}
