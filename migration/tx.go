package migration

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/strata-go/strata/dialect"
)

// Tx is what a migration runs its statements through. It is the migration's
// transaction where the dialect has transactional DDL and the migration does
// not opt out with NoTransaction; otherwise it is the locked connection
// itself. Either way it is the connection that holds the migration lock, so
// a pool of one connection works.
type Tx struct {
	ex   dialect.Execer
	d    dialect.Dialect
	inTx bool
}

var _ dialect.Execer = (*Tx)(nil)

// ExecContext executes a statement, as [sql.Tx.ExecContext].
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.ex.ExecContext(ctx, query, args...)
}

// QueryContext runs a query, as [sql.Tx.QueryContext].
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.ex.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row, as
// [sql.Tx.QueryRowContext].
func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.ex.QueryRowContext(ctx, query, args...)
}

// PrepareContext creates a prepared statement on the migration's
// transaction or locked connection, as [sql.Tx.PrepareContext]. With it,
// *Tx satisfies the DBTX interface that sqlc generates for database/sql
// (ExecContext, PrepareContext, QueryContext, QueryRowContext), so a
// migration can use generated queries: queries.New(tx). Close the
// statement before the migration returns; outside a transaction it would
// otherwise stay open on the connection until the run ends.
func (t *Tx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	p, ok := t.ex.(interface {
		PrepareContext(context.Context, string) (*sql.Stmt, error)
	})
	if !ok {
		return nil, fmt.Errorf("prepare: %T cannot prepare statements", t.ex)
	}
	return p.PrepareContext(ctx, query)
}

// Dialect returns the dialect of the database being migrated, so a
// migration can vary its SQL where databases differ.
func (t *Tx) Dialect() dialect.Dialect { return t.d }

// InTransaction reports whether statements run inside a transaction that is
// rolled back if the migration fails.
func (t *Tx) InTransaction() bool { return t.inTx }

// DropColumn drops column from table on any dialect: ALTER TABLE ... DROP
// COLUMN where the database can, a table rebuild on SQLite. See
// [dialect.DropColumn].
func (t *Tx) DropColumn(ctx context.Context, table, column string) error {
	return dialect.DropColumn(ctx, t.d, t, table, column)
}
