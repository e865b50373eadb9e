// Package workload defines the migrations the benchmarks apply, as plain SQL
// statements that every tool turns into its own form (strata migrations,
// goose SQL files, golang-migrate up/down files, or statements the raw floor
// executes), and the queries that check afterwards what happened.
package workload

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Migration is one numbered migration.
type Migration struct {
	// Version numbers migrations from 1, in the order they apply.
	Version int64
	// Name is a short description, used in IDs and file names.
	Name string
	// Up and Down are the statements that apply and revert it.
	Up, Down []string
}

// ID returns the migration's ID as strata and the file names use it:
// "00042_t".
func (m Migration) ID() string { return fmt.Sprintf("%05d_%s", m.Version, m.Name) }

// Script joins statements into one SQL text, one statement a line, each
// ended with a semicolon.
func Script(stmts []string) string {
	var b strings.Builder
	for _, s := range stmts {
		b.WriteString(s)
		b.WriteString(";\n")
	}
	return b.String()
}

// Text returns stmts as one string to execute in a single call: the
// statement itself if there is one, else [Script].
func Text(stmts []string) string {
	if len(stmts) == 1 {
		return stmts[0]
	}
	return Script(stmts)
}

// Tables returns n trivial migrations: migration i creates table t_<i>
// with one integer primary key and its Down drops it.
func Tables(n int) []Migration {
	ms := make([]Migration, n)
	for i := range ms {
		v := int64(i + 1)
		t := fmt.Sprintf("t_%05d", v)
		ms[i] = Migration{
			Version: v,
			Name:    "t",
			Up:      []string{`CREATE TABLE ` + t + ` (id INTEGER PRIMARY KEY)`},
			Down:    []string{`DROP TABLE ` + t},
		}
	}
	return ms
}

// RunsTable counts how often the Up of each [Race] migration ran and was
// committed. The benchmark creates it before the migrators start.
const RunsTable = "bench_runs"

// RunsTableDDL creates [RunsTable].
const RunsTableDDL = `CREATE TABLE ` + RunsTable + ` (id INTEGER NOT NULL)`

// Race returns n migrations for many migrators at once: migration i first
// records that it ran in [RunsTable], then creates table r_<i>. A migration
// that runs twice either fails on the second CREATE TABLE or, where DDL is
// not transactional, leaves two rows in RunsTable.
func Race(n int) []Migration {
	ms := make([]Migration, n)
	for i := range ms {
		v := int64(i + 1)
		t := fmt.Sprintf("r_%03d", v)
		ms[i] = Migration{
			Version: v,
			Name:    "r",
			Up: []string{
				fmt.Sprintf(`INSERT INTO %s (id) VALUES (%d)`, RunsTable, v),
				`CREATE TABLE ` + t + ` (id INTEGER PRIMARY KEY)`,
			},
			Down: []string{`DROP TABLE ` + t},
		}
	}
	return ms
}

// CountTables returns how many tables of db's current database or schema
// have a name starting with prefix (such as "t_").
func CountTables(ctx context.Context, db *sql.DB, dialect, prefix string) (int, error) {
	var q string
	switch dialect {
	case "sqlite":
		q = `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND substr(name, 1, length(?)) = ?`
	case "postgres":
		q = `SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND left(tablename, length($1)) = $2`
	case "mysql":
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND LEFT(table_name, CHAR_LENGTH(?)) = ?`
	default:
		return 0, fmt.Errorf("workload: unknown dialect %q", dialect)
	}
	var n int
	if err := db.QueryRowContext(ctx, q, prefix, prefix).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tables %s*: %w", prefix, err)
	}
	return n, nil
}

// RunCounts returns how often the Up of each of the n [Race] migrations ran
// and was committed, indexed by version (index 0 unused).
func RunCounts(ctx context.Context, db *sql.DB, n int) ([]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, count(*) FROM `+RunsTable+` GROUP BY id`)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", RunsTable, err)
	}
	defer rows.Close()
	counts := make([]int, n+1)
	for rows.Next() {
		var id int64
		var c int
		if err := rows.Scan(&id, &c); err != nil {
			return nil, fmt.Errorf("read %s: %w", RunsTable, err)
		}
		if id < 1 || id > int64(n) {
			return nil, fmt.Errorf("read %s: unexpected id %d", RunsTable, id)
		}
		counts[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", RunsTable, err)
	}
	return counts, nil
}
