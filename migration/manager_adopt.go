package migration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-go/strata/dialect"
)

// Tools whose version tables [Manager.Adopt] reads.
const (
	ToolGoose         = "goose"
	ToolGolangMigrate = "golang-migrate"
)

// Default version tables of the tools [Manager.Adopt] reads.
const (
	GooseTable         = "goose_db_version"
	GolangMigrateTable = "schema_migrations"
)

// ErrForeignVersionTable: the database has no strata version table but
// another tool's, recording applied migrations; running them again would
// fail or do harm. Adopt the database with [Manager.Adopt] first.
var ErrForeignVersionTable = errors.New("migration: the database is managed by another migration tool")

// AdoptSource names the version table [Manager.Adopt] reads.
type AdoptSource struct {
	// Tool is ToolGoose or ToolGolangMigrate.
	Tool string
	// Table is the tool's version table; empty means its default
	// ([GooseTable], [GolangMigrateTable]).
	Table string
}

func (s AdoptSource) table() (string, error) {
	if s.Table != "" {
		return s.Table, dialect.ValidTableName(s.Table)
	}
	switch s.Tool {
	case ToolGoose:
		return GooseTable, nil
	case ToolGolangMigrate:
		return GolangMigrateTable, nil
	}
	return "", fmt.Errorf("unknown tool %q (want %q or %q)", s.Tool, ToolGoose, ToolGolangMigrate)
}

