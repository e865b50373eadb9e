package migrations

import (
	"context"

	"github.com/strata-go/strata/migration"
)

// RequestLogScenario records which scenario answered a request. It merges
// the two branches: it needs both request_logs and scenarios.
type RequestLogScenario struct{ migration.Base }

// ID returns "0004_request_log_scenario".
func (RequestLogScenario) ID() string { return "0004_request_log_scenario" }

// Description says what the migration does.
func (RequestLogScenario) Description() string { return "link request_logs to scenarios" }

// Dependencies returns both branches.
func (RequestLogScenario) Dependencies() []string {
	return []string{"0002_request_logs", "0003_scenarios"}
}

// Up adds request_logs.scenario_id with its foreign key. SQLite cannot add
// a constraint to an existing table, but can add a column that carries one.
func (RequestLogScenario) Up(ctx context.Context, tx *migration.Tx) error {
	if tx.Dialect().Name() == postgres || tx.Dialect().Name() == mysql {
		return exec(ctx, tx,
			`ALTER TABLE request_logs ADD COLUMN scenario_id INTEGER NULL`,
			`ALTER TABLE request_logs ADD CONSTRAINT request_logs_scenario_fk
				FOREIGN KEY (scenario_id) REFERENCES scenarios (id) ON DELETE SET NULL`)
	}
	return exec(ctx, tx,
		`ALTER TABLE request_logs ADD COLUMN scenario_id INTEGER NULL REFERENCES scenarios (id) ON DELETE SET NULL`)
}

// Down drops the column; MySQL wants its foreign key dropped first.
func (RequestLogScenario) Down(ctx context.Context, tx *migration.Tx) error {
	if tx.Dialect().Name() == mysql {
		if err := exec(ctx, tx, `ALTER TABLE request_logs DROP FOREIGN KEY request_logs_scenario_fk`); err != nil {
			return err
		}
	}
	return tx.DropColumn(ctx, "request_logs", "scenario_id")
}
