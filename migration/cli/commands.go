package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/schema"
)

// commands in the order help lists them.
var commands []*command

func init() {
	commands = []*command{
		{
			name: "up", summary: "apply pending migrations", db: true, writes: true,
			help: "Up applies every pending migration in dependency order or, with --to, only ID\n" +
				"and those of its ancestors not yet applied. Each applied migration is printed\n" +
				"with its duration; a failure stops the run and names the migration and step.",
			flags: func(fs *flag.FlagSet, f *flags) {
				fs.StringVar(&f.to, "to", "", "apply only migration `ID` and its pending ancestors")
			},
			run: runUp,
		},
		{
			name: "down", args: "[N]", nargs: [2]int{0, 1}, summary: "roll back migrations (asks first)", db: true, writes: true,
			help: "Down rolls back the last applied migration; with N, the last N applied, newest\n" +
				"first; with --to, every applied migration that is neither ID nor an ancestor\n" +
				"of ID; with --all, every applied migration.\n" +
				"It shows what it will roll back and asks for confirmation on a terminal;\n" +
				"elsewhere it needs --yes.",
			flags: func(fs *flag.FlagSet, f *flags) {
				fs.StringVar(&f.to, "to", "", "roll back everything that is neither `ID` nor one of its ancestors")
				fs.BoolVar(&f.all, "all", false, "roll back every applied migration")
			},
			run: runDown,
		},
		{
			name: "status", summary: "show the state of every migration", db: true,
			help: "Status lists every migration with its state (applied, pending, dirty, or\n" +
				"unknown: applied by a newer binary), when it was applied and how long it took.\n" +
				"With --exit-code it exits 3 when migrations are pending and 1 when one is dirty,\n" +
				"so that deploy scripts can gate on it.",
			flags: func(fs *flag.FlagSet, f *flags) {
				fs.BoolVar(&f.exitCode, "exit-code", false, "exit 3 if migrations are pending, 1 if one is dirty")
			},
			run: runStatus,
		},
		{
			name: "pending", summary: "list the migrations up would apply", db: true,
			run: runPending,
		},
		{
			name: "plan", summary: "show what up (or down) would do, doing nothing", db: true,
			help: "Plan prints the migrations a run would apply or, with --down, roll back, in\n" +
				"order, with what they need (a backup, no transaction). It changes nothing.",
			flags: func(fs *flag.FlagSet, f *flags) {
				fs.StringVar(&f.to, "to", "", "plan up (or down) to migration `ID`")
				fs.BoolVar(&f.down, "down", false, "plan a roll back instead")
				fs.BoolVar(&f.all, "all", false, "with --down: plan rolling back everything")
				fs.BoolVar(&f.sql, "sql", false, "print the statements each step would execute")
			},
			run: runPlan,
		},
		{
			name: "validate", summary: "dry run: try pending migrations and roll them back", db: true,
			help: "Validate is a dry run of up. Where DDL is transactional (PostgreSQL, SQLite) it\n" +
				"runs every pending migration's Validate and Up in one transaction and rolls it\n" +
				"back. Elsewhere (MySQL) it checks the graph, the version table and the first\n" +
				"pending migration's preconditions, and says so.",
			run: runValidate,
		},
		{
			name: "history", summary: "show the version table in the order applied", db: true,
			run: runHistory,
		},
		{
			name: "drift", summary: "compare the schema with the one the last run left", db: true,
			help: "Drift compares the live schema with the one recorded after the last run that\n" +
				"applied or rolled back migrations, and prints what was changed by hand since:\n" +
				"\"+\" added, \"-\" removed, \"~\" changed. It exits 4 when the schema has drifted,\n" +
				"0 when it has not. With --accept it records the live schema as the expected\n" +
				"one instead, once the changes are intended, or after a baseline: it shows\n" +
				"what it accepts and asks for confirmation on a terminal; elsewhere it needs\n" +
				"--yes.",
			flags: func(fs *flag.FlagSet, f *flags) {
				fs.BoolVar(&f.accept, "accept", false, "record the live schema as the expected one")
			},
			run: runDrift,
		},
		{
			name: "baseline", args: "ID", nargs: [2]int{1, 1}, summary: "record ID and its ancestors as applied without running them", db: true, writes: true,
			help: "Baseline records ID and its ancestors as applied without running them, for a\n" +
				"database whose schema already has what they do.",
			run: runBaseline,
		},
		{
			name: "adopt", summary: "take over a database that goose or golang-migrate manages", db: true, writes: true,
			help: "Adopt reads goose's or golang-migrate's version table (--from goose or\n" +
				"--from golang-migrate; --table if it is not the tool's default), records the\n" +
				"migrations it lists as applied, without running them, and leaves the tool's\n" +
				"table alone. A migration's version is the number its ID begins with.",
			flags: func(fs *flag.FlagSet, f *flags) {
				fs.StringVar(&f.from, "from", "", "the `tool`: goose or golang-migrate")
				fs.StringVar(&f.fromTable, "from-table", "", "the tool's version `table` (default goose_db_version or schema_migrations)")
			},
			run: runAdopt,
		},
		{
			name: "repair", args: "ID", nargs: [2]int{1, 1}, summary: "resolve a dirty migration", db: true, writes: true,
			help: "Repair resolves a dirty migration (one that started without finishing where\n" +
				"DDL is not transactional) once you have inspected the database: --applied\n" +
				"records it as applied, --not-applied removes its row. --checksum accepts the\n" +
				"edited text of an applied migration as the text it was applied with.",
			flags: func(fs *flag.FlagSet, f *flags) {
				fs.BoolVar(&f.applied, "applied", false, "record the migration as applied")
				fs.BoolVar(&f.notApplied, "not-applied", false, "record the migration as not applied")
				fs.BoolVar(&f.checksum, "checksum", false, "accept the migration's current text (checksum)")
			},
			run: runRepair,
		},
		{
			name: "backup", summary: "back the database up now (--list: list backups)", db: true, writes: true,
			help: "Backup backs the database up now, under the migration lock, to the backup\n" +
				"directory, with a checksum beside the file. With --list it lists the backups\n" +
				"of the database instead, newest first, including those taken before migrations.",
			flags: func(fs *flag.FlagSet, f *flags) {
				fs.StringVar(&f.label, "label", "", "name the backup `label` in its file name (default manual)")
				fs.BoolVar(&f.list, "list", false, "list the backups instead")
			},
			run: runBackup,
		},
		{
			name: "restore", args: "FILE", nargs: [2]int{1, 1}, summary: "restore the database from a backup (asks first)", db: true, writes: true,
			help: "Restore replaces the database with the backup FILE, under the migration lock,\n" +
				"once the file matches its checksum. Migrations applied after the backup was\n" +
				"taken are pending again. It asks for confirmation on a terminal; elsewhere it\n" +
				"needs --yes.",
			run: runRestore,
		},
		{
			name: "create", args: "NAME", nargs: [2]int{1, -1}, summary: "write a new migration file",
			help: "Create writes a Go file for a new migration named NAME to the migrations\n" +
				"directory. Its ID is a UTC timestamp (or, with --seq, the next number) and\n" +
				"NAME; it depends on the current heads of the graph. Existing files are never\n" +
				"overwritten. Add the new type to the application's list of migrations.",
			flags: func(fs *flag.FlagSet, f *flags) {
				fs.StringVar(&f.dir, "dir", "", "the migrations `directory`")
				fs.BoolVar(&f.seq, "seq", false, "number the ID after the highest numbered one (0007_name) instead of a timestamp")
			},
			run: runCreate,
		},
		{
			name: "graph", summary: "show the dependency graph (--dot: Graphviz)",
			flags: func(fs *flag.FlagSet, f *flags) {
				fs.BoolVar(&f.dot, "dot", false, "print Graphviz DOT")
			},
			run: runGraph,
		},
		{
			name: "version", summary: "print the strata version and the database's",
			help: "Version prints the version of strata built into the program and, when a\n" +
				"database is given (--dsn, the environment or the application's default), the\n" +
				"newest migration applied to it and how many are applied and pending.",
			run: runVersion,
		},
		{
			name: "completion", args: "SHELL", nargs: [2]int{1, 1}, summary: "print a shell completion script (bash, zsh, fish)",
			help: "Completion prints a script that completes commands, flags, migration IDs and\n" +
				"dialect names for SHELL: bash, zsh or fish. Load it from the shell's start-up\n" +
				"file:\n\n" +
				"  bash (~/.bashrc):             source <(PROG completion bash)\n" +
				"  zsh (~/.zshrc, after compinit): source <(PROG completion zsh)\n" +
				"  fish:                         PROG completion fish > ~/.config/fish/completions/BIN.fish",
			run: runCompletion,
		},
		{
			name: "__complete", args: "WORDS", nargs: [2]int{0, -1}, hidden: true,
			summary: "answer the completion scripts", run: runComplete,
		},
		{
			name: "help", args: "[COMMAND]", nargs: [2]int{0, 1}, summary: "show help for a command",
			run: runHelp,
		},
	}
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (e *env) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [flags] <command> [command flags] [arguments]\n\n", e.c.prog)
	fmt.Fprintln(w, "Commands:")
	tw := newTable(w)
	for _, c := range commands {
		if !c.hidden {
			fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nFlags (before or after the command):")
	e.printFlags(w, e.newFlagSet(""))
	fmt.Fprintf(w, "\nExit codes: 0 ok, 1 failure, 2 usage, 3 pending migrations (status --exit-code), 4 schema drift (drift).\n")
	fmt.Fprintf(w, "Run '%s help <command>' for more about a command.\n", e.c.prog)
}

func (e *env) commandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: %s\n\n", strings.TrimSpace(fmt.Sprintf("%s %s [flags] %s", e.c.prog, c.name, c.args)))
	if c.help != "" {
		fields := strings.Fields(e.c.prog)
		fmt.Fprintln(w, strings.NewReplacer("PROG", e.c.prog, "BIN", fields[0]).Replace(c.help))
	} else {
		fmt.Fprintln(w, strings.ToUpper(c.summary[:1])+c.summary[1:]+".")
	}
	if c.flags != nil {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.flags(fs, &flags{})
		fmt.Fprintln(w, "\nFlags:")
		e.printFlags(w, fs)
	}
	fmt.Fprintln(w, "\nGlobal flags:")
	e.printFlags(w, e.newFlagSet(""))
}

// printFlags lists the flags of fs as --name value  usage.
func (e *env) printFlags(w io.Writer, fs *flag.FlagSet) {
	tw := newTable(w)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		arg := "--" + f.Name
		if len(f.Name) == 1 {
			arg = "-" + f.Name
		}
		if name != "" {
			arg += " " + name
		}
		if env := e.c.envFor(f.Name); env != "" && f.Name != "dsn" {
			usage += " [$" + env + "]"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", arg, usage)
	})
	tw.Flush()
}

