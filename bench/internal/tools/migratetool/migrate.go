// Package migratetool runs the benchmark migrations with golang-migrate v4,
// from up/down SQL files in an in-memory file system (source/iofs), through
// its database drivers sqlite3 (mattn/go-sqlite3), pgx/v5 and mysql, each
// given the *sql.DB that [target.Open] opened.
//
// Locking is the drivers' own: pg_advisory_lock (blocking) on PostgreSQL,
// GET_LOCK with a 10 s timeout on MySQL, and an in-process flag on SQLite.
package migratetool

import (
	"context"
	"errors"
	"fmt"
	"testing/fstest"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	mmysql "github.com/golang-migrate/migrate/v4/database/mysql"
	mpgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	msqlite "github.com/golang-migrate/migrate/v4/database/sqlite3"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/strata-go/strata/bench/internal/target"
	"github.com/strata-go/strata/bench/internal/tools"
	"github.com/strata-go/strata/bench/internal/workload"
)

// Tool is golang-migrate.
func Tool() tools.Tool {
	return tools.Tool{Name: "golang-migrate", Probe: "migrate", Open: Open}
}

// Files returns the workload as golang-migrate files: 00001_t.up.sql,
// 00001_t.down.sql and so on.
func Files(ws []workload.Migration) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, w := range ws {
		fsys[w.ID()+".up.sql"] = &fstest.MapFile{Data: []byte(workload.Script(w.Up)), Mode: 0o644}
		fsys[w.ID()+".down.sql"] = &fstest.MapFile{Data: []byte(workload.Script(w.Down)), Mode: 0o644}
	}
	return fsys
}

type runner struct {
	m *migrate.Migrate
}

// Open opens cfg's database and builds a migrate.Migrate on it.
func Open(_ context.Context, cfg tools.Config) (tools.Runner, error) {
	src, err := iofs.New(Files(cfg.Migrations), ".")
	if err != nil {
		return nil, err
	}
	db, err := cfg.Open()
	if err != nil {
		return nil, errors.Join(err, src.Close())
	}
	var drv database.Driver
	switch cfg.Target.Dialect {
	case target.SQLite:
		drv, err = msqlite.WithInstance(db, &msqlite.Config{})
	case target.Postgres:
		drv, err = mpgx.WithInstance(db, &mpgx.Config{})
	case target.MySQL:
		drv, err = mmysql.WithInstance(db, &mmysql.Config{})
	default:
		err = fmt.Errorf("migratetool: unknown dialect %q", cfg.Target.Dialect)
	}
	if err != nil {
		return nil, errors.Join(err, src.Close(), db.Close())
	}
	m, err := migrate.NewWithInstance("iofs", src, cfg.Target.Dialect, drv)
	if err != nil {
		return nil, errors.Join(err, src.Close(), drv.Close())
	}
	return &runner{m: m}, nil
}

func (r *runner) Up(context.Context) (bool, error) {
	err := r.m.Up()
	if errors.Is(err, migrate.ErrNoChange) {
		return false, nil
	}
	return err == nil, err
}

func (r *runner) Reset(context.Context) error {
	err := r.m.Down()
	if errors.Is(err, migrate.ErrNoChange) {
		return nil
	}
	return err
}

// Close closes the source and the driver, which closes the database.
func (r *runner) Close() error {
	serr, derr := r.m.Close()
	return errors.Join(serr, derr)
}
