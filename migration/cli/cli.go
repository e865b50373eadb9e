package cli

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/migration"
)

// Exit codes returned by [Run].
const (
	// ExitOK: the command succeeded.
	ExitOK = 0
	// ExitFailure: the command failed; the error is on stderr.
	ExitFailure = 1
	// ExitUsage: the command line was wrong, or a destructive command
	// needed --yes because stdin is not a terminal.
	ExitUsage = 2
	// ExitPending: status --exit-code found pending migrations.
	ExitPending = 3
	// ExitDrift: drift found that the live schema differs from the one
	// recorded after the last run.
	ExitDrift = 4
)

// Run runs the command line args (without the program name) against the
// database the flags, the environment or the options name, with the
// migrations ms, and returns the exit code ([ExitOK], [ExitFailure],
// [ExitUsage], [ExitPending], [ExitDrift]). It never calls os.Exit; a
// program's main is typically
//
//	os.Exit(cli.Run(ctx, os.Args[1:], migrations.All()))
//
// See the package documentation for the commands and flags.
func Run(ctx context.Context, args []string, ms []migration.Migration, opts ...Option) int {
	c := newConfig(opts)
	red := &redactor{}
	e := &env{
		c:      c,
		ms:     ms,
		red:    red,
		stdout: &redactWriter{w: c.stdout, red: red},
		stderr: &redactWriter{w: c.stderr, red: red},
	}
	for _, name := range c.dsnEnvs() {
		red.add(c.getenv(name))
	}
	red.add(c.defaultDSN)
	err := e.main(ctx, args)
	if e.db != nil {
		if cerr := e.db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}
	return e.exit(err)
}

// globals are the flags every command accepts.
type globals struct {
	dsn, dialect, table string
	lockTimeout         time.Duration
	json, yes, verbose  bool
	backupDir           string
}

func (g *globals) register(fs *flag.FlagSet, c *config) {
	def := "$" + strings.Join(c.dsnEnvs(), ", else $")
	if c.defaultDSN != "" {
		def += ", else " + RedactDSN(c.defaultDSN)
	}
	fs.StringVar(&g.dsn, "dsn", "", "the database `DSN` (default "+def+")")
	fs.StringVar(&g.dialect, "dialect", "", "the dialect `name` (default: guessed from the DSN)")
	fs.StringVar(&g.table, "table", "", "the version `table` (default "+migration.DefaultTable+")")
	fs.DurationVar(&g.lockTimeout, "lock-timeout", 0, "how long to wait for another migrator's lock (default "+migration.DefaultLockTimeout.String()+"; 0 waits for ever)")
	fs.StringVar(&g.backupDir, "backup-dir", "", "the `directory` of backups (default: the application's, or <file>.backups beside a SQLite file)")
	fs.BoolVar(&g.json, "json", false, "machine-readable output: one JSON document on stdout")
	fs.BoolVar(&g.yes, "yes", false, "do not ask for confirmation (down, restore, drift --accept)")
	fs.BoolVar(&g.verbose, "v", false, "log what the manager does to stderr")
}

// flags are the flags of the commands; each command registers its own.
type flags struct {
	to                  string
	all, down, exitCode bool
	applied, notApplied bool
	checksum, sql       bool
	from, fromTable     string
	dir, label          string
	seq, dot, list      bool
	accept              bool
}

// env is one run of the CLI.
type env struct {
	c              *config
	ms             []migration.Migration
	red            *redactor
	stdout, stderr io.Writer

	cmd  *command
	g    globals
	f    flags
	set  map[string]bool // flags given on the command line
	args []string        // positional arguments of the command

	db   *sql.DB
	m    *migration.Manager
	prog *progress // of the run under way

	noSchemaHint string // advice for migration.ErrNoSchema, set by drift
}

// command is one subcommand.
type command struct {
	name    string
	args    string // usage of the positional arguments
	summary string
	help    string
	nargs   [2]int // min, max positional arguments; max -1 is unbounded
	db      bool   // needs a database
	writes  bool   // changes the database
	hidden  bool   // not listed by help
	flags   func(fs *flag.FlagSet, f *flags)
	run     func(ctx context.Context, e *env) error
}

