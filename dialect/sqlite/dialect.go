package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/strata-go/strata/backup"
	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/internal/sqlitefile"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/schema"
)

// Name is the name the dialect registers under.
const Name = "sqlite"

// Dialect is the SQLite dialect. Use [New].
type Dialect struct{}

// The optional interfaces of package dialect (and package schema) that
// the SQLite dialect implements. It also implements
// migration.DefaultBackuper ([Dialect.Backuper]), asserted in package
// migration's tests, as this package does not import migration.
var (
	_ dialect.Dialect       = (*Dialect)(nil)
	_ dialect.Hooks         = (*Dialect)(nil)
	_ dialect.Sessioner     = (*Dialect)(nil)
	_ dialect.TxProber      = (*Dialect)(nil)
	_ dialect.TableChecker  = (*Dialect)(nil)
	_ dialect.ColumnDropper = (*Dialect)(nil)
	_ dialect.Opener        = (*Dialect)(nil)
	_ schema.Inspector      = (*Dialect)(nil)
)

func init() {
	if err := dialect.Register(New()); err != nil {
		panic(err)
	}
}

// New returns the SQLite dialect.
func New() *Dialect { return &Dialect{} }

// Name returns "sqlite".
func (*Dialect) Name() string { return Name }

// QuoteIdent quotes name with double quotes.
func (*Dialect) QuoteIdent(name string) string { return dialect.QuoteDouble(name) }

// Placeholder returns "?".
func (*Dialect) Placeholder(int) string { return "?" }

// TransactionalDDL is true: SQLite rolls schema changes back.
func (*Dialect) TransactionalDDL() bool { return true }

// VersionTableDDL returns the CREATE TABLE of the version table.
func (d *Dialect) VersionTableDDL(table string) []string {
	return []string{`CREATE TABLE IF NOT EXISTS ` + dialect.QuoteTable(d, table) + ` (
	seq         INTEGER NOT NULL PRIMARY KEY, -- the rowid: one B-tree less per row
	id          TEXT    NOT NULL UNIQUE,
	description TEXT    NOT NULL DEFAULT '',
	applied_at  TIMESTAMP NOT NULL,
	duration_us INTEGER NOT NULL DEFAULT 0,
	dirty       BOOLEAN NOT NULL DEFAULT FALSE,
	fingerprint TEXT    NOT NULL DEFAULT '',
	schema_fingerprint TEXT NOT NULL DEFAULT ''
)`}
}

// HasTable reports whether table exists, in the attached database its
// schema part names if any.
func (d *Dialect) HasTable(ctx context.Context, q dialect.Execer, table string) (bool, error) {
	schema, name, ok := dialect.SplitTable(table)
	if !ok {
		schema, name = "main", table
	}
	var n int
	err := q.QueryRowContext(ctx,
		`SELECT count(*) FROM `+d.QuoteIdent(schema)+`.sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE`,
		name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up table %q: %w", table, err)
	}
	return n > 0, nil
}

// Open opens the database file at path with [Open].
func (*Dialect) Open(path string) (*sql.DB, error) { return Open(path) }

// Backuper returns the backuper the manager uses when none is configured:
// an online backup with VACUUM INTO, written to "<database file>.backups".
func (*Dialect) Backuper() backup.Backuper { return backup.NewSQLite() }

// Locker returns a file lock beside the database file ("<file>.lock"), or an
// in-process lock when the database is in memory. Which one is decided on
// the connection being locked, from PRAGMA database_list.
func (*Dialect) Locker(opts dialect.LockOptions) lock.Locker {
	return &locker{opts: opts}
}

type locker struct {
	opts dialect.LockOptions
	mem  lock.Process

	mu   sync.Mutex
	held map[*sql.Conn]lock.Locker
}

func (l *locker) Lock(ctx context.Context, conn *sql.Conn) error {
	file, err := sqlitefile.Main(ctx, conn)
	if err != nil {
		return err
	}
	var inner lock.Locker = &l.mem
	if file != "" {
		inner = lock.NewFile(file+".lock", l.opts.Logger)
	}
	if err := inner.Lock(ctx, conn); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = map[*sql.Conn]lock.Locker{}
	}
	l.held[conn] = inner
	return nil
}

func (l *locker) Unlock(ctx context.Context, conn *sql.Conn) error {
	l.mu.Lock()
	inner, ok := l.held[conn]
	delete(l.held, conn)
	l.mu.Unlock()
	if !ok {
		return errors.New("lock: unlock sqlite lock: not held by this connection")
	}
	return inner.Unlock(ctx, conn)
}

