package migration

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
)

// DefaultTable is the version table's default name.
const DefaultTable = "strata_migrations"

// DefaultLockTimeout is how long a run waits for the migration lock by
// default before it fails with [lock.ErrTimeout].
const DefaultLockTimeout = 15 * time.Minute

// Option configures a [Manager].
type Option func(*config) error

type config struct {
	table       string
	locker      lock.Locker
	lockTimeout time.Duration
	log         *slog.Logger
	backup      backupConfig
	progress    func(Result)
	atomic      bool
	driftPolicy DriftPolicy
}

// WithTable names the version table (default [DefaultTable]). It may be
// qualified, "schema.table" (on MySQL the schema is a database, on SQLite
// an attached database; SQLite's temp is refused: it does not outlive the
// connection). Unqualified, it lives in the schema unqualified names
// resolve to when a run takes the lock (PostgreSQL's current_schema(),
// MySQL's DATABASE(), SQLite's main), and the run addresses it by that
// full name whatever its migrations do to the session.
func WithTable(name string) Option {
	return func(c *config) error {
		if err := dialect.ValidTableName(name); err != nil {
			return fmt.Errorf("WithTable: %w", err)
		}
		c.table = name
		return nil
	}
}

// WithLocker replaces the dialect's default lock (an advisory lock on the
// servers, a file lock beside a SQLite file).
func WithLocker(l lock.Locker) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("WithLocker: nil locker")
		}
		c.locker = l
		return nil
	}
}

// WithLockTimeout bounds how long a run waits for the lock held by another
// migrator (default [DefaultLockTimeout]); the run then fails with an error
// wrapping [lock.ErrTimeout]. Zero waits as long as the context allows.
func WithLockTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("WithLockTimeout: negative duration %s", d)
		}
		c.lockTimeout = d
		return nil
	}
}

// WithLogger logs each migration applied or rolled back, and waits for the
// lock. The default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		c.log = l
		return nil
	}
}

// WithProgress calls f after each migration a run applies or rolls back,
// as it happens; Result.Err is set if it failed. A command line prints
// from it.
func WithProgress(f func(Result)) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("WithProgress: nil function")
		}
		c.progress = f
		return nil
	}
}

// WithAtomic makes every run all or nothing: the migrations it applies or
// rolls back share one transaction, committed once at the end. It is also
// much faster for many small migrations (one commit instead of one each).
// Only dialects with transactional DDL support it, and a run that includes
// a [NonTransactional] migration fails before it starts.
func WithAtomic() Option {
	return func(c *config) error {
		c.atomic = true
		return nil
	}
}