// jsonCommand is one element of help --json.
type jsonCommand struct {
	Name    string     `json:"name"`
	Args    string     `json:"args"`
	Summary string     `json:"summary"`
	Flags   []jsonFlag `json:"flags"`
}

// jsonFlag is a flag of a command, with its environment variable if any.
type jsonFlag struct {
	Name  string `json:"name"`
	Arg   string `json:"arg,omitempty"`
	Usage string `json:"usage"`
	Env   string `json:"env,omitempty"`
}

func (e *env) flagsJSON(fs *flag.FlagSet) []jsonFlag {
	out := []jsonFlag{}
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		out = append(out, jsonFlag{Name: f.Name, Arg: arg, Usage: usage, Env: e.c.envFor(f.Name)})
	})
	return out
}

func runHelp(_ context.Context, e *env) error {
	if e.g.json {
		var cs []*command
		for _, c := range commands {
			if !c.hidden {
				cs = append(cs, c)
			}
		}
		if len(e.args) == 1 {
			c := lookupCommand(e.args[0])
			if c == nil {
				return usageErrorf("help: unknown command %q", e.args[0])
			}
			cs = []*command{c}
		}
		out := map[string]any{"program": e.c.prog, "global_flags": e.flagsJSON(e.newFlagSet(""))}
		list := make([]jsonCommand, len(cs))
		for i, c := range cs {
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			if c.flags != nil {
				c.flags(fs, &flags{})
			}
			list[i] = jsonCommand{Name: c.name, Args: c.args, Summary: c.summary, Flags: e.flagsJSON(fs)}
		}
		out["commands"] = list
		return e.writeJSON(out)
	}
	if len(e.args) == 0 {
		e.usage(e.stdout)
		return nil
	}
	c := lookupCommand(e.args[0])
	if c == nil {
		return usageErrorf("help: unknown command %q", e.args[0])
	}
	e.commandUsage(e.stdout, c)
	return nil
}

