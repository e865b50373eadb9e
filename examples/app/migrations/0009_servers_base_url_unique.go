package migrations

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-go/strata/migration"
)

// ServersBaseURLUnique makes base_url unique. Its Validate checks the
// precondition first and names the duplicates, rather than let CREATE
// UNIQUE INDEX fail with a bare constraint error.
type ServersBaseURLUnique struct{ migration.Base }

// ID returns "0009_servers_base_url_unique".
func (ServersBaseURLUnique) ID() string { return "0009_servers_base_url_unique" }

// Description says what the migration does.
func (ServersBaseURLUnique) Description() string { return "make servers.base_url unique" }

// Dependencies returns 0008_servers_drop_host_port.
func (ServersBaseURLUnique) Dependencies() []string { return []string{"0008_servers_drop_host_port"} }

// Validate fails if two servers share a base_url.
func (ServersBaseURLUnique) Validate(ctx context.Context, tx *migration.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT base_url, COUNT(*) FROM servers
		WHERE base_url IS NOT NULL GROUP BY base_url HAVING COUNT(*) > 1 ORDER BY base_url`)
	if err != nil {
		return fmt.Errorf("look for duplicate base_url: %w", err)
	}
	defer rows.Close()
	var dups []string
	for rows.Next() {
		var u string
		var n int
		if err := rows.Scan(&u, &n); err != nil {
			return fmt.Errorf("look for duplicate base_url: %w", err)
		}
		dups = append(dups, fmt.Sprintf("%s (%d servers)", u, n))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look for duplicate base_url: %w", err)
	}
	if len(dups) > 0 {
		return fmt.Errorf("servers share a base_url: %s; merge or delete them first", strings.Join(dups, ", "))
	}
	return nil
}

// Up creates the unique index.
func (ServersBaseURLUnique) Up(ctx context.Context, tx *migration.Tx) error {
	return exec(ctx, tx, `CREATE UNIQUE INDEX servers_base_url_key ON servers (base_url)`)
}

// Down drops it.
func (ServersBaseURLUnique) Down(ctx context.Context, tx *migration.Tx) error {
	return exec(ctx, tx, dropIndex(tx, "servers", "servers_base_url_key"))
}
