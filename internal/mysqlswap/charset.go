package mysqlswap

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// useUTF8 sets the session's character set to utf8mb4 and returns what
// puts the one it had back. Statements go to and from Go as UTF-8: under
// the session's own character set (a DSN with charset=latin1, say), the
// server would read them as that set, and text it cannot hold in the
// views, triggers and routines recreated would be garbled.
func useUTF8(ctx context.Context, conn *sql.Conn) (restore func(context.Context) error, err error) {
	vars := []string{"character_set_client", "character_set_results", "character_set_connection", "collation_connection"}
	vals := make([]sql.NullString, len(vars))
	ptrs := make([]any, len(vars))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := conn.QueryRowContext(ctx, `SELECT @@SESSION.`+strings.Join(vars, `, @@SESSION.`)).Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("read the session's character set: %w", err)
	}
	var set []string
	for i, v := range vals {
		val := "NULL" // character_set_results may be
		if v.Valid {
			if strings.Trim(v.String, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
				return nil, fmt.Errorf("the session's %s is %q, not a character set name", vars[i], v.String)
			}
			val = "'" + v.String + "'"
		}
		set = append(set, "@@SESSION."+vars[i]+" = "+val)
	}
	// collation_connection last: setting character_set_connection resets
	// it to that set's default.
	again := `SET ` + strings.Join(set, ", ")
	if _, err := conn.ExecContext(ctx, `SET NAMES utf8mb4`); err != nil {
		return nil, fmt.Errorf("set the session's character set to utf8mb4: %w", err)
	}
	return func(ctx context.Context) error {
		if _, err := conn.ExecContext(ctx, again); err != nil {
			return fmt.Errorf("put the session's character set back: %w", err)
		}
		return nil
	}, nil
}
