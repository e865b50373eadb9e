package migrations

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/strata-go/strata/migration"
)

// BatchSize is how many rows a data migration updates per statement, so
// that no statement holds locks on, or rewrites, a whole large table at
// once.
const BatchSize = 500

// RequestLogsStatusClass adds request_logs.status_class ("2xx", "4xx", ...)
// for the dashboard to group by, and backfills it in batches of
// [BatchSize] rows by id range: a data migration.
type RequestLogsStatusClass struct{ migration.Base }

// ID returns "0006_request_logs_status_class".
func (RequestLogsStatusClass) ID() string { return "0006_request_logs_status_class" }

// Description says what the migration does.
func (RequestLogsStatusClass) Description() string {
	return "add request_logs.status_class, backfilled in batches"
}

// Dependencies returns 0005_webhooks.
func (RequestLogsStatusClass) Dependencies() []string { return []string{"0005_webhooks"} }

// Up adds the column, fills it batch by batch, then indexes it.
func (RequestLogsStatusClass) Up(ctx context.Context, tx *migration.Tx) error {
	if err := exec(ctx, tx, `ALTER TABLE request_logs ADD COLUMN status_class VARCHAR(3) NULL`); err != nil {
		return err
	}
	var lo, hi sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(id), MAX(id) FROM request_logs`).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("find id range: %w", err)
	}
	update := `UPDATE request_logs SET status_class = CASE
			WHEN status >= 500 THEN '5xx'
			WHEN status >= 400 THEN '4xx'
			WHEN status >= 300 THEN '3xx'
			WHEN status >= 200 THEN '2xx'
			ELSE '1xx' END
		WHERE id >= ` + p(tx, 1) + ` AND id < ` + p(tx, 2)
	for start := lo.Int64; lo.Valid && start <= hi.Int64; start += BatchSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, update, start, start+BatchSize); err != nil {
			return fmt.Errorf("backfill ids %d to %d: %w", start, start+BatchSize-1, err)
		}
	}
	return exec(ctx, tx, `CREATE INDEX request_logs_status_class ON request_logs (server_id, status_class)`)
}

// Down drops the index and the column.
func (RequestLogsStatusClass) Down(ctx context.Context, tx *migration.Tx) error {
	if err := exec(ctx, tx, dropIndex(tx, "request_logs", "request_logs_status_class")); err != nil {
		return err
	}
	return tx.DropColumn(ctx, "request_logs", "status_class")
}
