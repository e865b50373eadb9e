package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/strata-go/strata/bench/internal/probe"
	"github.com/strata-go/strata/bench/internal/stats"
	"github.com/strata-go/strata/bench/internal/target"
	"github.com/strata-go/strata/bench/internal/tools"
	"github.com/strata-go/strata/bench/internal/workload"
)

// raceRun is one run of scenario 4.
type raceRun struct {
	wall     time.Duration // from the release of all processes to the last exit
	procs    int
	ok       int            // processes that exited 0
	failures map[string]int // failed processes by their last line of standard error
	counts   []int          // how often each migration's Up ran and committed, by version
	dirty    int            // rows the tool's version table marks dirty; -1 if it has no such notion
	nextErr  error          // what a later start-up (one more Up) said
	next     bool           // whether that later start-up still had migrations to apply
	others   int            // other client connections on the server when it began (PostgreSQL)
}

// raceSeries is every run of one tool on one dialect.
type raceSeries struct {
	dialect, tool string
	runs          []raceRun
}

// runRace runs scenario 4 on one dialect: for each repetition and each
// tool, cfg.procs processes start together on a fresh database and each
// applies the same cfg.raceN migrations.
func runRace(ctx context.Context, cfg config, srv *target.Server, probes probeSet, rep *report) error {
	for r := range cfg.raceReps {
		for _, t := range rotate(selected(cfg, srv.Dialect, func(t tools.Tool) bool { return t.Probe != "" }), r) {
			if err := ctx.Err(); err != nil {
				return err
			}
			run, err := raceOnce(ctx, cfg, srv, probes, rep, t, r)
			if err != nil {
				return fmt.Errorf("race %s, repetition %d: %w", t.Name, r+1, err)
			}
			rep.addRace(srv.Dialect, t.Name, run)
			logf("[%s race %d/%d] %-15s %d/%d succeeded in %s, each once: %s, dirty: %d, next start: %s",
				srv.Dialect, r+1, cfg.raceReps, t.Name, run.ok, run.procs, stats.Duration(run.wall), onceText(run.counts), run.dirty, nextText(run))
		}
	}
	return nil
}

func raceOnce(ctx context.Context, cfg config, srv *target.Server, probes probeSet, rep *report, t tools.Tool, r int) (run raceRun, err error) {
	db, err := srv.Fresh(ctx, fmt.Sprintf("race_%s_%d", t.Probe, r))
	if err != nil {
		return run, err
	}
	defer func() {
		if derr := srv.Drop(context.WithoutCancel(ctx), db); derr != nil {
			err = errors.Join(err, derr)
		}
	}()
	h, err := target.Open(db)
	if err != nil {
		return run, err
	}
	_, err = h.ExecContext(ctx, workload.RunsTableDDL)
	if cerr := h.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return run, fmt.Errorf("create %s: %w", workload.RunsTable, err)
	}
	if t.Probe == "raw" {
		// The floor cannot migrate safely from many processes: it gets an
		// already migrated database, so its racers only start, connect and
		// read one row.
		if err := applyOnce(ctx, t, tools.Config{Target: db, Migrations: workload.Race(cfg.raceN)}); err != nil {
			return run, fmt.Errorf("migrate before the floor's race: %w", err)
		}
	}
	if srv.Dialect == target.Postgres {
		// 100 processes need 100 of PostgreSQL's 100 default connection
		// slots: let the backends of earlier runs finish exiting.
		run.others = srv.WaitIdle(ctx, 3*time.Second)
	}

	rep.settle.wait(ctx)
	if err := launch(ctx, cfg, probes, t, db, &run); err != nil {
		return run, err
	}

	h, err = target.Open(db)
	if err != nil {
		return run, err
	}
	defer h.Close()
	if run.counts, err = workload.RunCounts(ctx, h, cfg.raceN); err != nil {
		return run, err
	}
	run.dirty = -1
	if q := dirtyQuery(t); q != "" {
		if err := h.QueryRowContext(ctx, q).Scan(&run.dirty); err != nil {
			run.dirty = -1 // no version table: nobody got that far
		}
	}
	next, err := t.Open(ctx, tools.Config{Target: db, Migrations: workload.Race(cfg.raceN)})
	if err != nil {
		run.nextErr = err
		return run, nil
	}
	run.next, run.nextErr = next.Up(ctx)
	if cerr := next.Close(); run.nextErr == nil {
		run.nextErr = cerr
	}
	return run, nil
}

