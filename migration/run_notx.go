package migration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/strata-go/strata/dialect"
)

// applyMarkingDirty runs one migration outside a transaction (every
// migration on MySQL, NoTransaction ones elsewhere), with the dirty-marking
// protocol: its row is recorded dirty before it runs and clean after (up),
// or dirty before and deleted after (down), so a failure or crash half way
// is never mistaken for success.
//
// The opening write commits, with whatever is pending, before the
// migration runs. The closing write is left pending, to commit with the
// next migration's opening write or when the run ends: one commit per
// migration instead of two, as many as running the statements and
// inserting a version row. A crash in between leaves the migration
// recorded dirty, as a crash just after its statements always could.
func (r *run) applyMarkingDirty(ctx context.Context, mg Migration, dir Direction, start time.Time) error {
	m, st, b := r.m, r.st, &r.pending
	id, step := mg.ID(), string(dir)
	mtx := &Tx{ex: r.conn, d: m.d}
	if dir == DirectionUp {
		if err := callMigration(ctx, mg.Validate, mtx); err != nil {
			return stepErr(id, StepValidate, err)
		}
		rec := st.next(mg, 0, true)
		b.add(write{id: id,
			exec: func(ctx context.Context, q dialect.Execer) error { return st.tbl.insert(ctx, q, rec) },
			done: func() { st.push(rec) },
		})
	} else {
		rec := st.get(id)
		if rec == nil {
			return stepErr(id, StepState, errors.New("not in the version table"))
		}
		seq, d := rec.Seq, rec.Duration
		b.add(write{id: id, seq: seq,
			exec: func(ctx context.Context, q dialect.Execer) error { return st.tbl.mark(ctx, q, id, true, d, "") },
			done: func() {
				st.markDirty(id)
				st.get(id).fingerprint = ""
			},
		})
		// The newest row is the one rolled back, unless rows this binary
		// does not know follow it (plan refuses that today); their
		// fingerprint must not claim the set is complete either.
		if head := st.head(); head != nil && head.ID != id && head.fingerprint != "" {
			b.add(r.syncWrite(id, head.ID, head.Seq, ""))
		}
	}
	if err := r.flush(ctx); err != nil {
		return err
	}

	failed := func(err error) error {
		return stepErr(id, step, fmt.Errorf("%w; the migration is recorded as dirty and nothing runs until it is repaired", err))
	}
	f := mg.Up
	if dir == DirectionDown {
		f = mg.Down
	}
	err := callMigration(ctx, f, mtx)
	// What the migration left on the session must not reach the writes
	// below, nor the next migration; a transaction it left open is its
	// work, committed if it succeeded.
	if rerr := r.restoreSession(ctx, err == nil); rerr != nil {
		return failed(errors.Join(err, rerr))
	}
	if err != nil {
		return failed(err)
	}
	if hooks := m.caps.hooks; hooks != nil {
		if err := hooks.BeforeCommit(ctx, r.conn); err != nil {
			return failed(err)
		}
	}

	if dir == DirectionUp {
		d := time.Since(start)
		fp := st.fp
		fp.add(id, checksum(mg))
		b.add(write{id: id,
			exec: func(ctx context.Context, q dialect.Execer) error {
				return st.tbl.mark(ctx, q, id, false, d, fp.String())
			},
			done: func() { st.markClean(id, d) },
		})
		return nil
	}
	head, fp := st.afterRemove(id)
	b.add(write{id: id,
		exec: func(ctx context.Context, q dialect.Execer) error { return st.tbl.delete(ctx, q, id) },
		done: func() { st.remove(id) },
	})
	if head != nil && head.fingerprint != fp {
		b.add(r.syncWrite(id, head.ID, head.Seq, fp))
	}
	return nil
}

// syncWrite is the write that makes the row headID (seq) carry fp, on
// behalf of migration id.
func (r *run) syncWrite(id, headID string, seq int64, fp string) write {
	st := r.st
	return write{id: id, seq: seq, sync: true,
		exec: func(ctx context.Context, q dialect.Execer) error { return st.tbl.setFingerprint(ctx, q, seq, fp) },
		done: func() {
			if h := st.get(headID); h != nil {
				h.fingerprint = fp
			}
		},
	}
}

// A batch holds version-table writes of a run outside transactions that
// have not been written yet, to write them in one transaction with the next
// write that must commit before work goes on. See [run.applyMarkingDirty].
type batch struct {
	writes []write
}

// write is one change to the version table.
type write struct {
	id   string // the migration it records, named in errors
	seq  int64  // the row it sets the fingerprint of, if any
	sync bool   // only sets the fingerprint of row seq
	exec func(context.Context, dialect.Execer) error
	done func() // brings the state up to date once committed
}

// add appends w, dropping a waiting fingerprint-only write to the row w
// writes too, which w supersedes.
func (b *batch) add(w write) {
	if w.seq != 0 {
		b.writes = slices.DeleteFunc(b.writes, func(p write) bool { return p.sync && p.seq == w.seq })
	}
	b.writes = append(b.writes, w)
}

// flush writes the pending writes on the locked connection: a single
// write as it is, several in one transaction, then brings the state up to
// date. Nothing is pending afterwards whatever the outcome; on error
// nothing of it was written (or, if only the commit's answer was lost, all
// of it, which the next run reads back).
func (r *run) flush(ctx context.Context) error {
	ws := r.pending.writes
	r.pending.writes = nil
	if len(ws) == 0 {
		return nil
	}
	if err := writeAll(ctx, r.conn, ws); err != nil {
		return err
	}
	for _, w := range ws {
		w.done()
	}
	return nil
}

func writeAll(ctx context.Context, conn *sql.Conn, ws []write) error {
	if len(ws) == 1 {
		if err := ws[0].exec(ctx, conn); err != nil {
			return stepErr(ws[0].id, StepRecord, err)
		}
		return nil
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return stepErr(ws[0].id, StepRecord, fmt.Errorf("begin transaction: %w", err))
	}
	defer tx.Rollback() // after Commit, a no-op
	for _, w := range ws {
		if err := w.exec(ctx, tx); err != nil {
			return stepErr(w.id, StepRecord, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return stepErr(ws[len(ws)-1].id, StepRecord, fmt.Errorf("commit: %w", err))
	}
	return nil
}
