package dialect

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/strata-go/strata/lock"
)

// Execer is what statements run through: *sql.DB, *sql.Conn, *sql.Tx and
// *migration.Tx all satisfy it, so helpers such as table rebuilds accept any
// of them.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Dialect is what the migration manager needs to know about a database.
//
// Table names passed to a Dialect are the version table's name as configured:
// a plain identifier, or on databases with schemas "schema.table". They have
// already been checked by [ValidTableName]; quote them with [QuoteTable].
type Dialect interface {
	// Name is the name the dialect registers under, such as "postgres".
	Name() string
	// QuoteIdent quotes one identifier so that any name, including reserved
	// words and names containing quote characters, is taken literally.
	QuoteIdent(name string) string
	// Placeholder returns the n-th (1-based) bind parameter: "$1" or "?".
	Placeholder(n int) string
	// TransactionalDDL reports whether schema changes can be rolled back.
	// Where they cannot, the manager records a migration as dirty before
	// running it and clean after.
	TransactionalDDL() bool
	// VersionTableDDL returns the statements that create the version table
	// if it does not exist. The table has the columns described in
	// [VersionTableColumns].
	VersionTableDDL(table string) []string
	// HasTable reports whether table exists. The manager calls it only when
	// reading the version table failed, to tell "not created yet" from a
	// real error.
	HasTable(ctx context.Context, q Execer, table string) (bool, error)
	// Locker returns the lock that serialises every migrator of the database
	// that uses the version table opts.Table.
	Locker(opts LockOptions) lock.Locker
}

// LockOptions configures the default Locker a Dialect returns.
type LockOptions struct {
	// Table is the version table the lock guards.
	Table string
	// Logger receives a line every few seconds while the lock is awaited,
	// naming the holder where the database can say. Nil is silent.
	Logger *slog.Logger
}

// VersionTableColumns documents the columns every version table has, in the
// manager's terms. Dialects choose the column types.
//
//	id           text, primary key: the migration ID
//	seq          integer, unique: the order in which migrations were applied
//	description  text, may be empty; "<< baselined >> " first for a
//	             row recorded by Baseline without running
//	applied_at   timestamp in UTC
//	duration_us  integer: how long Up took, in microseconds
//	dirty        boolean: the migration started but did not finish
//	fingerprint  text: a digest of the whole applied set after this row
//	schema_fingerprint  text: a digest of the schema after the run that
//	             applied this row, for drift detection; may be empty
const VersionTableColumns = "id, seq, description, applied_at, duration_us, dirty, fingerprint, schema_fingerprint"

// TextTyper is an optional interface for dialects on which a TEXT column
// cannot have a default value, as on MySQL before 8.0.13. The manager adds
// the columns that a version table created by an older strata lacks with
// ALTER TABLE, as NOT NULL with an empty default; such a text column is of
// type TEXT unless the dialect implements TextTyper.
type TextTyper interface {
	// TextType returns the type of a text column of at most n characters
	// that has a default value, such as "VARCHAR(64)".
	TextType(n int) string
}

// Hooks is an optional interface for dialects that must prepare the pinned
// connection around migration transactions. SQLite uses it to switch foreign
// key enforcement off (it cannot change inside a transaction) and to check
// the foreign keys before each commit.
type Hooks interface {
	// PrepareConn is called on the locked connection before the first
	// migration transaction of a run. The returned function undoes it; the
	// manager calls it after the last transaction, on every path.
	PrepareConn(ctx context.Context, conn *sql.Conn) (restore func(context.Context) error, err error)
	// BeforeCommit is called after a migration's Up or Down succeeded, in its
	// transaction (or on the connection, for migrations that run without
	// one). An error fails the migration and rolls it back. The manager
	// passes an ex that is also a [RawConner], for statements the driver
	// runs faster when called directly.
	BeforeCommit(ctx context.Context, ex Execer) error
}

// Sessioner is an optional interface for dialects whose connections keep
// session state that a migration's statements can change and that must not
// outlive the migration: the current schema or database, settings,
// transaction modes. The manager saves the session of the locked
// connection when a run starts, addresses its own tables in the schema
// saved, restores the session after every migration, and at the end of
// the run restores it once more and, unless [Session.Reusable], discards
// the connection instead of returning it to the pool.
type Sessioner interface {
	// SaveSession reads what of conn's session Restore puts back. table
	// is the version table as configured.
	SaveSession(ctx context.Context, conn *sql.Conn, table string) (Session, error)
}

// Session is a connection's session state as saved by
// [Sessioner.SaveSession].
type Session interface {
	// Schema is the schema (on MySQL, the database) that unqualified
	// table names resolved to when the session was saved; "" if none.
	Schema() string
	// Restore puts the session of conn back as it was saved. A
	// transaction still open on conn (one a migration run outside the
	// manager's transactions opened, or the manager's own on its way to
	// be rolled back) is first committed if commit is set, which the
	// manager does only after such a migration succeeded, and rolled
	// back otherwise.
	Restore(ctx context.Context, conn *sql.Conn, commit bool) error
	// Reusable reports whether a restored connection is as good as a
	// fresh one. Where a migration can leave state that Restore does not
	// reach (temporary tables, prepared statements, locks), it is false
	// and the manager discards the connection after the run.
	Reusable() bool
}

