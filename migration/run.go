// The run path, in the order this file reads: what one call of Manager.Up
// (or any Manager.Run) does, down to the committed version-table row.
//
//  1. Run checks the target and takes the fast path: upToDate reads the
//     newest version-table row without the lock and returns (nil, nil) if
//     it says every known migration is applied. Otherwise Run reads the
//     whole table, still without the lock, and plans; nothing to do ends
//     the run here.
//  2. withLock pins one connection and takes the lock on it, saves its
//     session (dialect.Sessioner), creates the version table if missing
//     and loads the state again under the lock. Run plans again from it
//     and checks for drift.
//  3. run.apply prepares the connection (dialect.Hooks) and takes each step
//     (run.applyStep): a backup if the migration asks for one, then
//     run.applyInTx: begin; Validate and Up (Manager.migrate), the
//     dialect's check before commit and the version-table row
//     (run.migrateAndRecord); commit. A migration that cannot run in a
//     transaction takes the dirty-marking protocol of run_notx.go instead,
//     and WithAtomic takes every step in one transaction (run_atomic.go).
//     Last, the schema is recorded for drift detection.
//  4. withLock, on every path, restores or discards the session and
//     releases the lock on the connection that took it.
//
// Every statement on strata's own tables is in store.go.

package migration

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
)

// Up applies every pending migration. When nothing is pending it returns
// (nil, nil) after one small read, without taking the lock: this is the path
// every application start takes. It refuses with [ErrChecksum] an applied
// migration whose text changed, pending work or not. Rows applied before
// checksums existed get the checksum of the current text, under the lock,
// the first time Up finds nothing to do.
func (m *Manager) Up(ctx context.Context) ([]Result, error) {
	return m.Run(ctx, Target{Direction: DirectionUp})
}

// UpTo applies id and those of its ancestors not yet applied, and nothing
// else.
func (m *Manager) UpTo(ctx context.Context, id string) ([]Result, error) {
	return m.Run(ctx, Target{Direction: DirectionUp, ID: id})
}

// Down rolls back the last applied migration.
func (m *Manager) Down(ctx context.Context) ([]Result, error) {
	return m.Run(ctx, Target{Direction: DirectionDown})
}

// DownTo rolls back every applied migration that is neither id nor an
// ancestor of id, dependants before what they depend on.
func (m *Manager) DownTo(ctx context.Context, id string) ([]Result, error) {
	return m.Run(ctx, Target{Direction: DirectionDown, ID: id})
}

// Reset rolls back every applied migration.
func (m *Manager) Reset(ctx context.Context) ([]Result, error) {
	return m.Run(ctx, Target{Direction: DirectionDown, All: true})
}

// Run does what t says: the general form of [Manager.Up], [Manager.UpTo],
// [Manager.Down], [Manager.DownTo] and [Manager.Reset].
//
// It returns the migrations it applied or rolled back. If one fails, the run
// stops there: the last Result is that migration with Err set, and the error
// is an *[Error] naming it and the step. Migrations before it stay applied.
func (m *Manager) Run(ctx context.Context, t Target) (res []Result, err error) {
	defer recoverInto(&err)
	if err := m.checkTarget(t); err != nil {
		return nil, err
	}
	if t.Direction == DirectionUp && t.ID == "" && m.upToDate(ctx) {
		return nil, nil
	}
	// Look without the lock first: most runs find nothing to do. A dirty
	// row may be a migration another process is running right now, so
	// only the locked look below can conclude it is dirty.
	st, err := m.look(ctx, t.Direction == DirectionUp)
	if err != nil {
		return nil, err
	}
	if !st.hasDirty() {
		steps, err := m.plan(st, t)
		if err == nil && len(steps) == 0 {
			m.backfill(ctx, st, t)
		}
		if err != nil || len(steps) == 0 {
			return nil, err
		}
		if err := m.checkSteps(steps); err != nil {
			return nil, err
		}
	}
	ctx, stop := withCleanupClock(ctx)
	defer stop()
	r := &run{m: m}
	defer func() { res = r.res }() // what was taken, even if withLock panics
	err = m.withLock(ctx, true, func(conn *sql.Conn, st *state) error {
		steps, err := m.plan(st, t)
		if err != nil || len(steps) == 0 {
			return err
		}
		if err := m.checkSteps(steps); err != nil {
			return err
		}
		if err := m.checkDrift(ctx, conn, st); err != nil {
			return err
		}
		r.conn, r.st, r.steps = conn, st, steps
		return r.apply(ctx)
	})
	return r.res, err
}

