package migration

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// applyAtomic takes every step in one transaction ([WithAtomic]): all of
// them are applied, or none. Backups are taken before the transaction
// begins.
func (r *run) applyAtomic(ctx context.Context) error {
	m, st := r.m, r.st
	for _, s := range r.steps {
		if s.NoTransaction {
			return stepErr(s.ID, string(s.Direction), errors.New("an atomic run cannot include a migration that runs outside a transaction; run it on its own without WithAtomic"))
		}
	}
	results := make([]Result, len(r.steps))
	for i, s := range r.steps {
		results[i] = Result{ID: s.ID, Description: s.Description, Direction: s.Direction}
		if s.BackupRequired {
			path, err := m.backup(ctx, r.conn, s)
			results[i].Backup = path
			if err != nil {
				results[i].Err = stepErr(s.ID, StepBackup, err)
				r.res = append(r.res, results[i])
				return results[i].Err
			}
		}
	}
	tx, err := r.conn.BeginTx(ctx, nil)
	if err != nil {
		return stepErr("", StepState, fmt.Errorf("begin transaction: %w", err))
	}
	defer tx.Rollback() // after Commit, a no-op
	saved := st.clone() // to restore if the run fails
	fail := func(i int, err error) error {
		*st = *saved
		results[i].Err = fmt.Errorf("%w (atomic run rolled back: nothing was applied)", err)
		r.report(results[i])
		return results[i].Err
	}
	for i, s := range r.steps {
		if err := ctx.Err(); err != nil {
			return fail(i, stepErr(s.ID, string(s.Direction), err))
		}
		start := time.Now()
		update, err := r.migrateAndRecord(ctx, tx, m.g.byID[s.ID], s.Direction, start)
		results[i].Duration = time.Since(start)
		if errors.Is(err, ErrTransactionEnded) {
			// The migrations before it were committed with their rows,
			// or rolled back with them: recordEnded reads which.
			_ = tx.Rollback()
			*st = *saved
			results[i].Err = r.recordEnded(ctx, s.ID, err)
			r.report(results[i])
			return results[i].Err
		}
		if err != nil {
			return fail(i, err)
		}
		update()
	}
	if err := tx.Commit(); err != nil {
		return fail(len(r.steps)-1, stepErr("", StepRecord, fmt.Errorf("commit: %w", err)))
	}
	// Every result goes in before the progress callback hears of any:
	// all of them are committed, whatever the callback does.
	r.res = append(r.res, results...)
	for _, res := range results {
		if m.cfg.progress != nil {
			m.cfg.progress(res)
		}
		m.cfg.log.InfoContext(ctx, "migration "+string(res.Direction), "migration", res.ID, "direction", string(res.Direction), "duration", res.Duration, "atomic", true)
	}
	return nil
}
