package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/strata-go/strata/bench/internal/countdb"
	"github.com/strata-go/strata/bench/internal/stats"
	"github.com/strata-go/strata/bench/internal/target"
	"github.com/strata-go/strata/bench/internal/tools"
	"github.com/strata-go/strata/bench/internal/workload"
)

// stmtCounts is what one tool asked of the database in scenarios 1-3.
type stmtCounts struct {
	dialect, tool       string
	n                   int
	apply, check, reset countdb.Snapshot
}

// runStatements counts, once per tool, the statements and commits that
// applying cfg.n migrations, one start-up check and rolling back cost,
// through a counting driver wrapper.
func runStatements(ctx context.Context, cfg config, srv *target.Server, rep *report) error {
	for _, t := range selected(cfg, srv.Dialect, nil) {
		if err := ctx.Err(); err != nil {
			return err
		}
		sc, err := countOnce(ctx, cfg, srv, rep, t)
		if err != nil {
			return fmt.Errorf("count statements of %s: %w", t.Name, err)
		}
		rep.counts = append(rep.counts, sc)
		logf("[%s statements] %-15s apply %.2f/migration (%.2f commits; DDL %s, other %s), check %d, roll back %.2f/migration (%.2f commits)", srv.Dialect, t.Name,
			perMigration(sc.apply.Statements(), sc.n), perMigration(sc.apply.Commits(sc.dialect == target.MySQL), sc.n),
			stats.Duration(sc.apply.DDL/time.Duration(sc.n)), stats.Duration(sc.apply.Other/time.Duration(sc.n)), sc.check.Statements(),
			perMigration(sc.reset.Statements(), sc.n), perMigration(sc.reset.Commits(sc.dialect == target.MySQL), sc.n))
	}
	return nil
}

func countOnce(ctx context.Context, cfg config, srv *target.Server, rep *report, t tools.Tool) (sc stmtCounts, err error) {
	db, err := srv.Fresh(ctx, "count_"+toolKey(t))
	if err != nil {
		return sc, err
	}
	defer func() {
		if derr := srv.Drop(context.WithoutCancel(ctx), db); derr != nil {
			err = errors.Join(err, derr)
		}
	}()
	var c countdb.Counts
	tc := tools.Config{Target: db, Migrations: workload.Tables(cfg.n), OpenDB: func(d target.DB) (*sql.DB, error) { return target.OpenCounting(d, &c) }}
	run, err := t.Open(ctx, tc)
	if err != nil {
		return sc, err
	}
	defer func() { err = errors.Join(err, run.Close()) }()
	sc = stmtCounts{dialect: srv.Dialect, tool: t.Name, n: cfg.n}
	rep.settle.wait(ctx)
	before := c.Snapshot()
	if _, err := run.Up(ctx); err != nil {
		return sc, fmt.Errorf("apply: %w", err)
	}
	mid := c.Snapshot()
	sc.apply = mid.Sub(before)
	if t.Probe != "" {
		if err := checkOnce(ctx, run); err != nil {
			return sc, err
		}
		after := c.Snapshot()
		sc.check = after.Sub(mid)
		mid = after
	}
	if err := run.Reset(ctx); err != nil {
		return sc, fmt.Errorf("roll back: %w", err)
	}
	sc.reset = c.Snapshot().Sub(mid)
	return sc, nil
}

func perMigration(v int64, n int) float64 { return float64(v) / float64(n) }