func (e *env) main(ctx context.Context, args []string) error {
	gfs := e.newFlagSet("")
	if err := gfs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			e.usage(e.stdout)
			return nil
		}
		return usageErrorf("%v", err)
	}
	rest := gfs.Args()
	if len(rest) == 0 {
		e.usage(e.stderr)
		return &exitError{code: ExitUsage}
	}
	idx := len(args) - len(rest)
	prefix := args[:idx]
	if idx > 0 && args[idx-1] == "--" {
		prefix = args[:idx-1]
	}
	e.cmd = lookupCommand(rest[0])
	if e.cmd == nil {
		return usageErrorf("unknown command %q", rest[0])
	}
	fs := e.newFlagSet(e.cmd.name)
	if e.cmd.flags != nil {
		e.cmd.flags(fs, &e.f)
	}
	pos, err := parseInterleaved(fs, append(slices.Clone(prefix), rest[1:]...))
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			e.commandUsage(e.stdout, e.cmd)
			return nil
		}
		return usageErrorf("%s: %v", e.cmd.name, err)
	}
	if err := e.applyEnv(fs); err != nil {
		return err
	}
	e.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { e.set[f.Name] = true })
	e.red.add(e.g.dsn)
	e.args = pos
	if e.set["table"] {
		if err := dialect.ValidTableName(e.g.table); err != nil {
			return usageErrorf("--table: %v", err)
		}
	}
	if e.g.lockTimeout < 0 {
		return usageErrorf("--lock-timeout: negative duration %s", e.g.lockTimeout)
	}
	if min, max := e.cmd.nargs[0], e.cmd.nargs[1]; len(pos) < min || (max >= 0 && len(pos) > max) {
		switch {
		case max == 0:
			return usageErrorf("%s takes no arguments, got %q", e.cmd.name, strings.Join(pos, " "))
		case len(pos) < min:
			return usageErrorf("%s: missing %s", e.cmd.name, e.cmd.args)
		default:
			return usageErrorf("%s: too many arguments: %q", e.cmd.name, strings.Join(pos, " "))
		}
	}
	if e.cmd.db {
		if err := e.connect(ctx); err != nil {
			return err
		}
	}
	return e.cmd.run(ctx, e)
}

func (e *env) newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(strings.TrimSpace(e.c.prog+" "+name), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	e.g.register(fs, e.c)
	return fs
}

// parseInterleaved parses flags that may come before, between and after
// positional arguments, and returns the positional ones. Everything after
// "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// connect opens the database and creates the manager.
func (e *env) connect(ctx context.Context) error {
	dsn, src := e.dsn()
	if src == dsnNone {
		return usageErrorf("no database: pass --dsn or set $%s", strings.Join(e.c.dsnEnvs(), " or $"))
	}
	if src == dsnDefault && e.cmd.writes {
		fmt.Fprintf(e.stderr, "%s: no --dsn and no $%s: using the default database %s\n",
			e.c.prog, strings.Join(e.c.dsnEnvs(), " or $"), RedactDSN(dsn))
	}
	name := e.g.dialect
	if name == "" {
		name = e.c.defaultDialect
	}
	var opts []migration.Option
	if e.g.table != "" {
		opts = append(opts, migration.WithTable(e.g.table))
	}
	if e.set["lock-timeout"] {
		opts = append(opts, migration.WithLockTimeout(e.g.lockTimeout))
	}
	if e.g.backupDir != "" {
		opts = append(opts, migration.WithBackupDir(e.g.backupDir))
	}
	opts = append(opts, migration.WithProgress(func(r migration.Result) {
		if e.prog != nil {
			e.prog.result(r)
		} else {
			e.printResult(r)
		}
	}))
	if e.g.verbose {
		opts = append(opts, migration.WithLogger(slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	m, db, err := e.c.openManager(ctx, dsn, name, e.ms, opts...)
	if err != nil {
		return err
	}
	e.m, e.db = m, db
	return nil
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitError ends the run with a code, after printing msg if any.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.msg
}

// errReported: the failure has been printed already.
var errReported = errors.New("reported")

// errAborted: the user did not confirm.
var errAborted = errors.New("aborted: not confirmed")

func (e *env) exit(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *usageError
	var xe *exitError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "%s: %s\n", e.c.prog, ue.msg)
		help := "help"
		if e.cmd != nil && e.cmd.name != "help" {
			help += " " + e.cmd.name
		}
		fmt.Fprintf(e.stderr, "Run '%s %s' for usage.\n", e.c.prog, help)
		return ExitUsage
	case errors.As(err, &xe):
		if xe.msg != "" {
			fmt.Fprintf(e.stderr, "%s: %s\n", e.c.prog, xe.msg)
		}
		return xe.code
	case errors.Is(err, errReported):
		return ExitFailure
	}
	fmt.Fprintf(e.stderr, "%s: %v\n", e.c.prog, err)
	if hint := e.hint(err); hint != "" {
		fmt.Fprintf(e.stderr, "%s: hint: %s\n", e.c.prog, hint)
	}
	return ExitFailure
}

// hint returns advice for well-known failures.
func (e *env) hint(err error) string {
	switch {
	case errors.Is(err, lock.ErrTimeout):
		return "another migrator holds the migration lock; wait longer with --lock-timeout"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, migration.ErrNoSchema):
		return e.noSchemaHint
	}
	return ""
}

