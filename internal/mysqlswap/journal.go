package mysqlswap

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// journalTable is the journal's table in the hold database.
const journalTable = "strata_swap_journal"

// journalFormat is written into the journal; a journal of another format
// is refused rather than misread.
const journalFormat = "1"

// journal is what a swap records before it changes anything: enough to
// tell whether its tables moved, and to create the views, triggers and
// routines of either side again.
type journal struct {
	target, scratch      string
	oldTables, newTables []string
	oldObjs, newObjs     []object
}

// The roles of the journal's rows. The header row, written last in the
// same transaction, says the journal is whole.
const (
	roleHeader   = "swap"
	roleOldTable = "old table"
	roleNewTable = "new table"
	roleOld      = "old"
	roleNew      = "new"
)

// write creates the journal table in hold and fills it in one
// transaction. Names and statements are stored as bytes, exactly as the
// connection's character set had them.
func (j *journal) write(ctx context.Context, conn *sql.Conn, hold string) (err error) {
	tbl := quote(hold) + "." + quote(journalTable)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE `+tbl+` (
		seq      INT          NOT NULL PRIMARY KEY,
		role     VARCHAR(16)  NOT NULL,
		kind     VARCHAR(16)  NOT NULL,
		name     VARBINARY(1024) NOT NULL,
		sql_mode BLOB         NOT NULL,
		stmt     LONGBLOB     NOT NULL
	) ENGINE=InnoDB`); err != nil {
		return err
	}
	type row struct{ role, kind, name, mode, stmt string }
	var rows []row
	for _, t := range j.oldTables {
		rows = append(rows, row{role: roleOldTable, name: t})
	}
	for _, t := range j.newTables {
		rows = append(rows, row{role: roleNewTable, name: t})
	}
	for _, o := range j.oldObjs {
		rows = append(rows, row{roleOld, o.kind, o.name, o.sqlMode, o.create})
	}
	for _, o := range j.newObjs {
		rows = append(rows, row{roleNew, o.kind, o.name, o.sqlMode, o.create})
	}
	rows = append(rows, row{role: roleHeader, kind: journalFormat, name: j.target, stmt: j.scratch})

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// A few INSERTs of many rows each, kept well under max_allowed_packet.
	const maxRows, maxBytes = 200, 1 << 20
	var q strings.Builder
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, q.String(), args...)
		q.Reset()
		args = args[:0]
		return err
	}
	size := 0
	for i, r := range rows {
		if len(args) > 0 && (len(args)/6 >= maxRows || size+len(r.stmt) > maxBytes) {
			if err := flush(); err != nil {
				return err
			}
			size = 0
		}
		if len(args) == 0 {
			q.WriteString(`INSERT INTO ` + tbl + ` (seq, role, kind, name, sql_mode, stmt) VALUES (?, ?, ?, ?, ?, ?)`)
		} else {
			q.WriteString(`, (?, ?, ?, ?, ?, ?)`)
		}
		args = append(args, i, r.role, r.kind, []byte(r.name), []byte(r.mode), []byte(r.stmt))
		size += len(r.stmt) + len(r.name) + len(r.mode)
	}
	if err := flush(); err != nil {
		return err
	}
	return tx.Commit()
}

// readJournal reads the journal in hold. It returns nil if there is none
// or it was not written whole: the swap was stopped before it changed
// anything.
func readJournal(ctx context.Context, conn *sql.Conn, hold string) (*journal, error) {
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`,
		hold, journalTable).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := conn.QueryContext(ctx, `SELECT role, kind, name, sql_mode, stmt FROM `+quote(hold)+`.`+quote(journalTable)+` ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	j := &journal{}
	whole := false
	for rows.Next() {
		var role, kind string
		var name, mode, stmt []byte
		if err := rows.Scan(&role, &kind, &name, &mode, &stmt); err != nil {
			return nil, err
		}
		o := object{kind: kind, name: string(name), sqlMode: string(mode), create: string(stmt)}
		switch role {
		case roleHeader:
			if kind != journalFormat {
				return nil, fmt.Errorf("journal of format %q, this version reads %q", kind, journalFormat)
			}
			j.target, j.scratch, whole = string(name), string(stmt), true
		case roleOldTable:
			j.oldTables = append(j.oldTables, o.name)
		case roleNewTable:
			j.newTables = append(j.newTables, o.name)
		case roleOld:
			j.oldObjs = append(j.oldObjs, o)
		case roleNew:
			j.newObjs = append(j.newObjs, o)
		default:
			return nil, fmt.Errorf("journal row of unknown role %q", role)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !whole {
		return nil, nil
	}
	return j, nil
}

// moved reports whether the swap's RENAME TABLE has happened, from where
// the tables are: the old ones in hold, or (if the target had none) the
// new ones in the target. RENAME TABLE moves all of them or none. With no
// tables on either side there is nothing to tell by, and false sends the
// caller back to the old state, which is as good an end.
func (j *journal) moved(ctx context.Context, conn *sql.Conn, hold string) (bool, error) {
	schema, names := hold, j.oldTables
	if len(names) == 0 {
		schema, names = j.target, j.newTables
	}
	if len(names) == 0 {
		return false, nil
	}
	have, err := tables(ctx, conn, schema)
	if err != nil {
		return false, err
	}
	in := map[string]bool{}
	for _, t := range have {
		in[t] = true
	}
	n := 0
	for _, t := range names {
		if in[t] {
			n++
		}
	}
	if n != 0 && n != len(names) {
		return false, errors.New("some of the tables are in database " + schema + " and some are not; " +
			"RENAME TABLE moves all or none, so the tables were changed by hand since")
	}
	return n > 0, nil
}
