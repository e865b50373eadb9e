package mysqlswap

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Recover finishes or undoes every swap of target that a killed process
// left unfinished, and drops the other databases restores of target left
// behind (a scratch database whose load was killed). It must run on the
// connection that holds the migration lock, so that no restore of target
// is under way. When there is nothing to do it costs one query.
//
// A swap whose tables had moved is finished: the target's views,
// triggers and routines become exactly the dump's. If they cannot be
// created, the swap is undone instead. A swap whose tables had not moved
// is undone: the old views, triggers and routines are created again where
// missing. The objects are created as the journal has them, with their
// DEFINER as dumped or read. Recover leaves the session's current
// database, sql_mode and foreign_key_checks as it found them.
func Recover(ctx context.Context, conn *sql.Conn, target string) error {
	return recoverTarget(ctx, conn, target, nil)
}

func recoverTarget(ctx context.Context, conn *sql.Conn, target string, hook Hook) (err error) {
	prefix := Prefix(target)
	dbs, err := listDatabases(ctx, conn, prefix)
	if err != nil {
		return fmt.Errorf("list the databases restores of %q left: %w", target, err)
	}
	if len(dbs) == 0 {
		return nil
	}
	r := &run{conn: conn, hook: hook}
	var cur sql.NullString
	var fk int
	if err := conn.QueryRowContext(ctx, `SELECT DATABASE(), @@SESSION.foreign_key_checks`).Scan(&cur, &fk); err != nil {
		return fmt.Errorf("read session: %w", err)
	}
	// The old tables may be referenced from elsewhere; dropping them must
	// not wait for that.
	if err := r.exec(ctx, `SET SESSION foreign_key_checks = 0`); err != nil {
		return err
	}
	defer func() {
		bg := context.WithoutCancel(ctx)
		if ferr := r.exec(bg, fmt.Sprintf(`SET SESSION foreign_key_checks = %d`, fk)); ferr != nil {
			err = errors.Join(err, fmt.Errorf("restore foreign_key_checks: %w", ferr))
		}
		// Without a database before, there is none now either: each
		// recovery ends by dropping the current one.
		if cur.Valid {
			if uerr := r.exec(bg, `USE `+quote(cur.String)); uerr != nil {
				err = errors.Join(err, fmt.Errorf("select database %q again: %w", cur.String, uerr))
			}
		}
	}()
	done := map[string]bool{}
	for _, db := range dbs {
		if db[len(prefix)] != 'o' {
			continue
		}
		scratch := scratchOf(prefix, db)
		if err := r.recoverHold(ctx, target, db, scratch); err != nil {
			return err
		}
		done[db], done[scratch] = true, true
	}
	for _, db := range dbs {
		if done[db] {
			continue
		}
		if err := r.exec(ctx, `DROP DATABASE IF EXISTS `+quote(db)); err != nil {
			return fmt.Errorf("drop database %s left by an interrupted restore of %q: %w", db, target, err)
		}
		if err := r.step("drop " + db); err != nil {
			return err
		}
	}
	return nil
}

// listDatabases lists the databases whose names start with prefix.
func listDatabases(ctx context.Context, conn *sql.Conn, prefix string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT schema_name FROM information_schema.schemata
		WHERE schema_name LIKE ? ESCAPE '|' ORDER BY schema_name`, likeEscape(prefix)+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		// LIKE compares under the collation: be exact.
		if strings.HasPrefix(s, prefix) && len(s) > len(prefix) {
			out = append(out, s)
		}
	}
	return out, rows.Err()
}

// recoverHold finishes or undoes the swap whose journal is in hold, then
// drops scratch and hold.
func (r *run) recoverHold(ctx context.Context, target, hold, scratch string) error {
	j, err := readJournal(ctx, r.conn, hold)
	if err != nil {
		return fmt.Errorf("read the journal of an interrupted restore of %q in database %s: %w", target, hold, err)
	}
	if j != nil {
		if j.target != target || j.scratch != scratch {
			return fmt.Errorf("the journal in database %s is of a restore of %q into %s, not of %q into %s; it is left alone",
				hold, j.target, j.scratch, target, scratch)
		}
		if err := r.exec(ctx, `USE `+quote(target)); err != nil {
			return fmt.Errorf("select database %q: %w", target, err)
		}
		moved, err := j.moved(ctx, r.conn, hold)
		if err != nil {
			return fmt.Errorf("interrupted restore of %q (journal in database %s): %w", target, hold, err)
		}
		var ferr error
		if moved {
			if ferr = r.converge(ctx, target, j.newObjs); ferr == nil {
				ferr = r.step("finished")
			}
			if errors.Is(ferr, ErrStop) {
				return ferr
			}
			if ferr != nil {
				ferr = fmt.Errorf("finish the interrupted restore of %q: %w", target, ferr)
			}
		}
		if !moved || ferr != nil {
			if berr := r.back(ctx, j, hold); berr != nil {
				if errors.Is(berr, ErrStop) {
					return berr
				}
				return errors.Join(ferr, fmt.Errorf("undo the interrupted restore of %q (journal and old tables in database %s): %w", target, hold, berr))
			}
		}
	}
	if err := r.exec(ctx, `DROP DATABASE IF EXISTS `+quote(scratch)); err != nil {
		return fmt.Errorf("drop database %s left by an interrupted restore of %q: %w", scratch, target, err)
	}
	if err := r.step("drop scratch"); err != nil {
		return err
	}
	// Dropping the current database leaves none selected, which is how
	// a session without one is left; the caller selects its own again.
	if err := r.exec(ctx, `USE `+quote(hold)); err != nil {
		return fmt.Errorf("select database %s: %w", hold, err)
	}
	if err := r.exec(ctx, `DROP DATABASE IF EXISTS `+quote(hold)); err != nil {
		return fmt.Errorf("drop database %s left by an interrupted restore of %q: %w", hold, target, err)
	}
	return r.step("drop hold")
}