// upToDate reports whether the newest row of the version table says every
// known migration, and nothing else, is applied and clean. Any doubt (no
// table, a read error) sends the caller down the full path.
func (m *Manager) upToDate(ctx context.Context) bool {
	fp, dirty, ok := m.tbl.head(ctx, m.db)
	return ok && !dirty && fp == m.known
}

// checkSteps refuses, before anything runs, steps the manager is not
// configured to take: a backup with no backuper.
func (m *Manager) checkSteps(steps []Step) error {
	for _, s := range steps {
		if !s.BackupRequired {
			continue
		}
		if _, err := m.backuper(); err != nil {
			return stepErr(s.ID, StepBackup, fmt.Errorf("the migration requires a backup, and %w; nothing was run", err))
		}
	}
	return nil
}

// withLock pins a connection, takes the lock on it, creates the version
// table if create is set, reads the state under the lock and calls fn. The
// lock is released on the same connection on every path; a connection whose
// release failed is discarded rather than returned to the pool holding the
// lock.
func (m *Manager) withLock(ctx context.Context, create bool, fn func(*sql.Conn, *state) error) (err error) {
	ctx, stop := withCleanupClock(ctx)
	defer stop()
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return stepErr("", StepLock, fmt.Errorf("get connection: %w", err))
	}
	discard := false     // the lock may still be held: end the session too
	drop := false        // the session is not as it came: do not pool it
	abandoned := false   // conn belongs to the goroutine of lockConn
	var interrupt func() // ends the locked session from another connection
	defer func() {
		if abandoned {
			return
		}
		if discard || drop {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
		if discard && interrupt != nil {
			interrupt()
		}
	}()

	lctx := ctx
	if m.cfg.lockTimeout > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeoutCause(ctx, m.cfg.lockTimeout, lock.ErrTimeout)
		defer cancel()
	}
	waitStart := time.Now()
	if abandoned, err = m.lockConn(ctx, lctx, conn); err != nil {
		if ctx.Err() != nil || lctx.Err() != nil {
			// The driver may have given up half way through a statement.
			drop = true
		}
		return stepErr("", StepLock, err)
	}
	m.cfg.log.DebugContext(ctx, "migration lock taken", "wait", time.Since(waitStart))
	if in := m.caps.interrupter; in != nil {
		id, err := in.SessionID(ctx, conn)
		if err != nil {
			// Not fatal: without the id, a session the driver gave up on
			// keeps the lock until its statement ends, as it would anyway.
			m.cfg.log.WarnContext(ctx, "cannot read the session id of the locked connection", "error", err)
		} else {
			interrupt = func() { m.interrupt(ctx, in, id) }
		}
	}
	defer func() {
		uctx, cancel := cleanupContext(ctx)
		defer cancel()
		if uerr := m.locker.Unlock(uctx, conn); uerr != nil {
			discard = true
			err = errors.Join(err, stepErr("", StepLock, fmt.Errorf("release: %w", uerr)))
		}
	}()
	defer recoverInto(&err)

	tbl := m.tbl
	var sess dialect.Session
	if sr := m.caps.sessioner; sr != nil {
		sess, err = sr.SaveSession(ctx, conn, m.cfg.table)
		if err != nil {
			drop = true
			return stepErr("", StepState, err)
		}
		tbl = m.tbl.in(sess.Schema())
		defer closeSession(sess)
	}
	var st *state
	defer func() {
		if st == nil || !st.ran {
			return
		}
		// Migration code ran on conn: put its session back, or keep it
		// out of the pool.
		if sess == nil || !sess.Reusable() {
			drop = true
			return
		}
		rctx, cancel := cleanupContext(ctx)
		defer cancel()
		if rerr := sess.Restore(rctx, conn, false); rerr != nil {
			drop = true
			m.cfg.log.WarnContext(ctx, "cannot restore the session of the migration connection; it is closed rather than pooled", "error", rerr)
		}
	}()
	if create {
		if err := tbl.create(ctx, conn); err != nil {
			return stepErr("", StepState, err)
		}
	}
	st, err = m.loadFrom(ctx, conn, tbl)
	if err != nil {
		return err
	}
	st.sess = sess
	return fn(conn, st)
}

