package sqlite

import (
	"context"
	"errors"

	"github.com/strata-go/strata/dialect"
)

// DropColumn drops column from table by rebuilding the table. Not yet
// implemented: it always fails.
func DropColumn(ctx context.Context, ex dialect.Execer, table, column string) error {
	return errors.New("sqlite: DropColumn: table rebuild not implemented yet")
}