func runUp(ctx context.Context, e *env) error {
	return e.run(ctx, migration.Target{Direction: migration.DirectionUp, ID: e.f.to})
}

func runDown(ctx context.Context, e *env) error {
	if e.f.all && e.f.to != "" {
		return usageErrorf("down: --to and --all exclude each other")
	}
	t := migration.Target{Direction: migration.DirectionDown, ID: e.f.to, All: e.f.all}
	if len(e.args) == 1 {
		n, err := strconv.Atoi(e.args[0])
		if err != nil || n < 1 {
			return usageErrorf("down: N must be a positive number of migrations, got %q", e.args[0])
		}
		if e.f.all || e.f.to != "" {
			return usageErrorf("down: N excludes --to and --all")
		}
		t.Count = n
	}
	return e.run(ctx, t)
}

// run plans t, asks before a roll back, runs it and prints what it did.
func (e *env) run(ctx context.Context, t migration.Target) error {
	steps, err := e.m.Plan(ctx, t)
	switch {
	case errors.Is(err, migration.ErrDirty) && t.Direction == migration.DirectionUp:
		// Plan looks without the lock: the dirty row may be a migration
		// another migrator is running right now. Run decides under the
		// lock.
		steps = nil
	case err != nil:
		return err
	case len(steps) == 0:
		return e.nothingToRun(t)
	}
	doing := "applying"
	if t.Direction == migration.DirectionDown {
		doing = "rolling back"
		if !e.g.yes && e.interactive() {
			fmt.Fprintln(e.stderr, "About to roll back, undoing what they did:")
			for _, s := range steps {
				fmt.Fprintf(e.stderr, "  %s\n", s.ID)
			}
		}
		if err := e.confirm(fmt.Sprintf("Roll back %s?", plural(len(steps), "migration"))); err != nil {
			return err
		}
	}
	e.prog = e.startProgress(doing, steps)
	res, err := e.m.Run(ctx, t)
	e.prog.end()
	e.prog = nil
	var fail *failure
	if n := len(res); n > 0 && res[n-1].Err != nil {
		fail = e.failed(ctx, res[n-1])
		res = res[:n-1]
	}
	if e.g.json {
		out := jsonRun{Direction: string(t.Direction), Migrations: make([]jsonResult, len(res))}
		for i, r := range res {
			out.Migrations[i] = resultJSON(r)
		}
		if fail != nil {
			out.Failed = fail.json()
		} else if err != nil {
			out.Error = err.Error()
		}
		if werr := e.writeJSON(out); werr != nil && err == nil {
			return werr
		}
	}
	if fail != nil {
		fail.print(e)
		return fmt.Errorf("%w: %w", errReported, err)
	}
	if err != nil {
		return err
	}
	if len(res) == 0 && !e.g.json {
		// Another migrator did it while this one waited for the lock.
		return e.nothingToRun(t)
	}
	return nil
}

