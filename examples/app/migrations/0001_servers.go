package migrations

import (
	"context"

	"github.com/strata-go/strata/migration"
)

// Servers creates the servers table: the mock servers the application runs.
type Servers struct{ migration.Base }

// ID returns "0001_servers".
func (Servers) ID() string { return "0001_servers" }

// Description says what the migration does.
func (Servers) Description() string { return "create servers" }

// Up creates the table.
func (Servers) Up(ctx context.Context, tx *migration.Tx) error {
	return exec(ctx, tx, `CREATE TABLE servers (
		`+serialKey(tx)+`,
		name       VARCHAR(100) NOT NULL,
		host       VARCHAR(200) NOT NULL,
		port       INTEGER      NOT NULL,
		created_at `+timestamp(tx)+` NOT NULL DEFAULT CURRENT_TIMESTAMP,
		CONSTRAINT servers_name_key UNIQUE (name)
	)`)
}

// Down drops the table.
func (Servers) Down(ctx context.Context, tx *migration.Tx) error {
	return exec(ctx, tx, `DROP TABLE servers`)
}