// Adopt takes over a database that goose or golang-migrate has migrated:
// it reads the tool's version table, maps each applied version to the
// migration whose ID begins with that number (00003_add_email and
// 3_add_email are version 3, as the tools read their file names), and
// records those migrations as applied without running them, in one
// transaction, with the live schema recorded for [Manager.Drift]. The rows
// are marked as [Manager.Baseline] marks its rows. The tool's table is left
// as it is. Migrations already recorded by strata are left alone. It
// returns the IDs it recorded, in order.
//
// Adopt refuses, changing nothing, a golang-migrate table marked dirty (a
// migration failed halfway: repair the database and force the version
// with golang-migrate first), an applied version that no migration has,
// and two migrations with the same version.
func (m *Manager) Adopt(ctx context.Context, src AdoptSource) (ids []string, err error) {
	defer recoverInto(&err)
	table, err := src.table()
	if err != nil {
		return nil, fmt.Errorf("migration: Adopt: %w", err)
	}
	err = m.withLock(ctx, true, func(conn *sql.Conn, st *state) error {
		if err := m.dirtyErr(st); err != nil {
			return err
		}
		applied, err := m.foreignApplied(ctx, conn, src.Tool, table)
		if err != nil {
			return stepErr("", StepState, err)
		}
		adopt, err := m.mapVersions(src.Tool, table, applied)
		if err != nil {
			return stepErr("", StepState, err)
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return stepErr("", StepRecord, fmt.Errorf("begin transaction: %w", err))
		}
		defer tx.Rollback()
		saved := st.clone()
		for _, id := range m.g.order {
			if !adopt[id] || st.get(id) != nil {
				continue
			}
			r := st.next(m.g.byID[id], 0, false)
			r.Baselined = true
			if err := st.tbl.insert(ctx, tx, r); err != nil {
				*st = *saved
				return stepErr(id, StepRecord, err)
			}
			st.push(r)
			ids = append(ids, id)
		}
		if err := tx.Commit(); err != nil {
			*st = *saved
			ids = nil
			return stepErr("", StepRecord, fmt.Errorf("commit: %w", err))
		}
		for _, id := range ids {
			m.cfg.log.InfoContext(ctx, "migration adopted", "migration", id, "from", src.Tool)
		}
		if len(ids) > 0 {
			m.recordSchema(ctx, conn, st)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// foreignApplied reads the versions tool's table records as applied.
func (m *Manager) foreignApplied(ctx context.Context, q dialect.Execer, tool, table string) (map[int64]bool, error) {
	exists, err := m.d.HasTable(ctx, q, table)
	if err != nil {
		return nil, fmt.Errorf("look for %s's table %q: %w", tool, table, err)
	}
	if !exists {
		return nil, fmt.Errorf("no table %q: the database has no %s version table by that name", table, tool)
	}
	t := dialect.QuoteTable(m.d, table)
	applied := map[int64]bool{}
	switch tool {
	case ToolGoose:
		// goose appends a row per up and per down; the newest row of a
		// version says whether it is applied. Version 0 is goose's own
		// first row.
		rows, err := q.QueryContext(ctx, `SELECT version_id, is_applied FROM `+t+` ORDER BY id`)
		if err != nil {
			return nil, fmt.Errorf("read %s's table %q: %w", tool, table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var v int64
			var ok bool
			if err := rows.Scan(&v, &ok); err != nil {
				return nil, fmt.Errorf("read %s's table %q: %w", tool, table, err)
			}
			if v != 0 {
				applied[v] = ok
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read %s's table %q: %w", tool, table, err)
		}
		for v, ok := range applied {
			if !ok {
				delete(applied, v)
			}
		}
	case ToolGolangMigrate:
		// One row: the newest version applied, and whether it failed
		// halfway. Every version up to it is applied.
		var v int64
		var dirty bool
		err := q.QueryRowContext(ctx, `SELECT version, dirty FROM `+t).Scan(&v, &dirty)
		if errors.Is(err, sql.ErrNoRows) {
			return applied, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s's table %q: %w", tool, table, err)
		}
		if dirty {
			return nil, fmt.Errorf("%s's table %q records version %d as dirty: that migration failed halfway and nothing can be adopted; "+
				"fix the database by hand, run golang-migrate's 'force %d' (if it completed) or 'force' to the version before it, then adopt", tool, table, v, v)
		}
		for _, id := range m.g.order {
			if n, ok := idVersion(id); ok && n <= v {
				applied[n] = true
			}
		}
		if _, ok := m.versionIDs()[v]; !ok && v > 0 {
			applied[v] = true // reported as unknown below
		}
	default:
		return nil, fmt.Errorf("unknown tool %q (want %q or %q)", tool, ToolGoose, ToolGolangMigrate)
	}
	return applied, nil
}

// versionIDs maps the version each migration's ID begins with to its IDs.
func (m *Manager) versionIDs() map[int64][]string {
	out := map[int64][]string{}
	for _, id := range m.g.order {
		if n, ok := idVersion(id); ok {
			out[n] = append(out[n], id)
		}
	}
	return out
}

// mapVersions returns the IDs of the applied versions, refusing versions
// no migration or several migrations have.
func (m *Manager) mapVersions(tool, table string, applied map[int64]bool) (map[string]bool, error) {
	byVersion := m.versionIDs()
	out := map[string]bool{}
	var missing []string
	var errs []error
	for _, v := range slices.Sorted(keys(applied)) {
		ids := byVersion[v]
		switch len(ids) {
		case 0:
			missing = append(missing, strconv.FormatInt(v, 10))
		case 1:
			out[ids[0]] = true
		default:
			errs = append(errs, fmt.Errorf("version %d applied by %s is ambiguous: migrations %s all have it", v, tool, strings.Join(quoteAll(ids), ", ")))
		}
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("%s's table %q records version(s) %s as applied, but no migration's ID begins with that number; add those migrations first",
			tool, table, strings.Join(missing, ", ")))
	}
	return out, errors.Join(errs...)
}

func keys[V any](m map[int64]V) func(func(int64) bool) {
	return func(yield func(int64) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// idVersion reads the number an ID begins with, as goose and golang-migrate
// read their file names: digits followed by "_" or the end.
func idVersion(id string) (int64, bool) {
	i := 0
	for i < len(id) && id[i] >= '0' && id[i] <= '9' {
		i++
	}
	if i == 0 || (i < len(id) && id[i] != '_') {
		return 0, false
	}
	n, err := strconv.ParseInt(id[:i], 10, 64)
	return n, err == nil
}

// foreignErr reports a database that has no strata version table but
// another tool's, with applied migrations: running everything again would
// fail on the first CREATE. It costs nothing once the strata table exists.
func (m *Manager) foreignErr(ctx context.Context, q dialect.Execer) error {
	if ok, err := m.d.HasTable(ctx, q, m.cfg.table); err != nil || ok {
		return nil
	}
	probes := []struct{ tool, table, query string }{
		{ToolGoose, GooseTable, `SELECT 1 FROM ` + dialect.QuoteTable(m.d, GooseTable) + ` WHERE version_id > 0 AND is_applied`},
		{ToolGolangMigrate, GolangMigrateTable, `SELECT dirty FROM ` + dialect.QuoteTable(m.d, GolangMigrateTable) + ` WHERE version > 0`},
	}
	for _, p := range probes {
		if ok, err := m.d.HasTable(ctx, q, p.table); err != nil || !ok {
			continue
		}
		rows, err := q.QueryContext(ctx, p.query)
		if err != nil {
			continue // a table of that name, but not the tool's
		}
		found := rows.Next()
		rows.Close()
		if found {
			return &Error{Step: StepState, Err: fmt.Errorf(
				"%w: %s's version table %q records applied migrations and there is no %q table; "+
					"adopt the database so that they are not run again: Manager.Adopt (CLI: adopt --from %s)",
				ErrForeignVersionTable, p.tool, p.table, m.cfg.table, p.tool)}
		}
	}
	return nil
}
