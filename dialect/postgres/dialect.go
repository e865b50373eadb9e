package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/schema"
)

// Name is the name the dialect registers under.
const Name = "postgres"

// DriverName is the database/sql driver name to open PostgreSQL databases
// with: pgx/v5's stdlib driver, registered when this package is imported.
const DriverName = "pgx"

// Dialect is the PostgreSQL dialect. Use [New].
type Dialect struct{}

// The optional interfaces of package dialect (and package schema) that
// the PostgreSQL dialect implements. It also implements migration.DSNBackuper
// ([Dialect.BackuperFor]), asserted in package migration's tests, as this
// package does not import migration.
var (
	_ dialect.Dialect      = (*Dialect)(nil)
	_ dialect.Sessioner    = (*Dialect)(nil)
	_ dialect.TxProber     = (*Dialect)(nil)
	_ dialect.TableChecker = (*Dialect)(nil)
	_ dialect.Opener       = (*Dialect)(nil)
	_ dialect.BackupHinter = (*Dialect)(nil)
	_ schema.Inspector     = (*Dialect)(nil)
)

func init() {
	if err := dialect.Register(New()); err != nil {
		panic(err)
	}
}

// New returns the PostgreSQL dialect.
func New() *Dialect { return &Dialect{} }

// Name returns "postgres".
func (*Dialect) Name() string { return Name }

// QuoteIdent quotes name with double quotes, doubling any inside. Quoted
// names are case-sensitive in PostgreSQL.
func (*Dialect) QuoteIdent(name string) string { return dialect.QuoteDouble(name) }

// Placeholder returns "$n".
func (*Dialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// TransactionalDDL is true: PostgreSQL rolls schema changes back.
func (*Dialect) TransactionalDDL() bool { return true }

// VersionTableDDL returns the statements that create the version table if
// it does not exist. For a schema-qualified table the first statement fails,
// with SQLSTATE 3F000 (invalid_schema_name) and a message naming the
// schema, if the schema does not exist.
func (d *Dialect) VersionTableDDL(table string) []string {
	var stmts []string
	if schema, _, ok := dialect.SplitTable(table); ok {
		stmts = append(stmts, `DO $strata$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = `+quoteLiteral(schema)+`) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_schema_name',
			MESSAGE = `+quoteLiteral(fmt.Sprintf("schema %q of version table %q does not exist", schema, table))+`,
			HINT = 'Create the schema first: strata does not create schemas.';
	END IF;
END
$strata$`)
	}
	return append(stmts, `CREATE TABLE IF NOT EXISTS `+dialect.QuoteTable(d, table)+` (
	id          TEXT        NOT NULL PRIMARY KEY,
	seq         BIGINT      NOT NULL UNIQUE,
	description TEXT        NOT NULL DEFAULT '',
	applied_at  TIMESTAMPTZ NOT NULL,
	duration_us BIGINT      NOT NULL DEFAULT 0,
	dirty       BOOLEAN     NOT NULL DEFAULT FALSE,
	fingerprint TEXT        NOT NULL DEFAULT '',
	schema_fingerprint TEXT NOT NULL DEFAULT ''
)`)
}

// quoteLiteral quotes s as a standard SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// HasTable reports whether table exists (as an ordinary or partitioned
// table) in the schema its qualified name gives, or else in
// current_schema(), where an unqualified CREATE TABLE would create it.
func (*Dialect) HasTable(ctx context.Context, q dialect.Execer, table string) (bool, error) {
	const query = `SELECT EXISTS (
		SELECT 1 FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND c.relname = $2
		  AND n.nspname = coalesce($1, current_schema()))`
	var schema *string
	name := table
	if s, t, ok := dialect.SplitTable(table); ok {
		schema, name = &s, t
	}
	var ok bool
	if err := q.QueryRowContext(ctx, query, schema, name).Scan(&ok); err != nil {
		return false, fmt.Errorf("look up table %q: %w", table, err)
	}
	return ok, nil
}

// Locker returns a [lock.Postgres] advisory lock for opts.Table.
func (*Dialect) Locker(opts dialect.LockOptions) lock.Locker {
	return lock.NewPostgres(opts.Table, opts.Logger)
}
