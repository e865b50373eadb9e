package migrations

import (
	"context"

	"github.com/strata-go/strata/migration"
)

// RequestLogs creates request_logs: every request a mock server received.
// It branches from 0001_servers, as does 0003_scenarios.
type RequestLogs struct{ migration.Base }

// ID returns "0002_request_logs".
func (RequestLogs) ID() string { return "0002_request_logs" }

// Description says what the migration does.
func (RequestLogs) Description() string { return "create request_logs" }

// Dependencies returns 0001_servers.
func (RequestLogs) Dependencies() []string { return []string{"0001_servers"} }

// Up creates the table and its index.
func (RequestLogs) Up(ctx context.Context, tx *migration.Tx) error {
	return exec(ctx, tx,
		`CREATE TABLE request_logs (
			`+bigSerialKey(tx)+`,
			server_id   INTEGER       NOT NULL,
			method      VARCHAR(10)   NOT NULL,
			path        VARCHAR(2000) NOT NULL,
			status      INTEGER       NOT NULL,
			received_at `+timestamp(tx)+` NOT NULL DEFAULT CURRENT_TIMESTAMP,
			CONSTRAINT request_logs_server_fk FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
		)`,
		`CREATE INDEX request_logs_server_received ON request_logs (server_id, received_at)`)
}

// Down drops the table, and its index with it.
func (RequestLogs) Down(ctx context.Context, tx *migration.Tx) error {
	return exec(ctx, tx, `DROP TABLE request_logs`)
}
