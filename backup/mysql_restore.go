package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-go/strata/internal/mysqlswap"
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
	var lctn int
	if err := conn.QueryRowContext(ctx, `SELECT @@lower_case_table_names`).Scan(&lctn); err != nil {
		return fmt.Errorf("read lower_case_table_names: %w", err)
	}
	fold := lctn != 0
	// A trigger of another database cannot be restored: refuse the dump
	// before anything is created. Only a dump with DELIMITER blocks has
	// triggers to look at.
	if st.delimited {
		if err := checkTriggers(path, target, fold); err != nil {
			return fmt.Errorf("%w: %s: %w; database %q is unchanged", ErrInvalid, path, err, target)
		}
	}
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

	// A restore killed while it swapped left the database part old and
	// part restored, and the journal to finish or undo it with; one
	// killed before left databases to drop.
	if err := mysqlswap.Recover(ctx, conn, target); err != nil {
		return fmt.Errorf("an earlier restore of database %q was interrupted, and finishing or undoing it failed: %w", target, err)
	}
	scratch, hold := mysqlswap.Names(target)
	// While this restore runs, a Recover on another connection (a
	// migration run, another restore) must leave its databases alone.
	release, err := mysqlswap.Claim(ctx, conn, target, scratch)
	if err != nil {
		return err
	}
	defer release()

	var cs, coll string
	if err := conn.QueryRowContext(ctx, `SELECT default_character_set_name, default_collation_name
		FROM information_schema.schemata WHERE schema_name = DATABASE()`).Scan(&cs, &coll); err != nil {
		return fmt.Errorf("read the database's character set: %w", err)
	}
	if err := exec(`CREATE DATABASE ` + quoteBack(scratch) + ` CHARACTER SET ` + cs + ` COLLATE ` + coll); err != nil {
		err = fmt.Errorf("create a scratch database to load the dump into (database %q is unchanged): %w", target, err)
		if strings.Contains(err.Error(), "1044") {
			err = fmt.Errorf("%w; the user needs all privileges on the scratch databases: GRANT ALL ON `%s%%`.* TO the user",
				err, strings.ReplaceAll(mysqlswap.Base, "_", `\_`))
		}
		return err
	}
	defer func() {
		if errors.Is(err, mysqlswap.ErrStop) {
			return // as if killed: Recover finds what is left
		}
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
	// Hashed are the file's bytes; the client gets them with the
	// triggers' headers rewritten for the scratch database (see
	// rewriteTriggers).
	h := sha256.New()
	pr, pw := io.Pipe()
	rewritten := make(chan error, 1)
	go func() {
		err := rewriteTriggers(pw, io.TeeReader(f, h), target, fold)
		pw.CloseWithError(err)
		rewritten <- err
	}()
	err = tool{
		name: filepath.Base(client),
		path: client,
		// --comments: without it the client strips comments, and
		// breaks a trigger whose statement has one (the dump has it
		// inside an executable comment).
		args:   append(c.args(mariadb), "--default-character-set=utf8mb4", "--comments", "--database="+scratch),
		secret: opt,
		env:    env,
		stdin:  pr,
	}.run(ctx)
	pr.Close() // a client that stopped reading: stop the copy
	if rerr := <-rewritten; errors.Is(rerr, errForeignTrigger) {
		return fmt.Errorf("%w: %s: %w; database %q is unchanged", ErrInvalid, path, rerr, target)
	} else if rerr != nil && !errors.Is(rerr, io.ErrClosedPipe) {
		return fmt.Errorf("load the dump into scratch database %s (database %q is unchanged): %w", scratch, target, rerr)
	}
	if err != nil {
		err = fmt.Errorf("load the dump into scratch database %s (database %q is unchanged): %w", scratch, target, err)
		if strings.Contains(err.Error(), "ERROR 1044") {
			err = fmt.Errorf("%w; the DSN's user needs all privileges on the scratch databases: GRANT ALL ON `%s%%`.* TO the user",
				err, strings.ReplaceAll(mysqlswap.Base, "_", `\_`))
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
	return mysqlswap.Swap(ctx, conn, target, scratch, hold, swapHook)
}

// swapHook, if set (by tests), is called at each step of the swap; see
// [mysqlswap.Hook].
var swapHook mysqlswap.Hook

// checkLoaded compares the row count of every table in scratch with want.
func checkLoaded(ctx context.Context, conn *sql.Conn, scratch string, want map[string]int64) error {
	rows, err := conn.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = ? AND table_type NOT IN ('VIEW', 'SYSTEM VIEW')`, scratch)
	if err != nil {
		return fmt.Errorf("list tables of %s: %w", scratch, err)
	}
	var tables []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("list tables of %s: %w", scratch, err)
		}
		tables = append(tables, s)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("list tables of %s: %w", scratch, err)
	}
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

// quoteBack quotes a MySQL identifier with backquotes.
func quoteBack(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
