package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-go/strata/bench/internal/probe"
	"github.com/strata-go/strata/bench/internal/stats"
	"github.com/strata-go/strata/bench/internal/target"
	"github.com/strata-go/strata/bench/internal/tools"
	"github.com/strata-go/strata/bench/internal/workload"
)

// Scenario keys of the timing tables.
const (
	scnCheck   = "check"
	scnProcess = "process"
	scnApply   = "apply"
	scnReset   = "reset"
	scnRebuild = "rebuild"
	scnBackup  = "backup"
)

const warmupCalls = 20

// runMigrate runs scenarios 1-3 on one dialect: for each repetition and
// each tool, in an order that rotates, a fresh database gets the n
// migrations applied (2), is checked in process and by fresh processes (1),
// and is rolled back (3).
func runMigrate(ctx context.Context, cfg config, srv *target.Server, probes probeSet, rep *report) error {
	ts := selected(cfg, srv.Dialect, nil)
	for r := range cfg.reps {
		for _, t := range rotate(ts, r) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := migrateCycle(ctx, cfg, srv, probes, rep, t, r); err != nil {
				return fmt.Errorf("%s, repetition %d: %w", t.Name, r+1, err)
			}
		}
	}
	return nil
}

func migrateCycle(ctx context.Context, cfg config, srv *target.Server, probes probeSet, rep *report, t tools.Tool, r int) (err error) {
	label := t.Probe
	if label == "" {
		label = t.Name
	}
	db, err := srv.Fresh(ctx, fmt.Sprintf("m_%s_%d", label, r))
	if err != nil {
		return err
	}
	defer func() {
		if derr := srv.Drop(context.WithoutCancel(ctx), db); derr != nil {
			err = errors.Join(err, derr)
		}
	}()
	tc := tools.Config{Target: db, Migrations: workload.Tables(cfg.n)}
	line := fmt.Sprintf("[%s %d/%d] %-15s", srv.Dialect, r+1, cfg.reps, t.Name)

	// 2. Apply.
	run, err := t.Open(ctx, tc)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	rep.settle.wait(ctx)
	defer func() {
		if run != nil {
			err = errors.Join(err, run.Close())
		}
	}()
	start := time.Now()
	applied, err := run.Up(ctx)
	d := time.Since(start)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if !applied {
		return errors.New("apply: nothing applied on an empty database")
	}
	if err := expectTables(ctx, db, cfg.n); err != nil {
		return fmt.Errorf("after apply: %w", err)
	}
	rep.add(scnApply, srv.Dialect, t.Name, d)
	line += " apply " + stats.Duration(d)

	// 1. Up-to-date start-up check, in process and in fresh processes.
	if t.Probe != "" {
		rep.settle.wait(ctx)
		for range warmupCalls {
			if err := checkOnce(ctx, run); err != nil {
				return err
			}
		}
		start := time.Now()
		for range cfg.calls {
			if err := checkOnce(ctx, run); err != nil {
				return err
			}
		}
		d := time.Since(start) / time.Duration(cfg.calls)
		rep.add(scnCheck, srv.Dialect, t.Name, d)
		line += ", check " + stats.Duration(d)
	}
	err = run.Close()
	run = nil
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if t.Probe != "" && cfg.execs > 0 {
		rep.settle.wait(ctx)
		var s stats.Sample
		for range cfg.execs {
			d, err := processCheck(ctx, probes, t, db, cfg.n)
			if err != nil {
				return err
			}
			s = append(s, d)
		}
		rep.add(scnProcess, srv.Dialect, t.Name, s.Median())
		line += ", process " + stats.Duration(s.Median())
	}

	// 3. Roll back.
	if run, err = t.Open(ctx, tc); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	rep.settle.wait(ctx)
	start = time.Now()
	err = run.Reset(ctx)
	d = time.Since(start)
	if err != nil {
		return fmt.Errorf("roll back: %w", err)
	}
	if err := expectTables(ctx, db, 0); err != nil {
		return fmt.Errorf("after roll back: %w", err)
	}
	rep.add(scnReset, srv.Dialect, t.Name, d)
	logf("%s, roll back %s", line, stats.Duration(d))
	return nil
}

func checkOnce(ctx context.Context, run tools.Runner) error {
	applied, err := run.Up(ctx)
	if err != nil {
		return fmt.Errorf("start-up check: %w", err)
	}
	if applied {
		return errors.New("start-up check applied migrations on an up-to-date database")
	}
	return nil
}

// processCheck times one probe process doing the start-up check, from exec
// to exit.
func processCheck(ctx context.Context, probes probeSet, t tools.Tool, db target.DB, n int) (time.Duration, error) {
	cmd, err := probes.command(ctx, t, probe.Args("check", db, "tables", n))
	if err != nil {
		return 0, err
	}
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	cmd.Stdin = nil
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start probe: %w", err)
	}
	err = cmd.Wait()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("probe check: %w: %s", err, stderr.String())
	}
	return d, nil
}

// expectTables checks that the workload left exactly n of its tables.
func expectTables(ctx context.Context, db target.DB, n int) error {
	h, err := target.Open(db)
	if err != nil {
		return err
	}
	defer h.Close()
	got, err := workload.CountTables(ctx, h, db.Dialect, "t_")
	if err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("%d workload tables, want %d", got, n)
	}
	return nil
}

// rotate returns ts rotated left by r, so that every tool takes every turn.
func rotate[T any](ts []T, r int) []T {
	if len(ts) == 0 {
		return nil
	}
	k := r % len(ts)
	return append(append([]T(nil), ts[k:]...), ts[:k]...)
}

// limitedBuffer keeps the last 4 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.b = append(l.b, p...)
	if len(l.b) > 4096 {
		l.b = l.b[len(l.b)-4096:]
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
