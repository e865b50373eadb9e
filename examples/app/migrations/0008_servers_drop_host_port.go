package migrations

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

// ServersDropHostPort drops servers.host and servers.port, replaced by
// base_url. Dropping columns loses data, so it asks for a backup first and
// checks that base_url is filled everywhere; Down adds the columns back and
// refills them from base_url.
type ServersDropHostPort struct{ migration.Base }

// ID returns "0008_servers_drop_host_port".
func (ServersDropHostPort) ID() string { return "0008_servers_drop_host_port" }

// Description says what the migration does.
func (ServersDropHostPort) Description() string { return "drop servers.host and servers.port" }

// Dependencies returns 0007_servers_base_url.
func (ServersDropHostPort) Dependencies() []string { return []string{"0007_servers_base_url"} }

// BackupRequired is true: the dropped columns cannot be recovered exactly
// from base_url in every case.
func (ServersDropHostPort) BackupRequired() bool { return true }

// Validate refuses to drop host and port while a server has no base_url,
// such as one an older version of the application inserted after
// 0007_servers_base_url ran.
func (ServersDropHostPort) Validate(ctx context.Context, tx *migration.Tx) error {
	n, err := count(ctx, tx, `SELECT COUNT(*) FROM servers WHERE base_url IS NULL OR base_url = ''`)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%d server(s) have no base_url; dropping host and port would lose their address", n)
	}
	return nil
}

// Up drops the columns: ALTER TABLE on the servers, a table rebuild on
// SQLite (tx.DropColumn chooses).
func (ServersDropHostPort) Up(ctx context.Context, tx *migration.Tx) error {
	if err := tx.DropColumn(ctx, "servers", "host"); err != nil {
		return err
	}
	return tx.DropColumn(ctx, "servers", "port")
}

// Down adds the columns back, refills them from base_url and restores
// their definitions: NOT NULL without a default, as 0001_servers made
// them.
//
// Columns added to a table that has rows can only be NOT NULL with a
// default to fill them, so Down adds them with one and drops it once the
// rows are refilled. What it cannot restore is where the columns were:
// they come back after the last column, not after name. PostgreSQL and
// MySQL cannot move a column without rebuilding the table by hand, and
// nothing in the application depends on the order of columns, so the
// migrations' test compares schemas with schema.IgnoreColumnOrder.
func (ServersDropHostPort) Down(ctx context.Context, tx *migration.Tx) error {
	if err := exec(ctx, tx,
		`ALTER TABLE servers ADD COLUMN host VARCHAR(200) NOT NULL DEFAULT ''`,
		`ALTER TABLE servers ADD COLUMN port INTEGER NOT NULL DEFAULT 0`,
	); err != nil {
		return err
	}
	type server struct {
		id   int64
		host string
		port int
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, base_url FROM servers WHERE base_url IS NOT NULL ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read servers: %w", err)
	}
	var servers []server
	for rows.Next() {
		var id int64
		var raw string
		if err := rows.Scan(&id, &raw); err != nil {
			rows.Close()
			return fmt.Errorf("read servers: %w", err)
		}
		host, port, err := hostPort(raw)
		if err != nil {
			continue // left at the defaults: an operator fixes it by hand
		}
		servers = append(servers, server{id, host, port})
	}
	if err := errors.Join(rows.Close(), rows.Err()); err != nil {
		return fmt.Errorf("read servers: %w", err)
	}
	update := `UPDATE servers SET host = ` + p(tx, 1) + `, port = ` + p(tx, 2) + ` WHERE id = ` + p(tx, 3)
	for _, s := range servers {
		if _, err := tx.ExecContext(ctx, update, s.host, s.port, s.id); err != nil {
			return fmt.Errorf("refill host and port of server %d: %w", s.id, err)
		}
	}
	return dropHostPortDefaults(ctx, tx)
}

// dropHostPortDefaults drops the defaults Down gave host and port to fill
// them: ALTER COLUMN on the servers, a table rebuild on SQLite, which
// cannot alter a column.
func dropHostPortDefaults(ctx context.Context, tx *migration.Tx) error {
	switch tx.Dialect().Name() {
	case postgres, mysql:
		return exec(ctx, tx,
			`ALTER TABLE servers ALTER COLUMN host DROP DEFAULT`,
			`ALTER TABLE servers ALTER COLUMN port DROP DEFAULT`)
	default:
		return sqlite.RebuildTable(ctx, tx, "servers",
			sqlite.AlterColumn("host", sqlite.DropDefault()),
			sqlite.AlterColumn("port", sqlite.DropDefault()))
	}
}

// hostPort splits a base URL into host and port, defaulting the port by
// scheme.
func hostPort(raw string) (string, int, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", 0, err
	}
	if u.Hostname() == "" {
		return "", 0, fmt.Errorf("no host in %q", raw)
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if s := u.Port(); s != "" {
		if port, err = strconv.Atoi(s); err != nil {
			return "", 0, err
		}
	}
	return u.Hostname(), port, nil
}