// nothingToRun says that a run of t has nothing to do.
func (e *env) nothingToRun(t migration.Target) error {
	if e.g.json {
		return e.writeJSON(jsonRun{Direction: string(t.Direction), Migrations: []jsonResult{}})
	}
	if t.Direction == migration.DirectionUp {
		fmt.Fprintln(e.stdout, "nothing to apply: the database is up to date")
	} else {
		fmt.Fprintln(e.stdout, "nothing to roll back")
	}
	return nil
}

// printResult prints what a run did to one migration: "applied ID (12ms)"
// or "rolled back ID (3ms)". Failures are printed by [failure.print] once
// the run is over, when the state the failure left can be read.
func (e *env) printResult(r migration.Result) {
	if e.g.json || r.Err != nil {
		return
	}
	if r.Backup != "" {
		fmt.Fprintf(e.stdout, "backed up to %s before %s\n", r.Backup, r.ID)
	}
	verb := "applied"
	if r.Direction == migration.DirectionDown {
		verb = "rolled back"
	}
	fmt.Fprintf(e.stdout, "%s %s (%s)\n", verb, r.ID, formatDuration(r.Duration))
}

// Outcomes of a failed migration: what the failure left in the database.
const (
	outcomeRolledBack = "rolled_back" // its transaction rolled back: as before the run
	outcomeDirty      = "dirty"       // not rolled back; recorded dirty until repaired
	outcomeNotStarted = "not_started" // failed before it changed anything (validate, backup, lock)
)

