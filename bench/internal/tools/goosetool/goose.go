// Package goosetool runs the benchmark migrations with pressly/goose v3's
// Provider, from SQL files in an in-memory file system.
//
// Locking is what goose offers for running many replicas at once: its
// PostgreSQL session locker (pg_try_advisory_lock, retried every 5 s) and
// its MySQL table locker (a lock row with a lease, retried every 5 s), both
// with their defaults. goose has no lock for SQLite.
package goosetool

import (
	"context"
	"errors"
	"fmt"
	"testing/fstest"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/strata-go/strata/bench/internal/target"
	"github.com/strata-go/strata/bench/internal/tools"
	"github.com/strata-go/strata/bench/internal/workload"
)

// Tool is goose.
func Tool() tools.Tool {
	return tools.Tool{Name: "goose", Probe: "goose", Open: Open}
}

// Files returns the workload as goose SQL files: 00001_t.sql and so on.
func Files(ws []workload.Migration) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, w := range ws {
		text := "-- +goose Up\n" + workload.Script(w.Up) + "\n-- +goose Down\n" + workload.Script(w.Down)
		fsys[w.ID()+".sql"] = &fstest.MapFile{Data: []byte(text), Mode: 0o644}
	}
	return fsys
}

type runner struct {
	p *goose.Provider
}

// Open opens cfg's database and builds a goose Provider on it.
func Open(_ context.Context, cfg tools.Config) (tools.Runner, error) {
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	var d goose.Dialect
	switch cfg.Target.Dialect {
	case target.SQLite:
		d = goose.DialectSQLite3
	case target.Postgres:
		d = goose.DialectPostgres
		l, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(l))
	case target.MySQL:
		d = goose.DialectMySQL
		l, err := lock.NewMySQLTableLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithLocker(l))
	default:
		return nil, fmt.Errorf("goosetool: unknown dialect %q", cfg.Target.Dialect)
	}
	db, err := cfg.Open()
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(d, db, Files(cfg.Migrations), opts...)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return &runner{p: p}, nil
}

func (r *runner) Up(ctx context.Context) (bool, error) {
	res, err := r.p.Up(ctx)
	return len(res) > 0, err
}

func (r *runner) Reset(ctx context.Context) error {
	_, err := r.p.DownTo(ctx, 0)
	return err
}

// Close closes the provider, which closes the database.
func (r *runner) Close() error { return r.p.Close() }
