package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/internal/redact"
	"github.com/strata-go/strata/migration"
)

// Dialect names [GuessDialect] returns, the names the built-in dialects
// register under.
const (
	dialectPostgres = "postgres"
	dialectMySQL    = "mysql"
	dialectSQLite   = "sqlite"
)

// dialectPackages names the package to import for each built-in dialect.
var dialectPackages = map[string]string{
	dialectPostgres: "github.com/strata-go/strata/dialect/postgres",
	dialectMySQL:    "github.com/strata-go/strata/dialect/mysql",
	dialectSQLite:   "github.com/strata-go/strata/dialect/sqlite",
}

var (
	pgKeyword = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|dbname|user|port|sslmode|password|service)\s*=`)
	mysqlNet  = regexp.MustCompile(`(?i)(^|@)(tcp|tcp6|unix)\(`)
	mysqlUser = regexp.MustCompile(`^[^/@\s]*@/`)
)

// GuessDialect returns the name of the dialect dsn is most likely for, or
// "" when it cannot tell:
//
//   - postgres: postgres://..., postgresql://..., or PostgreSQL's
//     keyword/value form (host=... dbname=...);
//   - mysql: mysql://..., or the MySQL driver's form user:pass@tcp(host:3306)/db,
//     user@unix(/path)/db, user@/db;
//   - sqlite: sqlite://..., sqlite3://..., file:..., ":memory:", a name
//     ending in .db, .sqlite or .sqlite3, or any other plain file path.
func GuessDialect(dsn string) string {
	lower := strings.ToLower(strings.TrimSpace(dsn))
	switch {
	case lower == "":
		return ""
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return dialectPostgres
	case strings.HasPrefix(lower, "mysql://"), strings.HasPrefix(lower, "mariadb://"):
		return dialectMySQL
	case strings.HasPrefix(lower, "sqlite://"), strings.HasPrefix(lower, "sqlite3://"),
		strings.HasPrefix(lower, "file:"), lower == ":memory:":
		return dialectSQLite
	case strings.Contains(lower, "://"):
		return ""
	case mysqlNet.MatchString(lower), mysqlUser.MatchString(lower):
		return dialectMySQL
	case pgKeyword.MatchString(lower):
		return dialectPostgres
	}
	switch filepath.Ext(lower) {
	case ".db", ".sqlite", ".sqlite3", ".db3":
		return dialectSQLite
	}
	if !strings.ContainsAny(lower, "=@ ") {
		return dialectSQLite
	}
	return ""
}

// sqlitePath strips the URL-ish prefixes (and their query parameters)
// people put around a SQLite file name, so that openers such as
// sqlite.Open get a path.
func sqlitePath(dsn string) string {
	for _, p := range []string{"sqlite3://", "sqlite://", "file://", "file:"} {
		if len(dsn) >= len(p) && strings.EqualFold(dsn[:len(p)], p) {
			path, _, _ := strings.Cut(dsn[len(p):], "?")
			return path
		}
	}
	return dsn
}

// resolveDialect returns the dialect named name, or guessed from dsn when
// name is empty.
func resolveDialect(dsn, name string) (dialect.Dialect, error) {
	if name == "" {
		name = GuessDialect(dsn)
		if name == "" {
			return nil, usageErrorf("cannot tell the database from the DSN %q: pass --dialect (one of %s)", RedactDSN(dsn), namesList())
		}
		d, ok := dialect.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("the DSN looks like %s, but no %s dialect is registered: the program must import %s",
				name, name, dialectPackages[name])
		}
		return d, nil
	}
	d, ok := dialect.Lookup(name)
	if !ok {
		msg := fmt.Sprintf("unknown dialect %q: registered are %s", name, namesList())
		if pkg, ok := dialectPackages[name]; ok {
			msg += "; the program must import " + pkg
		}
		return nil, usageErrorf("%s", msg)
	}
	return d, nil
}

func namesList() string {
	names := dialect.Names()
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// open opens dsn for d, with the opener given for d's name or else d's own
// [dialect.Opener], and pings it.
func (c *config) open(ctx context.Context, d dialect.Dialect, dsn string) (*sql.DB, error) {
	if GuessDialect(dsn) == dialectSQLite {
		dsn = sqlitePath(dsn)
	}
	name := d.Name()
	var db *sql.DB
	var err error
	switch o, ok := d.(dialect.Opener); {
	case c.openers[name] != nil:
		db, err = c.openers[name](dsn)
	case ok:
		db, err = o.Open(dsn)
	default:
		return nil, fmt.Errorf("no way to open a %s database: the %s dialect (%T) does not implement dialect.Opener; "+
			"give it a method Open(dsn string) (*sql.DB, error), or pass cli.WithOpener(%q, open) with a function that returns the *sql.DB",
			name, name, d, name)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", name, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", name, err)
	}
	return db, nil
}

// Connect opens the database dsn names, the way the CLI does: the dialect is
// the one registered as dialectName or, if that is empty, the one
// [WithDefaultDialect] names or else the one [GuessDialect] guesses from the
// DSN; the database is opened with the opener given by
// [WithOpener] for the dialect or else the dialect's own [dialect.Opener]
// (every built-in dialect has one; dialect/mysql's also accepts mysql://
// URLs), and pinged. Applications use it to migrate on start-up with the
// same DSN their operators give the CLI. Errors never contain the DSN's
// password.
func Connect(ctx context.Context, dsn, dialectName string, opts ...Option) (*sql.DB, dialect.Dialect, error) {
	c := newConfig(opts)
	if dsn == "" {
		return nil, nil, errors.New("connect: empty DSN")
	}
	var red redactor
	red.add(dsn)
	if dialectName == "" {
		dialectName = c.defaultDialect
	}
	d, err := resolveDialect(dsn, dialectName)
	if err != nil {
		return nil, nil, redact.Error(red.apply(err.Error()), err)
	}
	db, err := c.open(ctx, d, dsn)
	if err != nil {
		return nil, nil, redact.Error(red.apply(err.Error()), err)
	}
	return db, d, nil
}

// openManager opens the database and creates a manager of ms on it: with
// the backuper the dialect builds from the DSN, if it can
// ([migration.DSNBackuper]; the PostgreSQL and MySQL client tools need the
// DSN), then the options of [WithManagerOptions], then opts.
func (c *config) openManager(ctx context.Context, dsn, dialectName string, ms []migration.Migration, opts ...migration.Option) (*migration.Manager, *sql.DB, error) {
	d, err := resolveDialect(dsn, dialectName)
	if err != nil {
		return nil, nil, err
	}
	db, err := c.open(ctx, d, dsn)
	if err != nil {
		return nil, nil, err
	}
	var all []migration.Option
	if b, ok := d.(migration.DSNBackuper); ok {
		bk, err := b.BackuperFor(dsn)
		if err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("backuper for the %s database: %w", d.Name(), err)
		}
		all = append(all, migration.WithBackuper(bk))
	}
	all = append(append(all, c.managerOpts...), opts...)
	m, err := migration.NewManager(db, d, ms, all...)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return m, db, nil
}

// OpenManager opens the database dsn names as [Connect] does and returns
// a manager of ms on it, configured as the CLI configures its own: backed
// up, on PostgreSQL and MySQL, with the database's client tools
// (backup.NewPostgres, backup.NewMySQL) unless the options of
// [WithManagerOptions] give another backuper; then those options. It is
// how an application migrates on start-up with the configuration its
// operators use. The caller closes the *sql.DB. Errors never contain the
// DSN's password.
//
// Like the command line, it reads the environment variables of the
// global flags that configure a manager, which override those options:
// $STRATA_TABLE, $STRATA_LOCK_TIMEOUT and $STRATA_BACKUP_DIR, and
// $STRATA_DIALECT when dialectName is empty. So an application that
// migrates on start-up and its "migrate" command agree on the version
// table even when only the deployment's environment names it.
func OpenManager(ctx context.Context, dsn, dialectName string, ms []migration.Migration, opts ...Option) (*migration.Manager, *sql.DB, error) {
	c := newConfig(opts)
	if dsn == "" {
		return nil, nil, errors.New("open manager: empty DSN")
	}
	g, err := c.envGlobals()
	if err != nil {
		return nil, nil, fmt.Errorf("open manager: %w", err)
	}
	if dialectName == "" {
		dialectName = g.dialect
	}
	if dialectName == "" {
		dialectName = c.defaultDialect
	}
	var mopts []migration.Option
	if g.table != "" {
		mopts = append(mopts, migration.WithTable(g.table))
	}
	if g.lockTimeoutSet {
		mopts = append(mopts, migration.WithLockTimeout(g.lockTimeout))
	}
	if g.backupDir != "" {
		mopts = append(mopts, migration.WithBackupDir(g.backupDir))
	}
	var red redactor
	red.add(dsn)
	m, db, err := c.openManager(ctx, dsn, dialectName, ms, mopts...)
	if err != nil {
		return nil, nil, redact.Error(red.apply(err.Error()), err)
	}
	return m, db, nil
}