// failure is a migration that failed in a run, with what it left.
type failure struct {
	r       migration.Result
	step    string
	cause   string
	outcome string          // "" when the state could not be read
	state   migration.State // the migration's state after the failure
}

// failed reads what the failed migration r left: its state in the
// version table after the run, which says whether it was rolled back.
func (e *env) failed(ctx context.Context, r migration.Result) *failure {
	f := &failure{r: r, cause: r.Err.Error()}
	var me *migration.Error
	if errors.As(r.Err, &me) {
		f.step, f.cause = me.Step, me.Err.Error()
	}
	sts, err := e.m.Status(context.WithoutCancel(ctx))
	if err != nil {
		return f
	}
	for _, s := range sts {
		if s.ID == r.ID {
			f.state = s.State
		}
	}
	before := migration.StatePending
	if r.Direction == migration.DirectionDown {
		before = migration.StateApplied
	}
	switch {
	case f.state == migration.StateDirty || f.state == migration.StateRunning:
		f.outcome = outcomeDirty
	case f.state != before:
		// Neither as before nor dirty: say nothing rather than guess.
	case f.step == migration.StepValidate || f.step == migration.StepBackup || f.step == migration.StepLock:
		f.outcome = outcomeNotStarted
	default:
		f.outcome = outcomeRolledBack
	}
	return f
}

// print prints "FAILED ID (what it left): step: cause" on stderr, and how
// to repair a migration left dirty.
func (f *failure) print(e *env) {
	what := ""
	switch f.outcome {
	case outcomeRolledBack:
		if f.r.Direction == migration.DirectionDown {
			what = " (rolled back: still applied, unchanged)"
		} else {
			what = " (rolled back: not applied, nothing changed)"
		}
	case outcomeNotStarted:
		what = " (did not start: nothing changed)"
	case outcomeDirty:
		what = " (NOT rolled back: recorded dirty, the database may be half changed)"
	}
	step := ""
	if f.step != "" {
		step = f.step + ": "
	}
	fmt.Fprintf(e.stderr, "FAILED %s%s: %s%s\n", f.r.ID, what, step, f.cause)
	if f.outcome == outcomeDirty {
		fmt.Fprintf(e.stderr, "%s: hint: inspect the database, finish or undo what %s did, then run '%s repair %s --applied' or '%s repair %s --not-applied'\n",
			e.c.prog, f.r.ID, e.c.prog, f.r.ID, e.c.prog, f.r.ID)
	}
}

