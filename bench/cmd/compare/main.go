// Command compare runs strata, pressly/goose v3, golang-migrate v4 and a raw
// floor (the same statements executed directly) side by side on SQLite,
// PostgreSQL and MySQL/MariaDB, and prints the results as Markdown tables:
//
//  1. the up-to-date start-up check with 1,000 applied migrations, in
//     process (per call) and as a whole fresh process (exec to exit);
//  2. applying 1,000 trivial migrations to an empty database;
//  3. rolling the 1,000 back;
//  4. 100 OS processes started together on one database with 20
//     migrations: wall time, how many succeed, whether each migration ran
//     once;
//  5. SQLite: dropping a column of a 1,000,000-row table, strata's rebuild
//     helpers against native ALTER TABLE DROP COLUMN;
//  6. SQLite: backing up a 200 MB database, strata's backup package
//     against a plain file copy.
//
// Tools run in turns that rotate every repetition, each on a database of its
// own made fresh for it; every figure is the median over the repetitions,
// with the minimum and maximum. Run it from the bench module:
//
//	cd bench && go run ./cmd/compare
//	cd bench && go run ./cmd/compare -quick -dialects sqlite
//
// Fresh processes are small per-tool programs (internal/probe/...) that
// compare builds with the go command first, so each links only its own
// tool; -probes self re-executes the compare binary instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/strata-go/strata/bench/internal/probe"
	"github.com/strata-go/strata/bench/internal/target"
)

type config struct {
	dialects  []string
	scenarios []string
	tools     []string
	reps      int
	raceReps  int
	n         int
	calls     int
	execs     int
	procs     int
	raceN     int
	raceWait  time.Duration
	rows      int
	backupMB  int
	pgDSN     string
	myDSN     string
	dir       string
	out       string
	probes    string
	settle    time.Duration
	quick     bool
	args      []string
}