// A run is one application of planned steps on the locked connection:
// what [Manager.Run] does once it holds the lock.
type run struct {
	m     *Manager
	conn  *sql.Conn // pinned, holding the migration lock
	st    *state    // the version table as read under the lock, kept up to date
	steps []Step
	res   []Result // one per step taken, the failed one last

	// pending holds version-table writes of migrations run outside a
	// transaction that wait to commit with the next write (run_notx.go).
	pending batch
}

// apply takes the steps, appending to r.res as it goes.
func (r *run) apply(ctx context.Context) (err error) {
	m, conn, st := r.m, r.conn, r.st
	undo, err := m.prepareConn(ctx, conn)
	if err != nil {
		return err
	}
	defer undo(&err)
	if sr := m.caps.sessioner; sr != nil && m.caps.hooks != nil && st.sess != nil {
		// What every migration starts from is the session as prepared.
		sess, err := sr.SaveSession(ctx, conn, m.cfg.table)
		if err != nil {
			return stepErr("", StepState, err)
		}
		defer closeSession(sess)
		st.sess = sess
	}
	st.ran = true
	// Record the schema for drift detection whenever the run changed it,
	// also when a later migration failed after earlier ones committed.
	changed := false
	defer func() {
		if changed {
			m.recordSchema(ctx, conn, st)
		}
	}()
	if m.cfg.atomic {
		err := r.applyAtomic(ctx)
		if rerr := r.restoreSession(ctx, false); rerr != nil {
			err = errors.Join(err, stepErr("", StepState, rerr))
		}
		changed = err == nil
		return err
	}
	// Writes to the version table that need not commit on their own wait
	// in r.pending for the next one; whatever is left is written before
	// returning, also when the run failed or was cancelled, and when the
	// progress callback or the logger panicked (below).
	defer func() {
		if len(r.pending.writes) > 0 {
			fctx, cancel := cleanupContext(ctx)
			defer cancel()
			_ = r.flush(fctx) // only a panic gets here; it is the error
		}
	}()
	for _, s := range r.steps {
		res, err := r.applyStep(ctx, s)
		if err != nil {
			fctx, cancel := cleanupContext(ctx)
			if ferr := r.flush(fctx); ferr != nil {
				err = errors.Join(err, ferr)
				res.Err = err
			}
			cancel()
		}
		r.report(res)
		if err != nil {
			m.cfg.log.ErrorContext(ctx, "migration failed", "migration", s.ID, "direction", string(s.Direction), "error", err)
			return err
		}
		changed = true
		m.cfg.log.InfoContext(ctx, "migration "+string(s.Direction), "migration", s.ID, "direction", string(s.Direction), "duration", res.Duration)
	}
	fctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := r.flush(fctx); err != nil {
		last := &r.res[len(r.res)-1]
		last.Err = err
		m.cfg.log.ErrorContext(ctx, "migration failed", "migration", last.ID, "direction", string(last.Direction), "error", err)
		return err
	}
	return nil
}

// prepareConn prepares the locked connection for migration transactions
// with the dialect's [dialect.Hooks]. undo, never nil, undoes it, even
// past ctx's end; a connection it cannot put back is discarded rather
// than returned to the pool half prepared. Call it with the result's
// error, deferred.
func (m *Manager) prepareConn(ctx context.Context, conn *sql.Conn) (undo func(*error), err error) {
	if m.caps.hooks == nil {
		return func(*error) {}, nil
	}
	restore, err := m.caps.hooks.PrepareConn(ctx, conn)
	if err != nil {
		return nil, stepErr("", StepState, fmt.Errorf("prepare connection: %w", err))
	}
	return func(errp *error) {
		rctx, cancel := cleanupContext(ctx)
		defer cancel()
		if rerr := restore(rctx); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			*errp = errors.Join(*errp, stepErr("", StepState, rerr))
		}
	}, nil
}

// report adds res to the run's results and tells the progress callback.
func (r *run) report(res Result) {
	r.res = append(r.res, res)
	if r.m.cfg.progress != nil {
		r.m.cfg.progress(res)
	}
}

