package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/strata-go/strata/bench/internal/countdb"
	"github.com/strata-go/strata/bench/internal/stats"
	"github.com/strata-go/strata/bench/internal/target"
	"github.com/strata-go/strata/dialect/sqlite"
)

// series is one row of a timing table: one value per repetition.
type series struct {
	dialect, tool string
	sample        stats.Sample
	order         int
}

type report struct {
	cfg         config
	machine     []string
	probes      string
	elapsed     time.Duration
	timings     map[string][]*series
	races       []*raceSeries
	counts      []stmtCounts
	loadStart   string
	settle      *settler
	rebuildInfo string
	backupInfo  string
	added       int
}

func (r *report) add(scn, dialect, tool string, d time.Duration) {
	if r.timings == nil {
		r.timings = map[string][]*series{}
	}
	for _, s := range r.timings[scn] {
		if s.dialect == dialect && s.tool == tool {
			s.sample = append(s.sample, d)
			return
		}
	}
	r.added++
	r.timings[scn] = append(r.timings[scn], &series{dialect: dialect, tool: tool, sample: stats.Sample{d}, order: r.added})
}

func (r *report) addRace(dialect, tool string, run raceRun) {
	for _, s := range r.races {
		if s.dialect == dialect && s.tool == tool {
			s.runs = append(s.runs, run)
			return
		}
	}
	r.races = append(r.races, &raceSeries{dialect: dialect, tool: tool, runs: []raceRun{run}})
}

// sorted returns a scenario's rows by dialect, then tool in report order.
func (r *report) sorted(scn string) []*series {
	rows := slices.Clone(r.timings[scn])
	names := toolNames()
	rank := func(s *series) (int, int) {
		t := slices.Index(names, s.tool)
		if t < 0 {
			t = len(names) + s.order
		}
		return slices.Index(target.Dialects(), s.dialect), t
	}
	slices.SortStableFunc(rows, func(a, b *series) int {
		da, ta := rank(a)
		db, tb := rank(b)
		if da != db {
			return da - db
		}
		return ta - tb
	})
	return rows
}

func toolNames() []string {
	var names []string
	for _, t := range allTools() {
		names = append(names, t.Name)
	}
	return names
}

