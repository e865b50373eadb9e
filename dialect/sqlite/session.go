package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/internal/sqlitefile"
)

// sessionPragmas are the per-connection settings a migration may change
// that Restore puts back.
var sessionPragmas = []string{
	"foreign_keys", "legacy_alter_table", "recursive_triggers", "ignore_check_constraints",
	"writable_schema", "query_only", "reverse_unordered_selects", "automatic_index",
	"trusted_schema", "cell_size_check", "busy_timeout",
}

// CheckTable refuses a version table in the temp schema: it would vanish
// with the connection, and the next run would apply every migration again.
func (*Dialect) CheckTable(name string) error {
	if schema, _, ok := dialect.SplitTable(name); ok && asciiEqualFold(schema, "temp") {
		return fmt.Errorf("version table %q: the temp schema does not outlive the connection, so every run would apply everything again", name)
	}
	return nil
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// SaveSession reads the per-connection pragmas a migration may change
// (foreign_keys, busy_timeout, query_only and the like) and the attached
// databases. Unqualified, the version table is addressed in main, so a
// TEMP table of the same name cannot shadow it.
func (*Dialect) SaveSession(ctx context.Context, conn *sql.Conn, table string) (dialect.Session, error) {
	s := &session{schema: "main"}
	if schema, _, ok := dialect.SplitTable(table); ok {
		s.schema = schema
	}
	// Prepared once: a run reads it after every migration.
	stmt, err := conn.PrepareContext(ctx, snapshotQuery)
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	s.stmt = stmt
	sn, err := readSnapshot(ctx, stmt)
	if err != nil {
		stmt.Close()
		return nil, err
	}
	s.saved = sn
	if s.attached, err = attached(ctx, conn); err == nil {
		s.temp, err = tempObjects(ctx, conn)
	}
	if err != nil {
		stmt.Close()
		return nil, err
	}
	return s, nil
}

// tempObjects returns the tables, views and triggers of the temp schema,
// by type and name.
func tempObjects(ctx context.Context, conn *sql.Conn) (map[[2]string]bool, error) {
	rows, err := conn.QueryContext(ctx, `SELECT type, name FROM temp.sqlite_schema WHERE type IN ('table', 'view', 'trigger')`)
	if err != nil {
		return nil, fmt.Errorf("read temp schema: %w", err)
	}
	defer rows.Close()
	objs := map[[2]string]bool{}
	for rows.Next() {
		var o [2]string
		if err := rows.Scan(&o[0], &o[1]); err != nil {
			return nil, fmt.Errorf("read temp schema: %w", err)
		}
		objs[o] = true
	}
	return objs, rows.Err()
}

// InTransaction reports whether the go-sqlite3 connection rc reaches is
// in a transaction (sqlite3_get_autocommit is false).
func (*Dialect) InTransaction(rc dialect.RawConner) (bool, error) {
	var in bool
	err := rc.Raw(func(dc any) error {
		c, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("driver connection %T is not go-sqlite3's", dc)
		}
		in = !c.AutoCommit()
		return nil
	})
	return in, err
}

// snapshotQuery reads, in one statement, the pragmas of sessionPragmas,
// then the names of the attached databases and the temp schema's objects,
// each as one string.
var snapshotQuery = func() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for _, p := range sessionPragmas {
		b.WriteString("(SELECT * FROM pragma_" + p + "), ")
	}
	b.WriteString(`(SELECT group_concat(name, char(31)) FROM pragma_database_list),
	(SELECT group_concat(type || char(30) || name, char(31)) FROM temp.sqlite_schema WHERE type IN ('table', 'view', 'trigger'))`)
	return b.String()
}()

// snapshot is what snapshotQuery reads.
type snapshot struct {
	vals       []int64 // of sessionPragmas
	dbs, temps sql.NullString
}

func readSnapshot(ctx context.Context, stmt *sql.Stmt) (snapshot, error) {
	sn := snapshot{vals: make([]int64, len(sessionPragmas))}
	dest := make([]any, 0, len(sn.vals)+2)
	for i := range sn.vals {
		dest = append(dest, &sn.vals[i])
	}
	dest = append(dest, &sn.dbs, &sn.temps)
	if err := stmt.QueryRowContext(ctx).Scan(dest...); err != nil {
		return sn, fmt.Errorf("read session: %w", err)
	}
	return sn, nil
}

func attached(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	dbs, err := sqlitefile.List(ctx, conn)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, d := range dbs {
		names[d.Name] = true
	}
	return names, nil
}

// session is a SQLite connection's settings as saved.
type session struct {
	schema   string
	stmt     *sql.Stmt // snapshotQuery, on the connection saved
	saved    snapshot
	attached map[string]bool
	temp     map[[2]string]bool // temp schema objects
}

func (s *session) Schema() string { return s.schema }

// Close releases the statement the session reads its state with.
func (s *session) Close() error { return s.stmt.Close() }

// Reusable is true: the connection may be the only one an in-memory
// database has, so it is restored, not discarded.
func (s *session) Reusable() bool { return true }

// Restore ends a transaction left open (see [dialect.Session]), sets the pragmas
// it changed back, detaches the databases it attached and drops the
// temporary tables, views and triggers it created: a new connection would
// not have them, and a temporary table may shadow one of main.
func (s *session) Restore(ctx context.Context, conn *sql.Conn, commit bool) error {
	if in, err := New().InTransaction(conn); err == nil && in {
		end := "ROLLBACK"
		if commit {
			end = "COMMIT"
		}
		if _, err := conn.ExecContext(ctx, end); err != nil {
			return fmt.Errorf("%s the transaction left open: %w", strings.ToLower(end), err)
		}
	}
	now, err := readSnapshot(ctx, s.stmt)
	if err != nil {
		return err
	}
	var errs []error
	for i, p := range sessionPragmas {
		if now.vals[i] != s.saved.vals[i] {
			if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA %s = %d`, p, s.saved.vals[i])); err != nil {
				errs = append(errs, fmt.Errorf("restore %s: %w", p, err))
			}
		}
	}
	if now.dbs != s.saved.dbs {
		names, err := attached(ctx, conn)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for name := range names {
			if !s.attached[name] && name != "temp" {
				if _, err := conn.ExecContext(ctx, `DETACH DATABASE `+dialect.QuoteDouble(name)); err != nil {
					errs = append(errs, fmt.Errorf("detach %q: %w", name, err))
				}
			}
		}
	}
	if now.temps == s.saved.temps {
		return errors.Join(errs...)
	}
	objs, err := tempObjects(ctx, conn)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for o := range objs {
		if s.temp[o] {
			continue
		}
		// Dropping a table drops its triggers: this one may be gone.
		if _, err := conn.ExecContext(ctx, `DROP `+strings.ToUpper(o[0])+` IF EXISTS temp.`+dialect.QuoteDouble(o[1])); err != nil {
			errs = append(errs, fmt.Errorf("drop temporary %s %q: %w", o[0], o[1], err))
		}
	}
	return errors.Join(errs...)
}