// applyStep takes step s: backs up if it asks to, then runs the migration
// in a transaction of its own where the dialect's DDL is transactional and
// the migration does not opt out, and outside one otherwise.
func (r *run) applyStep(ctx context.Context, s Step) (res Result, err error) {
	m := r.m
	mg := m.g.byID[s.ID]
	res = Result{ID: s.ID, Description: s.Description, Direction: s.Direction}
	defer func() { res.Err = err }()
	if err := ctx.Err(); err != nil {
		return res, stepErr(s.ID, string(s.Direction), err)
	}
	inTx := m.d.TransactionalDDL() && !s.NoTransaction
	if inTx || s.BackupRequired {
		// A backup or a transaction of its own must see every earlier
		// migration recorded as it ended.
		if err := r.flush(ctx); err != nil {
			return res, err
		}
	}
	if s.BackupRequired {
		path, err := m.backup(ctx, r.conn, s)
		res.Backup = path
		if err != nil {
			return res, stepErr(s.ID, StepBackup, err)
		}
		m.cfg.log.InfoContext(ctx, "database backed up", "migration", s.ID, "direction", string(s.Direction), "file", path)
	}
	start := time.Now()
	if inTx {
		err = r.applyInTx(ctx, mg, s.Direction, start)
		// The transaction is over: committed, or rolled back (by
		// database/sql, perhaps still under way, when the context ended).
		if rerr := r.restoreSession(ctx, false); rerr != nil {
			err = errors.Join(err, stepErr(s.ID, StepState, rerr))
		}
	} else {
		err = r.applyMarkingDirty(ctx, mg, s.Direction, start)
	}
	res.Duration = time.Since(start)
	return res, err
}

// applyInTx runs one migration and its bookkeeping in one transaction.
func (r *run) applyInTx(ctx context.Context, mg Migration, dir Direction, start time.Time) error {
	tx, err := r.conn.BeginTx(ctx, nil)
	if err != nil {
		return stepErr(mg.ID(), string(dir), fmt.Errorf("begin transaction: %w", err))
	}
	defer tx.Rollback() // after Commit, a no-op
	update, err := r.migrateAndRecord(ctx, tx, mg, dir, start)
	if errors.Is(err, ErrTransactionEnded) {
		_ = tx.Rollback()
		return r.recordEnded(ctx, mg.ID(), err)
	}
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return stepErr(mg.ID(), StepRecord, fmt.Errorf("commit: %w", err))
	}
	update()
	return nil
}

// migrateAndRecord runs one migration (Validate and Up, or Down), the
// dialect's pre-commit check and the version-table change in tx. The returned
// function brings the state up to date once the caller has committed.
func (r *run) migrateAndRecord(ctx context.Context, tx *sql.Tx, mg Migration, dir Direction, start time.Time) (func(), error) {
	m, st := r.m, r.st
	id := mg.ID()
	err := m.migrate(ctx, mg, dir, &Tx{ex: tx, d: m.d, inTx: true})
	if m.txEnded(r.conn, tx) {
		return nil, stepErr(id, string(dir), errors.Join(ErrTransactionEnded, err))
	}
	if err != nil {
		return nil, err
	}
	if hooks := m.caps.hooks; hooks != nil {
		if err := hooks.BeforeCommit(ctx, connTx{tx, r.conn}); err != nil {
			return nil, stepErr(id, string(dir), err)
		}
	}
	if dir == DirectionUp {
		rec := st.next(mg, time.Since(start), false)
		if err := st.tbl.insert(ctx, tx, rec); err != nil {
			return nil, stepErr(id, StepRecord, err)
		}
		return func() { st.push(rec) }, nil
	}
	head, fp := st.afterRemove(id)
	if err := st.tbl.delete(ctx, tx, id); err != nil {
		return nil, stepErr(id, StepRecord, err)
	}
	if err := st.tbl.syncHead(ctx, tx, head, fp); err != nil {
		return nil, stepErr(id, StepRecord, err)
	}
	return func() {
		st.remove(id)
		if h := st.head(); h != nil {
			h.fingerprint = fp
		}
	}, nil
}