// interactive reports whether confirmations can be asked on stdin.
func (e *env) interactive() bool {
	if e.c.interactive != nil {
		return *e.c.interactive
	}
	return isTerminal(e.c.stdin)
}

// isTerminal reports whether x is an *os.File open on a terminal.
func isTerminal(x any) bool {
	f, ok := x.(*os.File)
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// confirm asks question on a terminal; elsewhere it requires --yes.
func (e *env) confirm(question string) error {
	if e.g.yes {
		return nil
	}
	if !e.interactive() {
		return usageErrorf("%s: refusing to proceed without confirmation: stdin is not a terminal, pass --yes", e.cmd.name)
	}
	fmt.Fprintf(e.stderr, "%s [y/N] ", question)
	line, err := bufio.NewReader(e.c.stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(e.stderr)
		// Nothing to read, as from /dev/null, which is a character
		// device too: treat it as no terminal.
		return usageErrorf("%s: refusing to proceed without confirmation: no answer on stdin, pass --yes", e.cmd.name)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errAborted
}

// progress prints each migration a run applies or rolls back as it
// happens and, on a terminal only, keeps a line below them that counts the
// run's migrations and seconds.
type progress struct {
	e        *env
	steps    []migration.Step
	doing    string
	start    time.Time
	term     bool
	mu       sync.Mutex
	done     int
	shown    bool
	stop     chan struct{}
	finished chan struct{}
}

// startProgress starts reporting a run of steps.
func (e *env) startProgress(doing string, steps []migration.Step) *progress {
	p := &progress{e: e, steps: steps, doing: doing, start: time.Now(), term: isTerminal(e.c.stdout) && !e.g.json,
		stop: make(chan struct{}), finished: make(chan struct{})}
	if !p.term {
		close(p.finished)
		return p
	}
	go func() {
		defer close(p.finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				p.draw()
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// draw shows the progress line once the run has taken a second.
func (p *progress) draw() {
	d := time.Since(p.start)
	if d < time.Second || p.done >= len(p.steps) {
		return
	}
	fmt.Fprintf(p.e.stdout, "\r\033[K[%d/%d] %s %s… %s", p.done+1, len(p.steps), p.doing, p.steps[p.done].ID, d.Round(time.Second))
	p.shown = true
}

// clear erases the progress line.
func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.e.stdout, "\r\033[K")
		p.shown = false
	}
}

// result prints one migration's result; it is the manager's
// migration.WithProgress callback.
func (p *progress) result(r migration.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.e.printResult(r)
	p.done++
	if p.term {
		p.draw()
	}
}

// end stops the progress line and erases it.
func (p *progress) end() {
	if p.term {
		close(p.stop)
	}
	<-p.finished
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}
