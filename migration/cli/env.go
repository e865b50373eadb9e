package cli

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/strata-go/strata/dialect"
)

// Environment variables. Every global flag, and create's --dir and --seq,
// can be set by an environment variable; a flag on the command line beats
// it. The flags that choose what a command does to the database (--to,
// --all, --applied, ...) have none on purpose: an exported variable must
// never turn "down" into "down --all".
const (
	envDialect       = "STRATA_DIALECT"
	envTable         = "STRATA_TABLE"
	envLockTimeout   = "STRATA_LOCK_TIMEOUT"
	envBackupDir     = "STRATA_BACKUP_DIR"
	envJSON          = "STRATA_JSON"
	envYes           = "STRATA_YES"
	envVerbose       = "STRATA_VERBOSE"
	envMigrationsDir = "STRATA_MIGRATIONS_DIR"
	envSeq           = "STRATA_SEQ"
)

// envFlags maps flags to the environment variables that set them, in the
// order the documentation lists them. --dsn is read by [env.dsn], from
// the variable [WithDSNEnv] names and from [DefaultDSNEnv].
var envFlags = []struct{ flag, env string }{
	{"dialect", envDialect},
	{"table", envTable},
	{"lock-timeout", envLockTimeout},
	{"backup-dir", envBackupDir},
	{"json", envJSON},
	{"yes", envYes},
	{"v", envVerbose},
	{"dir", envMigrationsDir},
	{"seq", envSeq},
}

// envFor returns the environment variable of flag name, or "".
func (c *config) envFor(name string) string {
	if name == "dsn" {
		return c.dsnEnv
	}
	for _, f := range envFlags {
		if f.flag == name {
			return f.env
		}
	}
	return ""
}

// applyEnv sets every flag of fs that the command line did not set from
// its environment variable, if that is set and not empty. A value the flag
// refuses is a usage error naming the variable. Booleans take 1, t, true,
// 0, f, false (any case).
func (e *env) applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, ef := range envFlags {
		if given[ef.flag] || fs.Lookup(ef.flag) == nil {
			continue
		}
		v := strings.TrimSpace(e.c.getenv(ef.env))
		if v == "" {
			continue
		}
		if err := fs.Set(ef.flag, v); err != nil {
			return usageErrorf("$%s=%q: %v", ef.env, v, err)
		}
	}
	return nil
}

// dsnSource says where the DSN came from, for the note printed when a
// command changes the application's default database.
type dsnSource int

const (
	dsnNone dsnSource = iota
	dsnFlag
	dsnEnv
	dsnDefault
)

// dsn returns the DSN and where it came from: --dsn, else the variable
// [WithDSNEnv] names, else $STRATA_DSN, else the application's default.
func (e *env) dsn() (string, dsnSource) {
	if e.g.dsn != "" {
		return e.g.dsn, dsnFlag
	}
	for _, name := range e.c.dsnEnvs() {
		if v := strings.TrimSpace(e.c.getenv(name)); v != "" {
			return v, dsnEnv
		}
	}
	if e.c.defaultDSN != "" {
		return e.c.defaultDSN, dsnDefault
	}
	return "", dsnNone
}

// dsnEnvs are the variables the DSN is read from, in order.
func (c *config) dsnEnvs() []string {
	if c.dsnEnv == DefaultDSNEnv {
		return []string{DefaultDSNEnv}
	}
	return []string{c.dsnEnv, DefaultDSNEnv}
}

// envSettings are the manager settings the environment gives.
type envSettings struct {
	dialect, table, backupDir string
	lockTimeout               time.Duration
	lockTimeoutSet            bool
}

// envGlobals reads the variables of the global flags that configure a
// manager, for [OpenManager], checking them as the flags are checked.
func (c *config) envGlobals() (envSettings, error) {
	var s envSettings
	get := func(name string) string { return strings.TrimSpace(c.getenv(name)) }
	s.dialect, s.table, s.backupDir = get(envDialect), get(envTable), get(envBackupDir)
	if s.table != "" {
		if err := dialect.ValidTableName(s.table); err != nil {
			return s, fmt.Errorf("$%s: %w", envTable, err)
		}
	}
	if v := get(envLockTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return s, fmt.Errorf("$%s=%q: %w", envLockTimeout, v, err)
		}
		if d < 0 {
			return s, fmt.Errorf("$%s=%q: negative duration", envLockTimeout, v)
		}
		s.lockTimeout, s.lockTimeoutSet = d, true
	}
	return s, nil
}