// migrate calls mg's Validate and Up, or its Down, on tx, naming the
// step that failed.
func (m *Manager) migrate(ctx context.Context, mg Migration, dir Direction, tx *Tx) error {
	if dir == DirectionDown {
		return stepErr(mg.ID(), StepDown, callMigration(ctx, mg.Down, tx))
	}
	if err := callMigration(ctx, mg.Validate, tx); err != nil {
		return stepErr(mg.ID(), StepValidate, err)
	}
	return stepErr(mg.ID(), StepUp, callMigration(ctx, mg.Up, tx))
}

// callMigration calls f, one of a migration's methods, turning a panic
// into a *PanicError.
func callMigration(ctx context.Context, f func(context.Context, *Tx) error, tx *Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return f(ctx, tx)
}

// connTx is a transaction with the connection it runs on, for
// [dialect.Hooks.BeforeCommit], which may reach the driver connection
// through it ([dialect.RawConner]).
type connTx struct {
	*sql.Tx
	conn *sql.Conn
}

func (t connTx) Raw(f func(driverConn any) error) error { return t.conn.Raw(f) }

// txEnded reports whether the migration just run in tx ended tx itself,
// where the dialect can tell.
func (m *Manager) txEnded(conn *sql.Conn, tx *sql.Tx) bool {
	p := m.caps.txProber
	if p == nil {
		return false
	}
	in, err := p.InTransaction(connTx{tx, conn})
	return err == nil && !in
}

// restoreSession puts the locked connection's session back as the run
// saved it, after a migration that may have changed it, committing a
// transaction left open if commit is set (see [dialect.Session]).
func (r *run) restoreSession(ctx context.Context, commit bool) error {
	if r.st.sess == nil {
		return nil
	}
	rctx, cancel := cleanupContext(ctx)
	defer cancel()
	err := r.st.sess.Restore(rctx, r.conn, commit)
	if !commit && (errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn)) {
		// The driver closed the connection (a cancelled statement), and
		// with it the session: nothing is left to restore.
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore the connection's session after the migration: %w", err)
	}
	return nil
}

// recordEnded records migration id dirty after it ended its own
// transaction (err wraps [ErrTransactionEnded]): whatever it did is
// partly committed, and the state, read again, says which rows the
// database has.
func (r *run) recordEnded(ctx context.Context, id string, err error) error {
	m, conn, st := r.m, r.conn, r.st
	if rerr := r.restoreSession(ctx, false); rerr != nil {
		return errors.Join(err, stepErr(id, StepState, rerr))
	}
	wctx, cancel := cleanupContext(ctx)
	defer cancel()
	fresh, lerr := m.loadFrom(wctx, conn, st.tbl)
	if lerr != nil {
		return errors.Join(err, lerr)
	}
	st.recs, st.pos, st.fp = fresh.recs, fresh.pos, fresh.fp
	var werr error
	if rec := st.get(id); rec != nil {
		if werr = st.tbl.mark(wctx, conn, id, true, rec.Duration, ""); werr == nil {
			st.markDirty(id)
			rec.fingerprint = ""
		}
	} else {
		rec := st.next(m.g.byID[id], 0, true)
		if werr = st.tbl.insert(wctx, conn, rec); werr == nil {
			st.push(rec)
		}
	}
	if werr != nil {
		return errors.Join(err, stepErr(id, StepRecord, fmt.Errorf("%w; it could not be recorded dirty: inspect the database", werr)))
	}
	// err is the *Error migrateAndRecord made for this migration: say so
	// inside it, so that the run still fails with an *Error at the top.
	var me *Error
	if errors.As(err, &me) {
		me.Err = fmt.Errorf("%w; it is recorded as dirty and nothing runs until it is repaired", me.Err)
		return err
	}
	return stepErr(id, StepUp, fmt.Errorf("%w; it is recorded as dirty and nothing runs until it is repaired", err))
}

// closeSession releases what a saved session holds, if anything.
func closeSession(s dialect.Session) {
	if c, ok := s.(io.Closer); ok {
		_ = c.Close()
	}
}

func recoverInto(err *error) {
	if v := recover(); v != nil {
		*err = errors.Join(*err, &Error{Step: "internal", Err: &PanicError{Value: v, Stack: debug.Stack()}})
	}
}
