package migrations

import (
	"context"

	"github.com/strata-go/strata/migration"
)

// Scenarios creates scenarios: the canned responses a mock server answers
// with. It branches from 0001_servers, beside 0002_request_logs.
type Scenarios struct{ migration.Base }

// ID returns "0003_scenarios".
func (Scenarios) ID() string { return "0003_scenarios" }

// Description says what the migration does.
func (Scenarios) Description() string { return "create scenarios" }

// Dependencies returns 0001_servers.
func (Scenarios) Dependencies() []string { return []string{"0001_servers"} }

// Up creates the table.
func (Scenarios) Up(ctx context.Context, tx *migration.Tx) error {
	return exec(ctx, tx, `CREATE TABLE scenarios (
		`+serialKey(tx)+`,
		server_id       INTEGER      NOT NULL,
		name            VARCHAR(100) NOT NULL,
		method          VARCHAR(10)  NOT NULL,
		path            VARCHAR(500) NOT NULL,
		response_status INTEGER      NOT NULL DEFAULT 200,
		response_body   TEXT,
		CONSTRAINT scenarios_server_fk FOREIGN KEY (server_id) REFERENCES servers (id) ON DELETE CASCADE,
		CONSTRAINT scenarios_server_name_key UNIQUE (server_id, name)
	)`)
}

// Down drops the table.
func (Scenarios) Down(ctx context.Context, tx *migration.Tx) error {
	return exec(ctx, tx, `DROP TABLE scenarios`)
}