func (r *report) write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	c := r.cfg
	p("# strata against goose and golang-migrate\n\n")
	p("Command: `cd bench && go run ./cmd/compare")
	for _, a := range c.args {
		p(" %s", a)
	}
	p("` (%s in all)\n\n", r.elapsed.Round(time.Second))
	p("Machine:\n\n")
	for _, l := range r.machine {
		p("- %s\n", l)
	}
	p("\nMethod: every tool runs on a database of its own, made fresh for it (a new file on SQLite, a new database on the servers). ")
	p("Tools take turns in an order that rotates every repetition. ")
	p("Each figure is the median over the repetitions, with the minimum and maximum; ratios divide medians. ")
	p("The *raw floor* executes the same statements through database/sql, each migration in its own transaction together with one INSERT of its version into a one-column table, with no lock and no checks; its start-up check is one `SELECT version ... ORDER BY version DESC LIMIT 1`. ")
	p("All tools share the connection settings: SQLite through strata's `sqlite.Open` (WAL, foreign_keys on, busy_timeout 10 s, BEGIN IMMEDIATE, one connection); PostgreSQL through pgx v5's database/sql driver without TLS; MariaDB through go-sql-driver/mysql with multiStatements=true and parseTime=true. ")
	p("goose locks with its PostgreSQL session locker and its MySQL table locker (defaults: retry every 5 s) and has no lock for SQLite; golang-migrate locks with pg_advisory_lock, GET_LOCK(name, 10) and, on SQLite, an in-process flag only. ")
	p("strata runs with its defaults (each migration in its own transaction under the dialect's lock: flock beside the SQLite file, pg_advisory_lock in 250 ms waits, GET_LOCK(name, 1) repeated); *strata (atomic)* adds `migration.WithAtomic()`.\n\n")
	p("Repetitions: %d (race: %d).", c.reps, c.raceReps)
	if r.probes != "" {
		p(" Fresh processes: %s.", r.probes)
	}
	p(" Load average (1, 5, 15 min) at the start: %s; at the end: %s. The machine is shared: %s.\n\n", r.loadStart, loadAvg(), r.settle.describe())

	if c.has("migrate") {
		p("## 1. Up-to-date start-up check, %s applied migrations\n\n", thousands(c.n))
		p("What every application start pays: each tool's normal Up on a database that is already up to date.\n\n")
		p("### 1a. In process, per call\n\nMean of %d calls after %d untimed ones, on a tool constructed once.\n\n", c.calls, warmupCalls)
		r.timingTable(bw, scnCheck, "raw floor")
		if c.execs > 0 {
			p("### 1b. Whole fresh process, exec to exit\n\nOpen the database, construct the tool with its %s migrations, check, exit; median of %d processes per repetition.\n\n", thousands(c.n), c.execs)
			r.timingTable(bw, scnProcess, "raw floor")
		}
		p("## 2. Apply %s trivial migrations to an empty database\n\nMigration i is `CREATE TABLE t_i (id INTEGER PRIMARY KEY)`; strata's form each depends on the one before.\n\n", thousands(c.n))
		r.timingTable(bw, scnApply, "raw floor")
		p("## 3. Roll %s migrations back\n\nEach Down is `DROP TABLE t_i`.\n\n", thousands(c.n))
		r.timingTable(bw, scnReset, "raw floor")
	}
	if c.has("statements") && len(r.counts) > 0 {
		p("### Statements sent in scenarios 1-3\n\n")
		p("Counted once per tool by a wrapper around the database/sql driver, so load does not blur them. ")
		p("*Statements* are executions and queries plus BEGIN, COMMIT and ROLLBACK; *commits* are COMMITs plus statements executed outside a transaction (each commits on its own) and, on MariaDB, DDL inside a transaction (which commits implicitly). ")
		p("The times are spent inside the driver, split between DDL (the migrations' own CREATE TABLE) and every other call (queries, version rows, BEGIN, COMMIT); the time a tool spends outside the driver is in neither. ")
		p("Go-sql-driver/mysql prepares every statement that has arguments on the server first (one more round trip, not counted here). One run per tool, without repetitions.\n\n")
		r.countTable(bw)
	}
	if c.has("race") {
		p("## 4. %d processes started together on one database, %d migrations\n\n", c.procs, c.raceN)
		p("Each process runs the tool's Up; all are started, wait until every one is ready, and are released at once. ")
		p("Migration i inserts a row into `%s` and then creates table r_i, so the rows show whether it ran once. ", "bench_runs")
		p("*Wall* runs from the release to the last exit. *Next start* is one more Up afterwards, as the next deployment would run it. ")
		p("The raw floor has no lock and cannot migrate from many processes at once: its row is %d processes that each start, connect and read one row of an already migrated database, the part of the wall time that no migrator can avoid on this machine.\n\n", c.procs)
		r.raceTable(bw)
	}
	if slices.Contains(c.dialects, target.SQLite) && c.has("rebuild") && len(r.timings[scnRebuild]) > 0 {
		p("## 5. SQLite: drop a column of a %s-row table\n\n%s. Each run works on a fresh copy of the same file. ", thousands(c.rows), r.rebuildInfo)
		p("goose and golang-migrate have no rebuild helper: their users write the native statement (the floor row) or the 12 steps by hand.\n\n")
		r.timingTable(bw, scnRebuild, rebuildNative)
	}
	if slices.Contains(c.dialects, target.SQLite) && c.has("backup") && len(r.timings[scnBackup]) > 0 {
		p("## 6. SQLite: back up a %d MB database\n\n%s. ", c.backupMB, r.backupInfo)
		p("`backup.Create` runs VACUUM INTO a temporary file, syncs it, verifies it, writes a SHA-256 checksum file and renames both into place; the file copy is only consistent because nothing writes meanwhile. goose and golang-migrate have no backup.\n\n")
		r.timingTable(bw, scnBackup, backupCopy)
	}
	return bw.Flush()
}

// timingTable writes one scenario's rows, with ratios to the floor row and
// to strata's row of the same dialect.
func (r *report) timingTable(w io.Writer, scn, floor string) {
	rows := r.sorted(scn)
	if len(rows) == 0 {
		fmt.Fprintf(w, "(no results)\n\n")
		return
	}
	find := func(dialect, tool string) *series {
		for _, s := range rows {
			if s.dialect == dialect && s.tool == tool {
				return s
			}
		}
		return nil
	}
	strataName := "strata"
	if scn == scnRebuild {
		strataName = rebuildDrop
	}
	if scn == scnBackup {
		strataName = backupStrata
	}
	fmt.Fprintf(w, "| dialect | tool | median | min | max | × floor | × strata |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, s := range rows {
		med := s.sample.Median()
		vsFloor, vsStrata := "–", "–"
		if f := find(s.dialect, floor); f != nil {
			vsFloor = stats.Ratio(med, f.sample.Median())
		}
		if st := find(s.dialect, strataName); st != nil {
			vsStrata = stats.Ratio(med, st.sample.Median())
		}
		name := s.tool
		if strings.HasPrefix(s.tool, "strata") {
			name = "**" + s.tool + "**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", s.dialect, name,
			stats.Duration(med), stats.Duration(s.sample.Min()), stats.Duration(s.sample.Max()), vsFloor, vsStrata)
	}
	fmt.Fprintln(w)
}