// The manager closes a Session that is also an io.Closer once it is done
// with it.

// TxProber is an optional interface for dialects that can tell whether a
// transaction is still open on a connection without a round trip. The
// manager uses it after each migration run in a transaction to catch a
// migration that ended the transaction itself with COMMIT or ROLLBACK.
type TxProber interface {
	// InTransaction reports whether the driver connection rc reaches is
	// inside a transaction block.
	InTransaction(rc RawConner) (bool, error)
}

// TableChecker is an optional interface for dialects that refuse some
// version table names [ValidTableName] accepts, such as a schema whose
// tables do not outlive the connection.
type TableChecker interface {
	CheckTable(name string) error
}

// RawConner gives the driver connection statements run on, as
// [sql.Conn.Raw] does; *sql.Conn is one. The transactions the manager
// passes to [Hooks.BeforeCommit] are too: their Raw reaches the driver
// connection inside the open transaction. f must not keep driverConn.
type RawConner interface {
	Raw(f func(driverConn any) error) error
}

// Interrupter is an optional interface for dialects whose server goes on
// running a statement, and keeps the session's locks, after the client gave
// up on the connection, as MySQL does until the statement ends. When the
// manager cannot release the migration lock on its connection (a cancelled
// context made the driver drop it), it ends that session from another
// connection, so that the statement stops and the lock is free at once.
type Interrupter interface {
	// SessionID returns the server's id of conn's session.
	SessionID(ctx context.Context, conn *sql.Conn) (int64, error)
	// Interrupt ends session id, running on a connection of db.
	Interrupt(ctx context.Context, db *sql.DB, id int64) error
}

// Opener is an optional interface for dialects that open their own
// databases from a DSN, such as SQLite's, whose DSN is a file path and whose
// connections want settings of their own. Command lines use it to open a
// database by dialect name.
type Opener interface {
	Open(dsn string) (*sql.DB, error)
}

// ColumnDropper is an optional interface for dialects whose ALTER TABLE
// cannot drop a column in place. [DropColumn] uses it.
type ColumnDropper interface {
	DropColumn(ctx context.Context, ex Execer, table, column string) error
}

// DropColumn drops column from table on any dialect: natively with ALTER
// TABLE ... DROP COLUMN, or through the dialect's [ColumnDropper] where
// ALTER TABLE cannot (SQLite rebuilds the table).
func DropColumn(ctx context.Context, d Dialect, ex Execer, table, column string) error {
	if cd, ok := d.(ColumnDropper); ok {
		return cd.DropColumn(ctx, ex, table, column)
	}
	q := "ALTER TABLE " + QuoteTable(d, table) + " DROP COLUMN " + d.QuoteIdent(column)
	if _, err := ex.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("drop column %q of %q: %w", column, table, err)
	}
	return nil
}

// BackupHinter is an optional interface for dialects whose backups must be
// configured, because the dialect cannot back a database up on its own
// (migration.DefaultBackuper). BackupHint returns the Go expression that
// builds the dialect's backuper from a DSN, such as
// "backup.NewPostgres(dsn)": the manager's error for a migration that asks
// for a backup when none is configured quotes it, with the option to pass
// it to and the backup directory it needs.
type BackupHinter interface {
	BackupHint() string
}

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// ValidTableName reports whether name is acceptable as a version table name:
// letters, digits and underscores, not starting with a digit, optionally
// qualified by a schema as "schema.table", at most 63 characters a part.
func ValidTableName(name string) error {
	if !tableName.MatchString(name) {
		return fmt.Errorf("invalid table name %q: want letters, digits and underscores, optionally schema-qualified", name)
	}
	for _, part := range strings.Split(name, ".") {
		if len(part) > 63 {
			return fmt.Errorf("invalid table name %q: %q is longer than 63 characters", name, part)
		}
	}
	return nil
}

// QuoteTable quotes a possibly schema-qualified table name part by part.
func QuoteTable(d Dialect, name string) string {
	schema, table, ok := SplitTable(name)
	if !ok {
		return d.QuoteIdent(name)
	}
	return d.QuoteIdent(schema) + "." + d.QuoteIdent(table)
}

// SplitTable splits a possibly schema-qualified table name at its last
// dot: a table name has none, while a schema the manager resolved from the
// database, such as a MySQL database named "app.v2", may.
func SplitTable(name string) (schema, table string, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return "", name, false
	}
	return name[:i], name[i+1:], true
}

// QuoteDouble quotes an identifier with double quotes, doubling any inside,
// as standard SQL, PostgreSQL and SQLite do.
func QuoteDouble(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Dialect{}
)

// Register makes d available under d.Name() for [Lookup], the way
// sql.Register makes a driver available to sql.Open. The built-in dialects
// register themselves when their package is imported. Registering a second
// dialect under a name already taken is an error.
func Register(d Dialect) error {
	if d == nil {
		return fmt.Errorf("dialect: register nil dialect")
	}
	name := d.Name()
	if name == "" {
		return fmt.Errorf("dialect: register %T: empty name", d)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		return fmt.Errorf("dialect: register %q: name already registered", name)
	}
	registry[name] = d
	return nil
}

// Lookup returns the dialect registered under name.
func Lookup(name string) (Dialect, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	d, ok := registry[name]
	return d, ok
}

// Names returns the registered dialect names, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