func applyOnce(ctx context.Context, t tools.Tool, cfg tools.Config) error {
	r, err := t.Open(ctx, cfg)
	if err != nil {
		return err
	}
	_, err = r.Up(ctx)
	return errors.Join(err, r.Close())
}

// dirtyQuery counts the rows a tool's version table marks dirty.
func dirtyQuery(t tools.Tool) string {
	switch t.Probe {
	case "strata":
		return `SELECT count(*) FROM strata_migrations WHERE dirty`
	case "migrate":
		return `SELECT count(*) FROM schema_migrations WHERE dirty`
	}
	return "" // goose records only applied versions
}

// launch starts cfg.procs probes, waits until all are ready, releases them
// at once and waits for all to exit.
func launch(ctx context.Context, cfg config, probes probeSet, t tools.Tool, db target.DB, run *raceRun) error {
	startR, startW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer startW.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		startR.Close()
		return err
	}
	defer readyR.Close()

	rctx, cancel := context.WithTimeout(ctx, cfg.raceWait)
	defer cancel()
	args := probe.Args("race", db, "race", cfg.raceN)
	cmds := make([]*exec.Cmd, 0, cfg.procs)
	stderr := make([]limitedBuffer, cfg.procs)
	var startErr error
	for i := range cfg.procs {
		cmd, err := probes.command(rctx, t, args)
		if err != nil {
			startErr = err
			break
		}
		cmd.Stdin = startR
		cmd.ExtraFiles = []*os.File{readyW}
		cmd.Stderr = &stderr[i]
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Start(); err != nil {
			startErr = fmt.Errorf("start racer %d: %w", i+1, err)
			break
		}
		cmds = append(cmds, cmd)
	}
	startR.Close()
	readyW.Close()
	if startErr != nil {
		cancel()
		for _, c := range cmds {
			_ = c.Wait()
		}
		return startErr
	}

	// Wait until every racer said it is ready (or exited), at most a minute.
	readyCh := make(chan int, 1)
	go func() {
		n, _ := io.Copy(io.Discard, readyR)
		readyCh <- int(n)
	}()
	select {
	case <-readyCh:
	case <-time.After(time.Minute):
		logf("warning: not all %d racers ready after a minute; releasing them anyway", cfg.procs)
	}

	type exit struct {
		i   int
		at  time.Time
		err error
	}
	exits := make(chan exit, len(cmds))
	begin := time.Now()
	startW.Close() // release them all
	for i, c := range cmds {
		go func() {
			err := c.Wait()
			exits <- exit{i, time.Now(), err}
		}()
	}
	last := begin
	run.procs = len(cmds)
	run.failures = map[string]int{}
	for range cmds {
		e := <-exits
		if e.at.After(last) {
			last = e.at
		}
		if e.err == nil {
			run.ok++
			continue
		}
		reason := lastLine(stderr[e.i].String())
		if rctx.Err() != nil && reason == "" {
			reason = "killed after -race-timeout " + cfg.raceWait.String()
		}
		if reason == "" {
			reason = e.err.Error()
		}
		run.failures[reason]++
	}
	run.wall = last.Sub(begin)
	return nil
}

// lastLine returns the last non-empty line of s, shortened in the middle
// if long, with backquotes replaced so that it fits in Markdown code.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 200 { // keep both ends: the cause is usually last
		l = l[:80] + " … " + l[len(l)-110:]
	}
	return strings.ReplaceAll(l, "`", "'")
}

func onceText(counts []int) string {
	twice, never := 0, 0
	for _, c := range counts[1:] {
		switch {
		case c == 0:
			never++
		case c > 1:
			twice++
		}
	}
	if twice == 0 && never == 0 {
		return "yes"
	}
	var parts []string
	if twice > 0 {
		parts = append(parts, fmt.Sprintf("%d ran more than once", twice))
	}
	if never > 0 {
		parts = append(parts, fmt.Sprintf("%d never", never))
	}
	return "no (" + strings.Join(parts, ", ") + ")"
}

func nextText(r raceRun) string {
	switch {
	case r.nextErr != nil:
		return "fails: " + shorten(r.nextErr.Error(), 120)
	case r.next:
		return "had to finish the migration"
	}
	return "up to date"
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// topFailures returns the most frequent failure reasons, most frequent
// first.
func topFailures(m map[string]int, k int) []string {
	type kv struct {
		reason string
		n      int
	}
	var all []kv
	for r, n := range m {
		all = append(all, kv{r, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].reason < all[j].reason
	})
	var out []string
	for i, e := range all {
		if i == k {
			break
		}
		out = append(out, fmt.Sprintf("%d× `%s`", e.n, e.reason))
	}
	return out
}