func (r *report) countTable(w io.Writer) {
	counts := slices.Clone(r.counts)
	names := toolNames()
	slices.SortStableFunc(counts, func(a, b stmtCounts) int {
		if d := slices.Index(target.Dialects(), a.dialect) - slices.Index(target.Dialects(), b.dialect); d != 0 {
			return d
		}
		return slices.Index(names, a.tool) - slices.Index(names, b.tool)
	})
	fmt.Fprintf(w, "| dialect | tool | apply: statements / migration | commits / migration | time in DDL / migration | time in other calls / migration | start-up check: statements | roll back: statements / migration | commits / migration |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range counts {
		check := "–"
		if c.check != (countdb.Snapshot{}) {
			check = fmt.Sprint(c.check.Statements())
		}
		name := c.tool
		if strings.HasPrefix(name, "strata") {
			name = "**" + name + "**"
		}
		mysql := c.dialect == target.MySQL
		fmt.Fprintf(w, "| %s | %s | %.2f | %.2f | %s | %s | %s | %.2f | %.2f |\n", c.dialect, name,
			perMigration(c.apply.Statements(), c.n), perMigration(c.apply.Commits(mysql), c.n),
			stats.Duration(c.apply.DDL/time.Duration(c.n)), stats.Duration(c.apply.Other/time.Duration(c.n)), check,
			perMigration(c.reset.Statements(), c.n), perMigration(c.reset.Commits(mysql), c.n))
	}
	fmt.Fprintln(w)
}

func (r *report) raceTable(w io.Writer) {
	if len(r.races) == 0 {
		fmt.Fprintf(w, "(no results)\n\n")
		return
	}
	races := slices.Clone(r.races)
	names := toolNames()
	slices.SortStableFunc(races, func(a, b *raceSeries) int {
		if d := slices.Index(target.Dialects(), a.dialect) - slices.Index(target.Dialects(), b.dialect); d != 0 {
			return d
		}
		return slices.Index(names, a.tool) - slices.Index(names, b.tool)
	})
	fmt.Fprintf(w, "| dialect | tool | wall (median) | min | max | × strata | succeeded | each migration once | left dirty | next start |\n|---|---|---:|---:|---:|---:|---|---|---|---|\n")
	var notes []string
	for _, s := range races {
		var wall stats.Sample
		okMin, okMax, procs := -1, -1, 0
		onceRuns, dirtyRuns, nextBad := 0, 0, 0
		var nextMsg string
		failures := map[string]int{}
		others := 0
		for _, run := range s.runs {
			wall = append(wall, run.wall)
			if okMin < 0 || run.ok < okMin {
				okMin = run.ok
			}
			okMax = max(okMax, run.ok)
			procs = run.procs
			if onceText(run.counts) == "yes" {
				onceRuns++
			}
			if run.dirty > 0 {
				dirtyRuns++
			}
			if run.nextErr != nil || run.next {
				nextBad++
				nextMsg = nextText(run)
			}
			for k, v := range run.failures {
				failures[k] += v
			}
			others = max(others, run.others)
		}
		var strataWall time.Duration
		for _, o := range races {
			if o.dialect == s.dialect && o.tool == "strata" {
				var ws stats.Sample
				for _, run := range o.runs {
					ws = append(ws, run.wall)
				}
				strataWall = ws.Median()
			}
		}
		n := len(s.runs)
		succeeded := fmt.Sprintf("%d/%d", okMin, procs)
		if okMin != okMax {
			succeeded = fmt.Sprintf("%d–%d/%d", okMin, okMax, procs)
		}
		once := fmt.Sprintf("yes (%d/%d runs)", n, n)
		if onceRuns < n {
			once = fmt.Sprintf("**no** in %d/%d runs", n-onceRuns, n)
			for _, run := range s.runs {
				if t := onceText(run.counts); t != "yes" {
					once += ": " + strings.TrimPrefix(t, "no ")
					break
				}
			}
		}
		dirty := "no"
		switch {
		case s.tool == "raw floor":
			once, dirty, succeeded = "n/a (migrated before)", "n/a", fmt.Sprintf("%d/%d read", okMin, procs)
		case s.tool == "goose":
			dirty = "n/a (no dirty state)"
		case dirtyRuns > 0:
			dirty = fmt.Sprintf("**yes** in %d/%d runs", dirtyRuns, n)
		}
		next := "up to date"
		if nextBad > 0 {
			next = fmt.Sprintf("**%d/%d runs**: %s", nextBad, n, nextMsg)
		}
		name := s.tool
		if name == "strata" {
			name = "**strata**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.dialect, name,
			stats.Duration(wall.Median()), stats.Duration(wall.Min()), stats.Duration(wall.Max()), stats.Ratio(wall.Median(), strataWall),
			succeeded, once, dirty, next)
		if top := topFailures(failures, 2); len(top) > 0 {
			notes = append(notes, fmt.Sprintf("%s, %s, failed processes (all runs): %s", s.dialect, s.tool, strings.Join(top, "; ")))
		}
		if others > 0 {
			notes = append(notes, fmt.Sprintf("%s, %s: up to %d other client connections were open on the server when a run began", s.dialect, s.tool, others))
		}
	}
	fmt.Fprintln(w)
	if len(notes) > 0 {
		for _, n := range notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
		fmt.Fprintln(w)
	}
}

