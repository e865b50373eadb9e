// Package stratatool runs the benchmark migrations with strata.
package stratatool

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/strata-go/strata/bench/internal/target"
	"github.com/strata-go/strata/bench/internal/tools"
	"github.com/strata-go/strata/bench/internal/workload"
	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

// Tool is strata with its defaults: each migration in its own transaction
// (MySQL: recorded dirty, run, recorded clean) under the dialect's lock.
func Tool() tools.Tool {
	return tools.Tool{Name: "strata", Probe: "strata", Open: func(ctx context.Context, cfg tools.Config) (tools.Runner, error) {
		return Open(ctx, cfg)
	}}
}

// AtomicTool is strata with migration.WithAtomic(): the whole run in one
// transaction. MySQL cannot roll DDL back, so it is not offered there.
func AtomicTool() tools.Tool {
	return tools.Tool{
		Name: "strata (atomic)",
		Open: func(ctx context.Context, cfg tools.Config) (tools.Runner, error) {
			return Open(ctx, cfg, migration.WithAtomic())
		},
		Supports: func(d string) bool { return d != target.MySQL },
	}
}

// Dialect returns strata's dialect for a dialect name.
func Dialect(name string) (dialect.Dialect, error) {
	switch name {
	case target.SQLite:
		return sqlite.New(), nil
	case target.Postgres:
		return postgres.New(), nil
	case target.MySQL:
		return mysql.New(), nil
	}
	return nil, fmt.Errorf("stratatool: unknown dialect %q", name)
}

// Migrations turns the workload into strata migrations, each depending on
// the one before, as a project's history usually does.
func Migrations(ws []workload.Migration) []migration.Migration {
	ms := make([]migration.Migration, len(ws))
	for i, w := range ws {
		var deps []string
		if i > 0 {
			deps = []string{ws[i-1].ID()}
		}
		ms[i] = migration.SQL(w.ID(), workload.Text(w.Up), workload.Text(w.Down), deps...)
	}
	return ms
}

type runner struct {
	db *sql.DB
	m  *migration.Manager
}

// Open opens cfg's database and builds a Manager on it.
func Open(_ context.Context, cfg tools.Config, opts ...migration.Option) (tools.Runner, error) {
	d, err := Dialect(cfg.Target.Dialect)
	if err != nil {
		return nil, err
	}
	db, err := cfg.Open()
	if err != nil {
		return nil, err
	}
	m, err := migration.NewManager(db, d, Migrations(cfg.Migrations), opts...)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return &runner{db: db, m: m}, nil
}

func (r *runner) Up(ctx context.Context) (bool, error) {
	res, err := r.m.Up(ctx)
	return len(res) > 0, err
}

func (r *runner) Reset(ctx context.Context) error {
	_, err := r.m.Reset(ctx)
	return err
}

func (r *runner) Close() error { return r.db.Close() }
