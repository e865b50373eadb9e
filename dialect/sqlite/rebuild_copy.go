package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// This file holds steps 4 to 7 of SQLite's procedure: the new table made
// under a scratch name, the rows copied into it with their rowids, the old
// table dropped and the new one renamed in its place; and the
// AUTOINCREMENT counter, remembered in step 3 and set back after the
// copy.

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

// replaceTable is steps 4 to 7: it creates the new table under a scratch
// name, copies the rows into it, drops the old table and gives the new one
// its name.
func (r *rebuilder) replaceTable(ctx context.Context, m *tableModel) error {
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
	return nil
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

// restoreSequence sets the AUTOINCREMENT counter of the new table back to
// seq, what the old table's was, so that no rowid is handed out twice.
func (r *rebuilder) restoreSequence(ctx context.Context, m *tableModel, seq sql.NullInt64) error {
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
	return nil
}
