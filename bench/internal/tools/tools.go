// Package tools is the common face of the migration tools the benchmarks
// compare: strata, pressly/goose, golang-migrate and a raw floor that
// executes the same statements directly. Each lives in its own subpackage,
// so that a probe binary built for one tool links only that tool.
package tools

import (
	"context"
	"database/sql"

	"github.com/strata-go/strata/bench/internal/target"
	"github.com/strata-go/strata/bench/internal/workload"
)

// Config says what a [Runner] migrates.
type Config struct {
	// Target is the database.
	Target target.DB
	// Migrations is the known set, in version order.
	Migrations []workload.Migration
	// OpenDB opens Target; nil means [target.Open].
	OpenDB func(target.DB) (*sql.DB, error)
}

// Open opens the database of c.
func (c Config) Open() (*sql.DB, error) {
	if c.OpenDB != nil {
		return c.OpenDB(c.Target)
	}
	return target.Open(c.Target)
}

// Runner drives one tool against one database. It is what an application
// holds after start-up: the database is open and the tool constructed.
type Runner interface {
	// Up applies every pending migration, the way an application does at
	// start-up, and reports whether it applied any. On an up-to-date
	// database it is the start-up check.
	Up(ctx context.Context) (applied bool, err error)
	// Reset rolls every applied migration back, newest first.
	Reset(ctx context.Context) error
	// Close releases the tool and closes its database handle.
	Close() error
}

// Open opens the database of cfg and constructs a tool on it.
type Open func(ctx context.Context, cfg Config) (Runner, error)

// Tool is one contender.
type Tool struct {
	// Name is how reports show it.
	Name string
	// Probe names the probe binary that runs it in a fresh process, or ""
	// if it has none (variants measured in-process only).
	Probe string
	// Open constructs it.
	Open Open
	// Supports reports whether the tool runs on dialect; nil means all.
	Supports func(dialect string) bool
}

// Runs reports whether t runs on dialect.
func (t Tool) Runs(dialect string) bool { return t.Supports == nil || t.Supports(dialect) }