// stepCause returns "step: cause" for a *migration.Error, else err's text.
func stepCause(err error) string {
	var me *migration.Error
	if errors.As(err, &me) {
		return me.Step + ": " + me.Err.Error()
	}
	return err.Error()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func runStatus(ctx context.Context, e *env) error {
	sts, err := e.m.Status(ctx)
	if err != nil {
		return err
	}
	var pending, dirty []string
	counts := map[migration.State]int{}
	for _, s := range sts {
		counts[s.State]++
		switch s.State {
		case migration.StatePending, migration.StateRunning:
			pending = append(pending, s.ID)
		case migration.StateDirty:
			dirty = append(dirty, s.ID)
		}
	}
	if e.g.json {
		out := make([]jsonStatus, len(sts))
		for i, s := range sts {
			out[i] = statusJSON(s)
		}
		if err := e.writeJSON(out); err != nil {
			return err
		}
	} else {
		tw := e.table("ID", "DESCRIPTION", "STATE", "APPLIED AT", "DURATION")
		changed := 0
		for _, s := range sts {
			at, dur := "-", "-"
			if s.State != migration.StatePending {
				at, dur = formatTime(s.AppliedAt), formatDuration(s.Duration)
			}
			if s.Baselined {
				dur = "baselined"
			}
			state := string(s.State)
			if s.Changed {
				state += " (text changed)"
				changed++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Description, state, at, dur)
		}
		tw.Flush()
		parts := []string{fmt.Sprintf("%d applied", counts[migration.StateApplied]), fmt.Sprintf("%d pending", counts[migration.StatePending])}
		if changed > 0 {
			parts = append(parts, fmt.Sprintf("%d changed since applied (restore the text, or accept it: '%s repair ID --checksum')", changed, e.c.prog))
		}
		if n := counts[migration.StateRunning]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d running (another migrator holds the lock)", n))
		}
		if n := counts[migration.StateDirty]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d dirty", n))
		}
		if n := counts[migration.StateUnknown]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d unknown to this binary", n))
		}
		fmt.Fprintln(e.stdout, strings.Join(parts, ", "))
	}
	if !e.f.exitCode {
		return nil
	}
	if len(dirty) > 0 {
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("dirty: %s; inspect the database, then run '%s repair ID --applied|--not-applied'",
			strings.Join(dirty, ", "), e.c.prog)}
	}
	if len(pending) > 0 {
		return &exitError{code: ExitPending}
	}
	return nil
}

func runPending(ctx context.Context, e *env) error {
	ms, err := e.m.Pending(ctx)
	if err != nil {
		return err
	}
	if e.g.json {
		out := make([]jsonMigration, len(ms))
		for i, m := range ms {
			out[i] = jsonMigration{ID: m.ID(), Description: describe(m), Dependencies: nonNil(m.Dependencies())}
		}
		return e.writeJSON(out)
	}
	if len(ms) == 0 {
		fmt.Fprintln(e.stdout, "no pending migrations: the database is up to date")
		return nil
	}
	tw := e.table()
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\n", m.ID(), describe(m))
	}
	return tw.Flush()
}

func describe(m migration.Migration) string {
	if d, ok := m.(migration.Describer); ok {
		return d.Description()
	}
	return ""
}

func runPlan(ctx context.Context, e *env) error {
	t := migration.Target{Direction: migration.DirectionUp, ID: e.f.to, All: e.f.all}
	if e.f.down {
		t.Direction = migration.DirectionDown
	} else if e.f.all {
		return usageErrorf("plan: --all needs --down")
	}
	if e.f.all && e.f.to != "" {
		return usageErrorf("plan: --to and --all exclude each other")
	}
	plan := e.m.Plan
	if e.f.sql {
		plan = e.m.PlanSQL
	}
	steps, err := plan(ctx, t)
	if err != nil {
		return err
	}
	if e.g.json {
		out := make([]jsonStep, len(steps))
		for i, s := range steps {
			out[i] = jsonStep{ID: s.ID, Description: s.Description, Direction: string(s.Direction),
				BackupRequired: s.BackupRequired, NoTransaction: s.NoTransaction,
				SQL: s.SQL, Preview: s.Preview, PreviewNote: s.PreviewNote}
		}
		return e.writeJSON(out)
	}
	if len(steps) == 0 {
		fmt.Fprintln(e.stdout, "nothing to do")
		return nil
	}
	tw := e.table()
	for _, s := range steps {
		var notes []string
		if s.BackupRequired {
			notes = append(notes, "backup first")
		}
		if s.NoTransaction {
			notes = append(notes, "no transaction")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Direction, s.ID, s.Description, strings.Join(notes, ", "))
	}
	if err := tw.Flush(); err != nil || !e.f.sql {
		return err
	}
	for _, s := range steps {
		fmt.Fprintf(e.stdout, "\n-- %s %s", s.Direction, s.ID)
		switch {
		case s.Preview == migration.PreviewNone:
			fmt.Fprintf(e.stdout, ": %s\n", s.PreviewNote)
			continue
		case len(s.SQL) == 0:
			fmt.Fprintf(e.stdout, " (%s): no statements\n", s.Preview)
			continue
		}
		fmt.Fprintf(e.stdout, " (%s)\n", s.Preview)
		for _, q := range s.SQL {
			fmt.Fprintf(e.stdout, "%s;\n", strings.TrimRight(q, "; \t\n"))
		}
	}
	return nil
}

