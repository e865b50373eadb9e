// Package rawtool is the floor the migration tools are measured against:
// the workload's statements executed directly through database/sql, each
// migration in its own transaction together with one INSERT of its version
// into a one-column version table, and nothing else: no lock, no checks,
// no history. Its start-up check is a single one-row read of the newest
// version.
package rawtool

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/strata-go/strata/bench/internal/target"
	"github.com/strata-go/strata/bench/internal/tools"
	"github.com/strata-go/strata/bench/internal/workload"
)

// Table is the floor's version table.
const Table = "raw_versions"

// Tool is the raw floor.
func Tool() tools.Tool {
	return tools.Tool{Name: "raw floor", Probe: "raw", Open: Open}
}

type runner struct {
	db                      *sql.DB
	ms                      []workload.Migration
	qHead, qInsert, qDelete string
}

// Open opens cfg's database.
func Open(_ context.Context, cfg tools.Config) (tools.Runner, error) {
	p := "?"
	if cfg.Target.Dialect == target.Postgres {
		p = "$1"
	}
	db, err := cfg.Open()
	if err != nil {
		return nil, err
	}
	return &runner{
		db:      db,
		ms:      cfg.Migrations,
		qHead:   `SELECT version FROM ` + Table + ` ORDER BY version DESC LIMIT 1`,
		qInsert: `INSERT INTO ` + Table + ` (version) VALUES (` + p + `)`,
		qDelete: `DELETE FROM ` + Table + ` WHERE version = ` + p,
	}, nil
}

// head returns the newest applied version, 0 if none; a version table that
// cannot be read is created.
func (r *runner) head(ctx context.Context) (int64, error) {
	var v int64
	err := r.db.QueryRowContext(ctx, r.qHead).Scan(&v)
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	}
	if _, cerr := r.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+Table+` (version BIGINT NOT NULL PRIMARY KEY)`); cerr != nil {
		return 0, errors.Join(err, cerr)
	}
	return 0, nil
}

func (r *runner) Up(ctx context.Context) (bool, error) {
	cur, err := r.head(ctx)
	if err != nil {
		return false, err
	}
	applied := false
	for _, m := range r.ms {
		if m.Version <= cur {
			continue
		}
		if err := r.inTx(ctx, m.Up, r.qInsert, m.Version); err != nil {
			return applied, fmt.Errorf("apply %s: %w", m.ID(), err)
		}
		applied = true
	}
	return applied, nil
}

func (r *runner) Reset(ctx context.Context) error {
	cur, err := r.head(ctx)
	if err != nil {
		return err
	}
	for i := len(r.ms) - 1; i >= 0; i-- {
		m := r.ms[i]
		if m.Version > cur {
			continue
		}
		if err := r.inTx(ctx, m.Down, r.qDelete, m.Version); err != nil {
			return fmt.Errorf("revert %s: %w", m.ID(), err)
		}
	}
	return nil
}

func (r *runner) inTx(ctx context.Context, stmts []string, record string, version int64) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, record, version); err != nil {
		return err
	}
	return tx.Commit()
}

func (r *runner) Close() error { return r.db.Close() }
