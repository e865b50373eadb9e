package mysqlswap

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Claim takes the named lock that marks the databases of one restore of
// target, scratch being its scratch database from [Names], as in use, so that [Recover] on
// another connection leaves them alone. The server releases the lock if
// the connection dies, which is what tells Recover a restore was killed.
// Call release when the restore is over, on every path.
func Claim(ctx context.Context, conn *sql.Conn, target, scratch string) (release func(), err error) {
	p := Prefix(target)
	if !strings.HasPrefix(scratch, p+"n") {
		return nil, fmt.Errorf("%s is not a scratch database of a restore of %q", scratch, target)
	}
	// The prefix and the suffix the restore's databases share: 44
	// characters, where MySQL allows 64.
	name := p + scratch[len(p)+1:]
	got, err := getLock(ctx, conn, name, 0)
	if err != nil {
		return nil, err
	}
	if !got {
		return nil, fmt.Errorf("the lock %s of a restore is held by another session", name)
	}
	return func() { releaseLock(context.WithoutCancel(ctx), conn, name) }, nil
}

// getLock tries to take the named lock name, waiting up to wait seconds.
// A session may take a lock it holds already.
func getLock(ctx context.Context, conn *sql.Conn, name string, wait int) (bool, error) {
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, ?)`, name, wait).Scan(&got); err != nil {
		return false, fmt.Errorf("take the lock %s: %w", name, err)
	}
	if !got.Valid {
		return false, fmt.Errorf("take the lock %s: the server answered NULL", name)
	}
	return got.Int64 == 1, nil
}

func releaseLock(ctx context.Context, conn *sql.Conn, name string) {
	conn.ExecContext(ctx, `DO RELEASE_LOCK(?)`, name)
}

// recoverWait is how many seconds Recover waits for the lock of a
// restore's databases before it leaves them to the restore holding it.
const recoverWait = 2

// Recover finishes or undoes every swap of target that a killed process
// left unfinished, and drops the other databases restores of target left
// behind (a scratch database whose load was killed). The databases of a
// restore still running, which holds the lock [Claim] takes, are left
// alone, whichever connection runs it. It must run on the
// connection that holds the migration lock, so that no restore of target
// is under way. When there is nothing to do it costs one query.
//
// A swap whose tables had moved is finished: the target's views,
// triggers and routines become exactly the dump's. If they cannot be
// created, the swap is undone instead. A swap whose tables had not moved
// is undone: the old views, triggers and routines are created again where
// missing. The objects are created as the journal has them, with their
// DEFINER as dumped or read. Recover leaves the session's current
// database, sql_mode, character set and foreign_key_checks as it found
// them.
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
	charset, err := useUTF8(ctx, conn)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := charset(context.WithoutCancel(ctx)); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
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
	// The databases of one restore share a suffix, and a lock named after
	// it while the restore runs. Each restore's are dealt with while this
	// connection holds that lock, so a second Recover cannot meddle.
	bySuffix := map[string][]string{}
	var suffixes []string
	for _, db := range dbs {
		suf := db[len(prefix)+1:]
		if bySuffix[suf] == nil {
			suffixes = append(suffixes, suf)
		}
		bySuffix[suf] = append(bySuffix[suf], db)
	}
	for _, suf := range suffixes {
		name := prefix + suf
		// A killed restore's session may still be ending (the server
		// notices the closed socket once its statement is done), so
		// wait a little before taking the lock as a live restore's.
		free, err := getLock(ctx, conn, name, recoverWait)
		if err != nil {
			return err
		}
		if !free {
			continue // a restore running on another connection
		}
		err = r.recoverRestore(ctx, target, prefix, suf, bySuffix[suf])
		releaseLock(context.WithoutCancel(ctx), conn, name)
		if err != nil {
			return err
		}
	}
	return nil
}

// recoverRestore finishes or undoes the swap of the restore whose
// databases, dbs, have the suffix suf, or drops what its load left.
func (r *run) recoverRestore(ctx context.Context, target, prefix, suf string, dbs []string) error {
	if hold := prefix + "o" + suf; slices.Contains(dbs, hold) {
		return r.recoverHold(ctx, target, hold, prefix+"n"+suf)
	}
	for _, db := range dbs {
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
