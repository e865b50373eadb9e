package migration

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/schema"
)

// Manager applies and rolls back a set of migrations on one database.
// It is safe for concurrent use, and any number of Managers in any number of
// processes may run against one database: runs are serialised by the
// database's own lock.
type Manager struct {
	db     *sql.DB
	d      dialect.Dialect
	g      *graph
	cfg    config
	tbl    *store // the version table as configured, unqualified
	locker lock.Locker
	known  string       // fingerprint of every known migration
	caps   capabilities // what the dialect implements beyond dialect.Dialect
}

// capabilities holds the optional interfaces of the manager's dialect
// (see package dialect), each nil where the dialect does not implement it.
// [NewManager] looks them up once.
type capabilities struct {
	hooks       dialect.Hooks
	sessioner   dialect.Sessioner
	txProber    dialect.TxProber
	interrupter dialect.Interrupter
	inspector   schema.Inspector
	backuper    DefaultBackuper
	backupHint  dialect.BackupHinter
}

func capabilitiesOf(d dialect.Dialect) capabilities {
	var c capabilities
	c.hooks, _ = d.(dialect.Hooks)
	c.sessioner, _ = d.(dialect.Sessioner)
	c.txProber, _ = d.(dialect.TxProber)
	c.interrupter, _ = d.(dialect.Interrupter)
	c.inspector, _ = d.(schema.Inspector)
	c.backuper, _ = d.(DefaultBackuper)
	c.backupHint, _ = d.(dialect.BackupHinter)
	return c
}

// NewManager checks the migrations and orders them. It refuses, naming every
// culprit at once, nil migrations and invalid IDs ([ErrInvalidID]),
// duplicates ([ErrDuplicateID]), dependencies on unknown IDs
// ([ErrMissingDependency]) and cycles ([ErrCycle], showing each cycle). It
// does not touch the database.
func NewManager(db *sql.DB, d dialect.Dialect, ms []Migration, opts ...Option) (*Manager, error) {
	if db == nil {
		return nil, errors.New("migration: NewManager: nil *sql.DB")
	}
	if d == nil {
		return nil, errors.New("migration: NewManager: nil dialect")
	}
	cfg := config{table: DefaultTable, lockTimeout: DefaultLockTimeout}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("migration: %w", err)
		}
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	if tc, ok := d.(dialect.TableChecker); ok {
		if err := tc.CheckTable(cfg.table); err != nil {
			return nil, fmt.Errorf("migration: WithTable: %w", err)
		}
	}
	if cfg.atomic && !d.TransactionalDDL() {
		return nil, fmt.Errorf("migration: WithAtomic: the %s dialect cannot roll back DDL, so a run cannot be atomic", d.Name())
	}
	g, err := newGraph(ms)
	if err != nil {
		return nil, err
	}
	m := &Manager{db: db, d: d, g: g, cfg: cfg, tbl: newStore(d, cfg.table), locker: cfg.locker, caps: capabilitiesOf(d)}
	if m.locker == nil {
		m.locker = d.Locker(dialect.LockOptions{Table: cfg.table, Logger: cfg.log})
	}
	m.known = g.fp.String()
	return m, nil
}

// Graph returns the manager's checked and ordered migrations.
func (m *Manager) Graph() *Graph { return &Graph{g: m.g} }

// Migrations returns the migrations in the order Up applies them.
func (m *Manager) Migrations() []Migration { return m.Graph().Migrations() }

// Dialect returns the manager's dialect.
func (m *Manager) Dialect() dialect.Dialect { return m.d }

// Table returns the version table's name.
func (m *Manager) Table() string { return m.cfg.table }
