package migrations

import (
	"context"

	"github.com/strata-go/strata/migration"
)

// Webhooks creates webhooks: URLs a mock server calls on events.
type Webhooks struct{ migration.Base }

// ID returns "0005_webhooks".
func (Webhooks) ID() string { return "0005_webhooks" }

// Description says what the migration does.
func (Webhooks) Description() string { return "create webhooks" }

// Dependencies returns 0004_request_log_scenario.
func (Webhooks) Dependencies() []string { return []string{"0004_request_log_scenario"} }

// Up creates the table.
func (Webhooks) Up(ctx context.Context, tx *migration.Tx) error {
	return exec(ctx, tx, `CREATE TABLE webhooks (
		`+serialKey(tx)+`,
		server_id  INTEGER       NOT NULL,
		url        VARCHAR(2000) NOT NULL,
		event      VARCHAR(50)   NOT NULL,
		active     BOOLEAN       NOT NULL DEFAULT TRUE,
		created_at `+timestamp(tx)+` NOT NULL DEFAULT CURRENT_TIMESTAMP,
		CONSTRAINT webhooks_server_fk FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE
	)`)
}

// Down drops the table.
func (Webhooks) Down(ctx context.Context, tx *migration.Tx) error {
	return exec(ctx, tx, `DROP TABLE webhooks`)
}
