package migration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Validate is a dry run of [Manager.Up]. Where the dialect has transactional
// DDL, it runs every pending migration's Validate and Up in order inside one
// transaction and rolls it back, so it changes nothing and proves the run
// would succeed against the schema as it is now. It stops before the first
// migration that must run outside a transaction, and logs that the rest was
// not tried.
//
// Where DDL is not transactional (MySQL) it cannot run Up without changing
// the database, so it checks the graph, the version table and its dirty
// state, and the first pending migration's preconditions, and logs that
// this is all it checked.
func (m *Manager) Validate(ctx context.Context) (err error) {
	defer recoverInto(&err)
	st, err := m.look(ctx, true)
	if err != nil {
		return err
	}
	if err := m.checksumErr(st); err != nil {
		return err
	}
	if !st.hasDirty() {
		steps, err := m.plan(st, Target{Direction: DirectionUp})
		if err != nil || len(steps) == 0 {
			return err
		}
	}
	return m.withLock(ctx, false, func(conn *sql.Conn, st *state) error {
		steps, err := m.plan(st, Target{Direction: DirectionUp})
		if err != nil || len(steps) == 0 {
			return err
		}
		st.ran = true // migration code runs on conn
		if !m.d.TransactionalDDL() {
			m.cfg.log.WarnContext(ctx, "dry run without transactional DDL checks the graph, the version table and the first pending migration's Validate only",
				"dialect", m.d.Name(), "migration", steps[0].ID)
			mg := m.g.byID[steps[0].ID]
			return stepErr(mg.ID(), StepValidate, callMigration(ctx, mg.Validate, &Tx{ex: conn, d: m.d}))
		}
		return m.dryRun(ctx, conn, steps)
	})
}

func (m *Manager) dryRun(ctx context.Context, conn *sql.Conn, steps []Step) (err error) {
	undo, err := m.prepareConn(ctx, conn)
	if err != nil {
		return err
	}
	defer undo(&err)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return stepErr("", StepState, fmt.Errorf("begin transaction: %w", err))
	}
	defer tx.Rollback()
	mtx := &Tx{ex: tx, d: m.d, inTx: true}
	for i, s := range steps {
		if s.NoTransaction {
			m.cfg.log.WarnContext(ctx, "dry run stops before a migration that runs outside a transaction; the rest was not tried",
				"migration", s.ID, "untried", len(steps)-i)
			return nil
		}
		mg := m.g.byID[s.ID]
		err := m.migrate(ctx, mg, DirectionUp, mtx)
		if m.txEnded(conn, tx) {
			// Its COMMIT made part of the dry run stick.
			return stepErr(s.ID, StepUp, errors.Join(fmt.Errorf("%w; in a dry run: what it ran before may be committed, inspect the database", ErrTransactionEnded), err))
		}
		if err != nil {
			return err
		}
		if hooks := m.caps.hooks; hooks != nil {
			if err := hooks.BeforeCommit(ctx, connTx{tx, conn}); err != nil {
				return stepErr(s.ID, StepUp, err)
			}
		}
	}
	return nil
}

// Baseline records id and its ancestors as applied without running them,
// for a database whose schema already has what they do (one created before
// strata, or restored from a dump). Migrations already applied are left as
// they are. The rows it writes are marked ([Record.Baselined]), and the
// live schema is recorded as the one [Manager.Drift] expects, as after a
// run.
func (m *Manager) Baseline(ctx context.Context, id string) (err error) {
	defer recoverInto(&err)
	if err := m.checkTarget(Target{Direction: DirectionUp, ID: id}); err != nil {
		return err
	}
	return m.withLock(ctx, true, func(conn *sql.Conn, st *state) error {
		steps, err := m.plan(st, Target{Direction: DirectionUp, ID: id})
		if err != nil || len(steps) == 0 {
			return err
		}
		// Version-table rows are plain DML: one transaction on every
		// dialect, so a baseline is all or nothing.
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return stepErr(id, StepRecord, fmt.Errorf("begin transaction: %w", err))
		}
		defer tx.Rollback()
		var recs []Record
		for _, s := range steps {
			r := st.next(m.g.byID[s.ID], 0, false)
			r.Baselined = true
			if err := st.tbl.insert(ctx, tx, r); err != nil {
				return stepErr(s.ID, StepRecord, err)
			}
			st.push(r)
			recs = append(recs, r)
		}
		if err := tx.Commit(); err != nil {
			return stepErr(id, StepRecord, fmt.Errorf("commit: %w", err))
		}
		for _, r := range recs {
			m.cfg.log.InfoContext(ctx, "migration baselined", "migration", r.ID)
		}
		m.recordSchema(ctx, conn, st)
		return nil
	})
}

// Repair resolves a dirty migration after an operator has inspected the
// database: applied records it as applied (its Up, or its failed Down, is
// taken as complete), !applied removes its row (as if it never ran, or its
// Down completed). Repair refuses a migration that is not dirty.
func (m *Manager) Repair(ctx context.Context, id string, applied bool) (err error) {
	defer recoverInto(&err)
	return m.withLock(ctx, false, func(conn *sql.Conn, st *state) error {
		r := st.get(id)
		if r == nil {
			return &Error{ID: id, Step: StepRecord, Err: fmt.Errorf("%w: no row in the version table", ErrUnknownMigration)}
		}
		if !r.Dirty {
			return &Error{ID: id, Step: StepRecord, Err: errors.New("not dirty: nothing to repair")}
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return stepErr(id, StepRecord, fmt.Errorf("begin transaction: %w", err))
		}
		defer tx.Rollback()
		// The state is not used after the repair: change it at once.
		if applied {
			fp := st.fp
			fp.add(id, r.Checksum)
			if err := st.tbl.mark(ctx, tx, id, false, r.Duration, fp.String()); err != nil {
				return stepErr(id, StepRecord, err)
			}
			st.markClean(id, r.Duration)
		} else {
			if err := st.tbl.delete(ctx, tx, id); err != nil {
				return stepErr(id, StepRecord, err)
			}
			st.remove(id)
		}
		if err := st.tbl.syncHead(ctx, tx, st.head(), st.fp.String()); err != nil {
			return stepErr(id, StepRecord, err)
		}
		if err := tx.Commit(); err != nil {
			return stepErr(id, StepRecord, fmt.Errorf("commit: %w", err))
		}
		m.cfg.log.InfoContext(ctx, "dirty migration repaired", "migration", id, "applied", applied)
		return nil
	})
}
