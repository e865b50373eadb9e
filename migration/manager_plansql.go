package migration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/strata-go/strata/dialect"
)

// SQLPreviewer is an optional interface: the statements a migration
// executes, read without running it, such as those of an SQL file.
// [Manager.PlanSQL] uses it on every dialect.
type SQLPreviewer interface {
	PreviewSQL(dialectName string, dir Direction) ([]string, error)
}

// How [Manager.PlanSQL] obtained a step's statements.
const (
	PreviewFile   = "file"    // read from the migration's text (SQLPreviewer)
	PreviewDryRun = "dry run" // captured from a dry run in a rolled-back transaction
	PreviewNone   = ""        // not known: see Step.PreviewNote
)

// PlanSQL is [Manager.Plan] with the statements each step would execute
// (Step.SQL). A migration that implements [SQLPreviewer] (an SQL file) is
// read on every dialect. Where DDL is transactional (PostgreSQL, SQLite),
// the steps are also run, in order, in one transaction that is rolled
// back, under the migration lock, and what other migrations execute is
// captured; the dry run stops before a migration that runs outside a
// transaction. Where DDL is not transactional (MySQL), a Go migration's
// statements cannot be known without running it: its step says so in
// PreviewNote. Statements are recorded as passed to ExecContext, without
// their arguments.
func (m *Manager) PlanSQL(ctx context.Context, t Target) (steps []Step, err error) {
	defer recoverInto(&err)
	steps, err = m.Plan(ctx, t)
	if err != nil || len(steps) == 0 {
		return steps, err
	}
	needDryRun := false
	for i := range steps {
		s := &steps[i]
		if p, ok := m.g.byID[s.ID].(SQLPreviewer); ok {
			s.SQL, err = p.PreviewSQL(m.d.Name(), s.Direction)
			if err != nil {
				return nil, stepErr(s.ID, string(s.Direction), err)
			}
			s.Preview = PreviewFile
			continue
		}
		if m.d.TransactionalDDL() {
			needDryRun = true
		} else {
			s.PreviewNote = "Go code: its statements cannot be previewed on " + m.d.Name() + ", whose DDL cannot be rolled back"
		}
	}
	if !needDryRun {
		return steps, nil
	}
	err = m.withLock(ctx, false, func(conn *sql.Conn, st *state) error {
		again, err := m.plan(st, t)
		if err != nil {
			return err
		}
		if len(again) != len(steps) {
			return errors.New("migration: the plan changed while it was read; try again")
		}
		return m.capture(ctx, conn, steps)
	})
	if err != nil {
		return nil, err
	}
	return steps, nil
}

// capture runs steps in one rolled-back transaction, recording the
// statements of those not yet previewed.
func (m *Manager) capture(ctx context.Context, conn *sql.Conn, steps []Step) (err error) {
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
	rec := &recorder{Execer: tx}
	stopped := ""
	for i := range steps {
		s := &steps[i]
		if stopped != "" {
			if s.Preview == PreviewNone {
				s.PreviewNote = "not previewed: the dry run stopped before " + stopped + ", which runs outside a transaction"
			}
			continue
		}
		if s.NoTransaction {
			stopped = s.ID
			if s.Preview == PreviewNone {
				s.PreviewNote = "not previewed: it runs outside a transaction, so a dry run cannot roll it back"
			}
			continue
		}
		rec.stmts = nil
		if err := m.migrate(ctx, m.g.byID[s.ID], s.Direction, &Tx{ex: rec, d: m.d, inTx: true}); err != nil {
			return err
		}
		if s.Preview == PreviewNone {
			s.SQL, s.Preview = rec.stmts, PreviewDryRun
		}
	}
	return nil
}

// recorder records the statements executed through it.
type recorder struct {
	dialect.Execer
	stmts []string
}

func (r *recorder) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	r.stmts = append(r.stmts, query)
	return r.Execer.ExecContext(ctx, query, args...)
}

func (r *recorder) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	p, ok := r.Execer.(interface {
		PrepareContext(context.Context, string) (*sql.Stmt, error)
	})
	if !ok {
		return nil, fmt.Errorf("prepare: %T cannot prepare statements", r.Execer)
	}
	return p.PrepareContext(ctx, query)
}
