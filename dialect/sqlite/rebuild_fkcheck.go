package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// This file holds step 10 of SQLite's procedure: PRAGMA
// foreign_key_check on the rebuilt table and on the tables that refer to
// it, so that a rebuild that breaks a foreign key fails with a
// [*ForeignKeyError] and is rolled back.

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
