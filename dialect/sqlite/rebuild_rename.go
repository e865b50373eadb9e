package sqlite

import (
	"context"
	"fmt"
	"sort"
)

// This file renames columns in place before step 4, with SQLite's own
// ALTER TABLE RENAME COLUMN, so that the indexes, triggers, views and
// foreign keys that name them follow, and the rebuild then copies the
// table under the new names.

// renameColumns renames the columns that the changes rename with ALTER
// TABLE RENAME COLUMN, so that SQLite rewrites every index, trigger, view
// and foreign key that names them, and applies the changes again to the
// renamed table.
func (r *rebuilder) renameColumns(ctx context.Context, m *tableModel, changes []Change) (*tableModel, error) {
	origs := m.old.columns()
	cur := make([]string, len(origs))
	final := make([]string, len(origs))
	removed := make([]bool, len(origs))
	for i, c := range origs {
		cur[i] = c.name
	}
	for _, c := range m.dropped {
		removed[c.orig] = true
	}
	var renamed []int
	for _, c := range m.def.columns() {
		if c.orig >= 0 {
			final[c.orig] = c.work
			if c.work != cur[c.orig] {
				renamed = append(renamed, c.orig)
			}
		}
	}
	if len(renamed) == 0 {
		return m, nil
	}
	if r.shadowed {
		i := renamed[0]
		return nil, fmt.Errorf("rename column %q: a TEMP table or view named %q hides the table on this connection, "+
			"and SQLite's ALTER TABLE RENAME COLUMN, which does the renaming, would read the table's indexes and triggers against it",
			cur[i], r.name)
	}
	legacy, err := r.pragmaBool(ctx, "legacy_alter_table")
	if err != nil {
		return nil, err
	}
	if legacy {
		if err := r.exec(ctx, "PRAGMA legacy_alter_table = OFF"); err != nil {
			return nil, fmt.Errorf("switch legacy_alter_table off: %w", err)
		}
		defer func() { _ = r.exec(context.WithoutCancel(ctx), "PRAGMA legacy_alter_table = ON") }()
	}
	rename := func(i int, to string) error {
		err := r.exec(ctx, "ALTER TABLE main."+quoteName(r.name)+" RENAME COLUMN "+quoteName(cur[i])+" TO "+quoteName(to))
		if err != nil {
			return fmt.Errorf("rename column %q to %q: %w", cur[i], to, err)
		}
		cur[i] = to
		return nil
	}
	// A new name that another column still has (a swap, or the name of
	// a removed column) needs a detour through a free name.
	clash := map[int]bool{}
	for _, i := range renamed {
		for j := range cur {
			if foldEq(final[i], cur[j]) {
				clash[i] = true
				if removed[j] {
					clash[j] = true
				}
			}
		}
	}
	if len(clash) > 0 {
		taken := append(append([]string(nil), cur...), final...)
		keys := make([]int, 0, len(clash))
		for i := range clash {
			keys = append(keys, i)
		}
		sort.Ints(keys)
		for _, i := range keys {
			tmp := freeName("strata_tmp_"+cur[i], taken)
			taken = append(taken, tmp)
			if err := rename(i, tmp); err != nil {
				return nil, err
			}
		}
	}
	for _, i := range renamed {
		if err := rename(i, final[i]); err != nil {
			return nil, err
		}
	}
	if err := r.ex.QueryRowContext(ctx, `SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?`, r.name).Scan(&r.sql); err != nil {
		return nil, fmt.Errorf("read renamed table: %w", err)
	}
	work := make([]string, len(origs))
	for i, c := range origs {
		work[i] = c.name
	}
	return newModel(r.name, r.sql, work, changes)
}

func freeName(base string, taken []string) string {
	name := base
	for n := 2; containsFold(taken, name); n++ {
		name = fmt.Sprintf("%s_%d", base, n)
	}
	return name
}
