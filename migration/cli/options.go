package cli

import (
	"database/sql"
	"io"
	"os"
	"time"

	"github.com/strata-go/strata/migration"
)

// DefaultDSNEnv is the environment variable the CLI reads the DSN from when
// --dsn is not given.
const DefaultDSNEnv = "STRATA_DSN"

// defaultCreateDir is the directory create writes new migration files to
// when neither --dir nor [WithCreateDir] says otherwise.
const defaultCreateDir = "migrations"

// Option configures [Run], [Connect] and [OpenManager].
type Option func(*config)

type config struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	prog           string
	dsnEnv         string
	defaultDSN     string
	defaultDialect string
	createDir      string
	openers        map[string]func(dsn string) (*sql.DB, error)
	managerOpts    []migration.Option

	// For tests.
	now         func() time.Time
	interactive *bool
	getenv      func(string) string
}

func newConfig(opts []Option) *config {
	c := &config{
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		stdin:     os.Stdin,
		prog:      "strata",
		dsnEnv:    DefaultDSNEnv,
		createDir: defaultCreateDir,
		openers:   map[string]func(dsn string) (*sql.DB, error){},
		now:       time.Now,
		getenv:    os.Getenv,
	}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	return c
}

// WithOutput sends normal output to stdout and errors and prompts to stderr
// (default os.Stdout and os.Stderr). A nil writer keeps the default.
func WithOutput(stdout, stderr io.Writer) Option {
	return func(c *config) {
		if stdout != nil {
			c.stdout = stdout
		}
		if stderr != nil {
			c.stderr = stderr
		}
	}
}

// WithInput reads confirmations from r (default os.Stdin). The CLI asks for
// confirmation only when r is a terminal; otherwise destructive commands
// need --yes.
func WithInput(r io.Reader) Option {
	return func(c *config) {
		if r != nil {
			c.stdin = r
		}
	}
}

// WithProgramName names the program in usage and error messages, as the
// user types it: "app migrate" for an application that runs the CLI under
// a subcommand. The default is "strata".
func WithProgramName(name string) Option {
	return func(c *config) {
		if name != "" {
			c.prog = name
		}
	}
}

// WithDSNEnv names the environment variable the DSN is read from when
// --dsn is not given, such as the application's own "APP_DATABASE_URL".
// [DefaultDSNEnv] is still read after it.
func WithDSNEnv(name string) Option {
	return func(c *config) {
		if name != "" {
			c.dsnEnv = name
		}
	}
}

// WithDefaultDSN sets the DSN used when neither --dsn nor the environment
// variable gives one, such as the application's own SQLite file. Without
// it, commands that need a database fail with a usage error.
func WithDefaultDSN(dsn string) Option {
	return func(c *config) { c.defaultDSN = dsn }
}

// WithDefaultDialect names the dialect used when --dialect is not given,
// instead of guessing it from the DSN: for a custom dialect whose DSNs look
// like another's, such as one built on SQLite.
func WithDefaultDialect(name string) Option {
	return func(c *config) { c.defaultDialect = name }
}

// WithOpener opens databases of the dialect registered as dialectName with
// open, instead of the dialect's own [dialect.Opener] (SQLite's opens the
// file with sqlite.Open, PostgreSQL's and MySQL's use the driver their
// package imports). A custom dialect needs one unless it implements
// dialect.Opener; open may also return a *sql.DB the application opened
// itself.
func WithOpener(dialectName string, open func(dsn string) (*sql.DB, error)) Option {
	return func(c *config) {
		if dialectName != "" && open != nil {
			c.openers[dialectName] = open
		}
	}
}

// WithManagerOptions passes options to every [migration.NewManager] the CLI
// creates, such as a logger or the backup configuration. The flags
// --table, --lock-timeout, --backup-dir and -v, when given, override the
// corresponding options, and the CLI installs its own
// migration.WithProgress to print each migration as it runs.
func WithManagerOptions(opts ...migration.Option) Option {
	return func(c *config) { c.managerOpts = append(c.managerOpts, opts...) }
}

// WithCreateDir sets the directory create writes new migration files to
// when --dir is not given (default "migrations").
func WithCreateDir(dir string) Option {
	return func(c *config) {
		if dir != "" {
			c.createDir = dir
		}
	}
}
