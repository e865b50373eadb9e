package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	gomysql "github.com/go-sql-driver/mysql" // also registers the "mysql" database/sql driver

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/schema"
)

// Name is the name the dialect registers under.
const Name = "mysql"

// DriverName is the database/sql driver name to open MySQL and MariaDB
// databases with, registered when this package is imported.
const DriverName = "mysql"

// Dialect is the MySQL/MariaDB dialect. Use [New].
type Dialect struct{}

// The optional interfaces of package dialect (and package schema) that
// the MySQL dialect implements. It also implements migration.DSNBackuper
// ([Dialect.BackuperFor]), asserted in package migration's tests, as this
// package does not import migration.
var (
	_ dialect.Dialect      = (*Dialect)(nil)
	_ dialect.Sessioner    = (*Dialect)(nil)
	_ dialect.Interrupter  = (*Dialect)(nil)
	_ dialect.Opener       = (*Dialect)(nil)
	_ dialect.BackupHinter = (*Dialect)(nil)
	_ dialect.TextTyper    = (*Dialect)(nil)
	_ schema.Inspector     = (*Dialect)(nil)
)

func init() {
	if err := dialect.Register(New()); err != nil {
		panic(err)
	}
}

// New returns the MySQL/MariaDB dialect.
func New() *Dialect { return &Dialect{} }

// Name returns "mysql".
func (*Dialect) Name() string { return Name }

// QuoteIdent quotes name with backticks, doubling any inside.
func (*Dialect) QuoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// Placeholder returns "?".
func (*Dialect) Placeholder(int) string { return "?" }

// TransactionalDDL is false: MySQL commits DDL statements implicitly.
func (*Dialect) TransactionalDDL() bool { return false }

// VersionTableDDL returns the CREATE TABLE of the version table: InnoDB,
// utf8mb4 with a binary collation so that migration IDs compare exactly.
// description has no default (TEXT columns cannot have a literal one on
// older servers): inserts must give it.
func (d *Dialect) VersionTableDDL(table string) []string {
	return []string{`CREATE TABLE IF NOT EXISTS ` + dialect.QuoteTable(d, table) + ` (
	id          VARCHAR(255) NOT NULL PRIMARY KEY,
	seq         BIGINT       NOT NULL UNIQUE,
	description TEXT         NOT NULL,
	applied_at  DATETIME(6)  NOT NULL,
	duration_us BIGINT       NOT NULL DEFAULT 0,
	dirty       BOOLEAN      NOT NULL DEFAULT FALSE,
	fingerprint VARCHAR(100) NOT NULL DEFAULT '',
	schema_fingerprint VARCHAR(100) NOT NULL DEFAULT ''
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`}
}

// TextType returns VARCHAR(n): a TEXT column cannot have a default value
// before MySQL 8.0.13.
func (*Dialect) TextType(n int) string { return "VARCHAR(" + strconv.Itoa(n) + ")" }

// HasTable reports whether table exists (as a base table) in the database
// its qualified name gives, or else in the connection's current database.
// Without either it is an error.
func (*Dialect) HasTable(ctx context.Context, q dialect.Execer, table string) (bool, error) {
	const query = `SELECT DATABASE() IS NOT NULL OR ? IS NOT NULL, EXISTS (
		SELECT 1 FROM information_schema.tables
		WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? AND table_type = 'BASE TABLE')`
	var schema *string
	name := table
	if s, t, ok := dialect.SplitTable(table); ok {
		schema, name = &s, t
	}
	var hasDB, ok bool
	if err := q.QueryRowContext(ctx, query, schema, schema, name).Scan(&hasDB, &ok); err != nil {
		return false, fmt.Errorf("look up table %q: %w", table, err)
	}
	if !hasDB {
		return false, fmt.Errorf("look up table %q: no database selected (give one in the DSN or qualify the table)", table)
	}
	return ok, nil
}

// Locker returns a [lock.MySQL] named lock for opts.Table.
func (*Dialect) Locker(opts dialect.LockOptions) lock.Locker {
	return lock.NewMySQL(opts.Table, opts.Logger)
}

// SessionID returns CONNECTION_ID() of conn's session.
func (*Dialect) SessionID(ctx context.Context, conn *sql.Conn) (int64, error) {
	var id int64
	if err := conn.QueryRowContext(ctx, `SELECT CONNECTION_ID()`).Scan(&id); err != nil {
		return 0, fmt.Errorf("read CONNECTION_ID(): %w", err)
	}
	return id, nil
}

// Interrupt ends session id with KILL: its statement stops (DDL in
// progress is rolled back as far as MySQL can) and its locks, among them
// the migration lock, are released. Killing a session that has already
// ended is not an error.
func (*Dialect) Interrupt(ctx context.Context, db *sql.DB, id int64) error {
	_, err := db.ExecContext(ctx, "KILL "+strconv.FormatInt(id, 10))
	var me *gomysql.MySQLError
	if errors.As(err, &me) && me.Number == errUnknownThread {
		return nil
	}
	if err != nil {
		return fmt.Errorf("KILL %d: %w", id, err)
	}
	return nil
}

// errUnknownThread is ER_NO_SUCH_THREAD: KILL of a session that is gone.
const errUnknownThread = 1094