func runValidate(ctx context.Context, e *env) error {
	steps, err := e.m.Plan(ctx, migration.Target{Direction: migration.DirectionUp})
	if err != nil {
		return err
	}
	out := jsonValidate{Pending: ids(steps), Tried: []string{}, NotTried: []string{}}
	if len(steps) == 0 {
		out.Passed, out.Complete = true, true
		if e.g.json {
			return e.writeJSON(out)
		}
		fmt.Fprintln(e.stdout, "nothing pending: the database is up to date")
		return nil
	}
	if err := e.m.Validate(ctx); err != nil {
		var me *migration.Error
		if !errors.As(err, &me) || me.ID == "" {
			return err
		}
		if e.g.json {
			out.Failed = &jsonFailure{ID: me.ID, Step: me.Step, Error: me.Err.Error(), Outcome: outcomeRolledBack}
			for _, s := range steps {
				if s.ID == me.ID {
					out.Failed.Description = s.Description
				}
			}
			if werr := e.writeJSON(out); werr != nil {
				return werr
			}
		}
		fmt.Fprintf(e.stderr, "FAILED %s (dry run: nothing changed): %s\n", me.ID, stepCause(err))
		return fmt.Errorf("%w: %w", errReported, err)
	}
	d := e.m.Dialect()
	if !d.TransactionalDDL() {
		out.Passed, out.NotTried = true, ids(steps)
		if e.g.json {
			return e.writeJSON(out)
		}
		fmt.Fprintf(e.stdout, "dry run passed, partly: %s has no transactional DDL, so only the graph, the version table and the preconditions of %s were checked; Up was not tried\n",
			d.Name(), steps[0].ID)
		return nil
	}
	tried := len(steps)
	for i, s := range steps {
		if s.NoTransaction {
			tried = i
			break
		}
	}
	out.Passed, out.Complete, out.Tried, out.NotTried = true, tried == len(steps), ids(steps[:tried]), ids(steps[tried:])
	if e.g.json {
		return e.writeJSON(out)
	}
	fmt.Fprintf(e.stdout, "dry run passed: %s applied in a transaction that was rolled back\n", plural(tried, "pending migration"))
	if tried < len(steps) {
		fmt.Fprintf(e.stdout, "not tried: %s and the %d after it, because %s runs outside a transaction\n",
			steps[tried].ID, len(steps)-tried-1, steps[tried].ID)
	}
	return nil
}

// ids returns the IDs of steps, never nil.
func ids(steps []migration.Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.ID
	}
	return out
}

func runHistory(ctx context.Context, e *env) error {
	recs, err := e.m.History(ctx)
	if err != nil {
		return err
	}
	if e.g.json {
		out := make([]jsonRecord, len(recs))
		for i, r := range recs {
			out[i] = jsonRecord{Seq: r.Seq, ID: r.ID, Description: r.Description, AppliedAt: r.AppliedAt.UTC(),
				DurationUS: r.Duration.Microseconds(), Dirty: r.Dirty, Known: r.Known, Baselined: r.Baselined}
		}
		return e.writeJSON(out)
	}
	if len(recs) == 0 {
		fmt.Fprintln(e.stdout, "no migrations applied")
		return nil
	}
	tw := e.table("SEQ", "ID", "DESCRIPTION", "APPLIED AT", "DURATION", "NOTE")
	for _, r := range recs {
		var notes []string
		if r.Baselined {
			notes = append(notes, "baselined: recorded, not run")
		}
		if r.Dirty {
			notes = append(notes, "dirty")
		}
		if !r.Known {
			notes = append(notes, "unknown to this binary")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.ID, r.Description, formatTime(r.AppliedAt),
			formatDuration(r.Duration), strings.Join(notes, ", "))
	}
	return tw.Flush()
}