// scenarioNames returns the -scenarios values in the order they run.
func scenarioNames() []string {
	return []string{"migrate", "statements", "race", "rebuild", "backup"}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "probe" {
		os.Exit(probeMain(os.Args[2:]))
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: go run ./cmd/compare [flags]

Runs strata, goose, golang-migrate and a raw floor side by side and prints
Markdown tables of medians, min/max and ratios. The defaults take about
10-15 minutes on 2 cores; -quick takes one or two.

Scenarios (-scenarios): migrate = start-up check, apply 1,000, roll back
1,000 (1-3); statements = what 1-3 ask of the database, counted once
through a driver wrapper; race = 100 processes at once (4); rebuild =
SQLite drop column of a large table (5); backup = SQLite backup against a
file copy (6).

Flags:
`)
		fs.PrintDefaults()
	}
	var c config
	dialects := fs.String("dialects", strings.Join(target.Dialects(), ","), "comma-separated dialects to run: sqlite, postgres, mysql")
	scenarios := fs.String("scenarios", strings.Join(scenarioNames(), ","), "comma-separated scenarios to run: "+strings.Join(scenarioNames(), ", "))
	toolList := fs.String("tools", strings.Join(toolKeys(), ","), "comma-separated tools to run: "+strings.Join(toolKeys(), ", "))
	fs.IntVar(&c.reps, "reps", 5, "repetitions of the migrate, rebuild and backup scenarios")
	fs.IntVar(&c.raceReps, "race-reps", 3, "repetitions of the race scenario")
	fs.IntVar(&c.n, "n", 1000, "migrations applied, checked and rolled back (scenarios 1-3)")
	fs.IntVar(&c.calls, "calls", 300, "in-process start-up checks timed per repetition (after 20 untimed)")
	fs.IntVar(&c.execs, "execs", 10, "fresh-process start-up checks per tool and repetition")
	fs.IntVar(&c.procs, "procs", 100, "processes started together in the race scenario")
	fs.IntVar(&c.raceN, "race-migrations", 20, "migrations in the race scenario")
	fs.DurationVar(&c.raceWait, "race-timeout", 3*time.Minute, "kill racers still running after this long")
	fs.IntVar(&c.rows, "rows", 1_000_000, "rows of the table whose column the rebuild scenario drops")
	fs.IntVar(&c.backupMB, "backup-mb", 200, "size in MB of the database the backup scenario backs up")
	fs.StringVar(&c.pgDSN, "postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL URL of a user who may create databases")
	fs.StringVar(&c.myDSN, "mysql", "root@tcp(127.0.0.1:3306)/", "MySQL/MariaDB DSN (go-sql-driver form) of a user who may create databases")
	fs.StringVar(&c.dir, "dir", "", "directory for SQLite files and probe programs (default: a new temporary directory, removed at the end)")
	fs.StringVar(&c.out, "out", filepath.Join("results", "compare.md"), "also write the Markdown report to this file (\"\" for standard output only)")
	fs.StringVar(&c.probes, "probes", "build", "how to start fresh processes: build (a small program per tool, built with the go command) or self (re-execute this binary)")
	fs.DurationVar(&c.settle, "settle", 15*time.Second, "before each measured step, wait up to this long for other processes to leave the CPUs mostly idle (0: do not wait)")
	fs.BoolVar(&c.quick, "quick", false, "a smoke run of a minute or two: 2 repetitions, 200 migrations, 20 racers, 100,000 rows, 20 MB backup (flags given explicitly win)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quick := map[string]func(){
			"reps":      func() { c.reps = 2 },
			"race-reps": func() { c.raceReps = 1 },
			"n":         func() { c.n = 200 },
			"calls":     func() { c.calls = 100 },
			"execs":     func() { c.execs = 3 },
			"procs":     func() { c.procs = 20 },
			"rows":      func() { c.rows = 100_000 },
			"backup-mb": func() { c.backupMB = 20 },
		}
		for name, f := range quick {
			if !set[name] {
				f()
			}
		}
	}
	var err error
	if c.dialects, err = list(*dialects, target.Dialects()); err != nil {
		return c, fmt.Errorf("-dialects: %w", err)
	}
	if c.scenarios, err = list(*scenarios, scenarioNames()); err != nil {
		return c, fmt.Errorf("-scenarios: %w", err)
	}
	if c.tools, err = list(*toolList, toolKeys()); err != nil {
		return c, fmt.Errorf("-tools: %w", err)
	}
	for _, v := range []struct {
		name string
		val  int
		min  int
	}{{"reps", c.reps, 1}, {"race-reps", c.raceReps, 1}, {"n", c.n, 1}, {"calls", c.calls, 1}, {"execs", c.execs, 0},
		{"procs", c.procs, 1}, {"race-migrations", c.raceN, 1}, {"rows", c.rows, 1}, {"backup-mb", c.backupMB, 1}} {
		if v.val < v.min {
			return c, fmt.Errorf("-%s must be at least %d", v.name, v.min)
		}
	}
	if c.settle < 0 {
		return c, errors.New("-settle must not be negative")
	}
	if c.probes != "build" && c.probes != "self" {
		return c, fmt.Errorf("-probes must be build or self, not %q", c.probes)
	}
	c.args = args
	return c, nil
}

// list splits a comma-separated flag value and checks each item against
// known, keeping known's order.
func list(v string, known []string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !slices.Contains(known, item) {
			return nil, fmt.Errorf("unknown %q (want %s)", item, strings.Join(known, ", "))
		}
		if !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	slices.SortFunc(out, func(a, b string) int { return slices.Index(known, a) - slices.Index(known, b) })
	return out, nil
}

func (c config) has(scenario string) bool { return slices.Contains(c.scenarios, scenario) }

func run(ctx context.Context, cfg config) (err error) {
	start := time.Now()
	if cfg.dir == "" {
		d, err := os.MkdirTemp("", "strata-compare-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		cfg.dir = d
	} else if err := os.MkdirAll(cfg.dir, 0o700); err != nil {
		return err
	}
	rep := &report{cfg: cfg, loadStart: loadAvg(), settle: newSettler(cfg.settle)}
	if rep.machine, err = describeMachine(ctx, cfg); err != nil {
		return err
	}

	var probes probeSet
	if cfg.has("migrate") || cfg.has("race") {
		logf("preparing probe programs (-probes %s)", cfg.probes)
		if probes, err = makeProbes(ctx, cfg); err != nil {
			return err
		}
		rep.probes = probes.describe
	}
	for _, d := range cfg.dialects {
		srv, err := newServer(d, cfg)
		if err != nil {
			return err
		}
		err = runDialect(ctx, cfg, srv, probes, rep)
		if derr := srv.DropAll(context.WithoutCancel(ctx)); derr != nil {
			err = errors.Join(err, fmt.Errorf("clean up %s: %w", d, derr))
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
	}
	rep.elapsed = time.Since(start)

	var w io.Writer = os.Stdout
	if cfg.out != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.out), 0o755); err != nil {
			return err
		}
		f, err := os.Create(cfg.out)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
		w = io.MultiWriter(os.Stdout, f)
	}
	if err := rep.write(w); err != nil {
		return err
	}
	if cfg.out != "" {
		logf("report written to %s", cfg.out)
	}
	return nil
}

func newServer(d string, cfg config) (*target.Server, error) {
	switch d {
	case target.Postgres:
		return target.NewServer(d, cfg.pgDSN, "")
	case target.MySQL:
		return target.NewServer(d, cfg.myDSN, "")
	default:
		dir := filepath.Join(cfg.dir, "sqlite")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		return target.NewServer(d, "", dir)
	}
}

func runDialect(ctx context.Context, cfg config, srv *target.Server, probes probeSet, rep *report) error {
	if cfg.has("migrate") {
		if err := runMigrate(ctx, cfg, srv, probes, rep); err != nil {
			return err
		}
	}
	if cfg.has("statements") {
		if err := runStatements(ctx, cfg, srv, rep); err != nil {
			return err
		}
	}
	if cfg.has("race") {
		if err := runRace(ctx, cfg, srv, probes, rep); err != nil {
			return err
		}
	}
	if srv.Dialect != target.SQLite {
		return nil
	}
	if cfg.has("rebuild") {
		if err := runRebuild(ctx, cfg, rep); err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
	}
	if cfg.has("backup") {
		if err := runBackup(ctx, cfg, rep); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	return nil
}

// probeMain is "compare probe TOOL ARGS...": the compare binary acting as
// one tool's probe program (-probes self).
func probeMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: compare probe strata|goose|migrate|raw -role ...")
		return probe.ExitUsage
	}
	for _, t := range allTools() {
		if t.Probe != "" && t.Probe == args[0] {
			return probe.Main(t, args[1:])
		}
	}
	fmt.Fprintf(os.Stderr, "compare probe: unknown tool %q\n", args[0])
	return probe.ExitUsage
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