// describeMachine lists what the results depend on.
func describeMachine(ctx context.Context, cfg config) ([]string, error) {
	var out []string
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(data)) {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	out = append(out, fmt.Sprintf("%d CPUs (nproc), %s, %s/%s", runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH))
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for l := range strings.Lines(string(data)) {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				var kb int
				fmt.Sscan(f[1], &kb)
				out = append(out, fmt.Sprintf("%.1f GiB RAM", float64(kb)/(1<<20)))
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		out = append(out, "Linux "+strings.TrimSpace(string(data)))
	}
	out = append(out, runtime.Version())
	for _, d := range cfg.dialects {
		srv, err := newServer(d, cfg)
		if err != nil {
			return nil, err
		}
		v, err := srv.Version(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: read server version: %w", d, err)
		}
		if d == target.SQLite {
			v += sqliteSettings(ctx, cfg.dir)
		}
		out = append(out, v)
	}
	if lib := libraryRevision(ctx); lib != "" {
		out = append(out, lib)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		var mods []string
		for _, m := range bi.Deps {
			switch m.Path {
			case "github.com/pressly/goose/v3", "github.com/golang-migrate/migrate/v4", "github.com/mattn/go-sqlite3",
				"github.com/jackc/pgx/v5", "github.com/go-sql-driver/mysql":
				mods = append(mods, m.Path+" "+m.Version)
			}
		}
		if len(mods) > 0 {
			out = append(out, strings.Join(mods, ", "))
		}
	}
	return out, nil
}

// sqliteSettings reports the durability settings a file opened with
// sqlite.Open gets, as ", journal_mode=wal, synchronous=2 (FULL)".
func sqliteSettings(ctx context.Context, dir string) string {
	path := filepath.Join(dir, "settings.db")
	defer removeDB(path)
	db, err := sqlite.Open(path)
	if err != nil {
		return ""
	}
	defer db.Close()
	var mode string
	var sync int
	if db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode) != nil || db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync) != nil {
		return ""
	}
	names := []string{"OFF", "NORMAL", "FULL", "EXTRA"}
	name := fmt.Sprint(sync)
	if sync >= 0 && sync < len(names) {
		name = names[sync]
	}
	return fmt.Sprintf(" (files opened with sqlite.Open: journal_mode=%s, synchronous=%s)", mode, name)
}

// libraryRevision describes the strata tree the benchmark was built from:
// its commit and how many files differ from it.
func libraryRevision(ctx context.Context) string {
	dir, err := moduleDir(ctx)
	if err != nil {
		return ""
	}
	root := filepath.Dir(dir)
	rev, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	desc := "strata at commit " + strings.TrimSpace(string(rev))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain").Output(); err == nil {
		if lines := strings.TrimSpace(string(st)); lines != "" {
			n := strings.Count(lines, "\n") + 1
			desc += fmt.Sprintf(" plus %d changed or new paths not yet committed (the work tree as it was during the run)", n)
		}
	}
	return desc
}

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