// PrepareConn switches foreign key enforcement off on the pinned connection
// for the run, because PRAGMA foreign_keys cannot change inside a
// transaction and table rebuilds must not fire ON DELETE actions. The
// returned function switches it back on if it was on. [Dialect.BeforeCommit]
// checks the keys before every commit instead.
func (*Dialect) PrepareConn(ctx context.Context, conn *sql.Conn) (func(context.Context) error, error) {
	var on bool
	if err := conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&on); err != nil {
		return nil, fmt.Errorf("read foreign_keys: %w", err)
	}
	if !on {
		return func(context.Context) error { return nil }, nil
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return nil, fmt.Errorf("switch foreign_keys off: %w", err)
	}
	return func(ctx context.Context) error {
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = ON`); err != nil {
			return fmt.Errorf("switch foreign_keys back on: %w", err)
		}
		return nil
	}, nil
}

// BeforeCommit runs PRAGMA foreign_key_check and fails, naming the offending
// rows, if any row refers to a parent that does not exist.
func (*Dialect) BeforeCommit(ctx context.Context, ex dialect.Execer) error {
	return CheckForeignKeys(ctx, ex)
}

// ForeignKeyError lists rows whose foreign keys point nowhere.
type ForeignKeyError struct {
	Violations []ForeignKeyViolation
}

// ForeignKeyViolation is one row of PRAGMA foreign_key_check.
type ForeignKeyViolation struct {
	Table  string // the child table
	RowID  int64  // the child row's rowid; 0 for WITHOUT ROWID tables
	Parent string // the table the key refers to
	FKID   int    // index of the key in PRAGMA foreign_key_list(Table)
}

// Error names the first ten offending rows and counts the rest.
func (e *ForeignKeyError) Error() string {
	const show = 10
	var b strings.Builder
	fmt.Fprintf(&b, "foreign key check failed: %d row(s) refer to missing parents:", len(e.Violations))
	for i, v := range e.Violations {
		if i == show {
			fmt.Fprintf(&b, " (and %d more)", len(e.Violations)-show)
			break
		}
		fmt.Fprintf(&b, " %s rowid %d -> %s;", v.Table, v.RowID, v.Parent)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// CheckForeignKeys runs PRAGMA foreign_key_check on ex and returns a
// *ForeignKeyError naming the offending rows, if any.
//
// If ex is also a [dialect.RawConner], as *sql.Conn and the transactions
// the manager passes to [Dialect.BeforeCommit] are, it first asks the
// driver directly whether there is any offending row at all: database/sql
// starts a goroutine for every query in a transaction, which costs more
// than the check itself when there are no foreign keys to check.
func CheckForeignKeys(ctx context.Context, ex dialect.Execer) error {
	if rc, ok := ex.(dialect.RawConner); ok {
		if found, err := anyForeignKeyViolation(ctx, rc); err == nil && !found {
			return nil
		}
		// Found some, or the driver could not say: the query below names
		// them, or reports the error.
	}
	rows, err := ex.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return fmt.Errorf("foreign_key_check: %w", err)
	}
	defer rows.Close()
	var fe ForeignKeyError
	for rows.Next() {
		var v ForeignKeyViolation
		var rowid sql.NullInt64
		if err := rows.Scan(&v.Table, &rowid, &v.Parent, &v.FKID); err != nil {
			return fmt.Errorf("foreign_key_check: %w", err)
		}
		v.RowID = rowid.Int64
		fe.Violations = append(fe.Violations, v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("foreign_key_check: %w", err)
	}
	if len(fe.Violations) > 0 {
		return &fe
	}
	return nil
}

var errNotQueryer = errors.New("driver connection cannot run queries directly")

// anyForeignKeyViolation reports whether PRAGMA foreign_key_check returns a
// row, running it on the driver connection of rc.
func anyForeignKeyViolation(ctx context.Context, rc dialect.RawConner) (found bool, err error) {
	err = rc.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return errNotQueryer
		}
		rows, err := q.QueryContext(ctx, `PRAGMA foreign_key_check`, nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		switch err := rows.Next(make([]driver.Value, len(rows.Columns()))); err {
		case nil:
			found = true
			return nil
		case io.EOF:
			return nil
		default:
			return err
		}
	})
	return found, err
}