func runAdopt(ctx context.Context, e *env) error {
	if e.f.from == "" {
		return usageErrorf("adopt: pass --from goose or --from golang-migrate")
	}
	ids, err := e.m.Adopt(ctx, migration.AdoptSource{Tool: e.f.from, Table: e.f.fromTable})
	if err != nil {
		return err
	}
	if e.g.json {
		return e.writeJSON(jsonAdopt{From: e.f.from, Adopted: nonNil(ids)})
	}
	if len(ids) == 0 {
		fmt.Fprintf(e.stdout, "nothing to adopt: %s records no migration that is not already recorded\n", e.f.from)
		return nil
	}
	for _, id := range ids {
		fmt.Fprintf(e.stdout, "adopted %s (recorded as applied, not run)\n", id)
	}
	fmt.Fprintf(e.stdout, "%d migration(s) adopted from %s; its table was left as it is\n", len(ids), e.f.from)
	return nil
}

func runBaseline(ctx context.Context, e *env) error {
	id := e.args[0]
	steps, err := e.m.Plan(ctx, migration.Target{Direction: migration.DirectionUp, ID: id})
	if err != nil {
		return err
	}
	if len(steps) > 0 {
		if err := e.m.Baseline(ctx, id); err != nil {
			return err
		}
	}
	if e.g.json {
		return e.writeJSON(jsonBaseline{Baselined: ids(steps)})
	}
	if len(steps) == 0 {
		fmt.Fprintf(e.stdout, "nothing to baseline: %s and its ancestors are applied\n", id)
		return nil
	}
	for _, s := range steps {
		fmt.Fprintf(e.stdout, "baselined %s (recorded as applied, not run)\n", s.ID)
	}
	if _, ok := e.m.Dialect().(schema.Inspector); ok {
		fmt.Fprintf(e.stdout, "recorded the live schema as the one '%s drift' expects\n", e.c.prog)
	}
	return nil
}

func runRepair(ctx context.Context, e *env) error {
	id := e.args[0]
	if e.f.checksum {
		if e.f.applied || e.f.notApplied {
			return usageErrorf("repair: --checksum excludes --applied and --not-applied")
		}
		if err := e.m.AcceptChecksum(ctx, id); err != nil {
			return err
		}
		if !e.g.json {
			fmt.Fprintf(e.stdout, "repaired %s: its current text is accepted\n", id)
			return nil
		}
		return e.writeJSON(jsonRepair{ID: id, Applied: true})
	}
	if e.f.applied == e.f.notApplied {
		return usageErrorf("repair: pass exactly one of --applied, --not-applied and --checksum")
	}
	if err := e.m.Repair(ctx, id, e.f.applied); err != nil {
		return err
	}
	if e.g.json {
		return e.writeJSON(jsonRepair{ID: id, Applied: e.f.applied})
	}
	if e.f.applied {
		fmt.Fprintf(e.stdout, "repaired %s: recorded as applied\n", id)
	} else {
		fmt.Fprintf(e.stdout, "repaired %s: recorded as not applied\n", id)
	}
	return nil
}

// table returns a table for stdout, with a header line if given.
func (e *env) table(header ...string) *table {
	t := newTable(e.stdout)
	if len(header) > 0 {
		fmt.Fprintln(t, strings.Join(header, "\t"))
	}
	return t
}

func newTable(out io.Writer) *table {
	t := &table{out: out}
	t.Writer = tabwriter.NewWriter(&t.buf, 0, 8, 2, ' ', 0)
	return t
}

// table aligns columns like a tabwriter.Writer and writes the lines
// without trailing blanks on Flush.
type table struct {
	*tabwriter.Writer
	buf bytes.Buffer
	out io.Writer
}

// Flush writes the table.
func (t *table) Flush() error {
	if err := t.Writer.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for line := range strings.Lines(t.buf.String()) {
		b.WriteString(strings.TrimRight(line, " \n") + "\n")
	}
	t.buf.Reset()
	_, err := io.WriteString(t.out, b.String())
	return err
}
