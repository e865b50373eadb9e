package sqlite

import (
	"context"

	"github.com/strata-go/strata/dialect"
)

// DropColumn drops column from table by rebuilding it. It is the dialect's
// [dialect.ColumnDropper], so dialect.DropColumn works on SQLite.
func (*Dialect) DropColumn(ctx context.Context, ex dialect.Execer, table, column string) error {
	return DropColumn(ctx, ex, table, column)
}
