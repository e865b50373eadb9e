package migrations

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/strata-go/strata/migration"
)

// ServersBaseURL adds servers.base_url and fills it from host and port,
// which 0008_servers_drop_host_port then drops.
type ServersBaseURL struct{ migration.Base }

// ID returns "0007_servers_base_url".
func (ServersBaseURL) ID() string { return "0007_servers_base_url" }

// Description says what the migration does.
func (ServersBaseURL) Description() string { return "add servers.base_url from host and port" }

// Dependencies returns 0006_request_logs_status_class.
func (ServersBaseURL) Dependencies() []string { return []string{"0006_request_logs_status_class"} }

// Up adds the column and fills it. The URL is built in Go rather than in
// SQL, where string concatenation differs between databases.
func (ServersBaseURL) Up(ctx context.Context, tx *migration.Tx) error {
	if err := exec(ctx, tx, `ALTER TABLE servers ADD COLUMN base_url VARCHAR(255) NULL`); err != nil {
		return err
	}
	type server struct {
		id   int64
		host string
		port int
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, host, port FROM servers ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read servers: %w", err)
	}
	var servers []server
	for rows.Next() {
		var s server
		if err := rows.Scan(&s.id, &s.host, &s.port); err != nil {
			rows.Close()
			return fmt.Errorf("read servers: %w", err)
		}
		servers = append(servers, s)
	}
	// Close before updating: the migration's statements share one
	// connection.
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read servers: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read servers: %w", err)
	}
	update := `UPDATE servers SET base_url = ` + p(tx, 1) + ` WHERE id = ` + p(tx, 2)
	for _, s := range servers {
		url := "http://" + net.JoinHostPort(s.host, strconv.Itoa(s.port))
		if _, err := tx.ExecContext(ctx, update, url, s.id); err != nil {
			return fmt.Errorf("set base_url of server %d: %w", s.id, err)
		}
	}
	return nil
}

// Down drops the column.
func (ServersBaseURL) Down(ctx context.Context, tx *migration.Tx) error {
	return tx.DropColumn(ctx, "servers", "base_url")
}
