package sqlite

import (
	"context"
	"fmt"
)

// This file holds step 8 of SQLite's procedure: the indexes and triggers
// of the table, which dropping the old table takes with it, made again on
// the new table from their CREATE statements. Step 3 reads the indexes'
// here and the triggers' with what else depends on the table
// (rebuild_depend.go). Views are not dropped and need no recreating; step
// 9 checks them.

// indexes is step 3 for the indexes: the name and CREATE INDEX of every
// index of the table that has one (not the automatic ones of PRIMARY KEY
// and UNIQUE constraints), in the order they were made.
func (r *rebuilder) indexes(ctx context.Context) ([][2]string, error) {
	return r.pairs(ctx, "indexes", `SELECT name, sql FROM main.sqlite_schema
		WHERE type = 'index' AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL ORDER BY rowid`, r.name)
}

// recreateIndexes is step 8 for the indexes: each one made again in main,
// except those that involve a removed column, which go with it.
func (r *rebuilder) recreateIndexes(ctx context.Context, indexes [][2]string, dropped []string) error {
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
	return nil
}

// recreateTriggers is step 8 for the triggers: those on the table, which
// went with the old table, made again as they were, TEMP ones included.
func (r *rebuilder) recreateTriggers(ctx context.Context, triggers []trigDef) error {
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
	return nil
}
