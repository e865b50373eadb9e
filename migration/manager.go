package migration

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
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
	st     *store
	locker lock.Locker
	known  string // fingerprint of every known migration
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
	m := &Manager{db: db, d: d, g: g, cfg: cfg, st: newStore(d, cfg.table), locker: cfg.locker}
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
	st, err := m.load(ctx, m.db)
	if err != nil {
		return nil, err
	}
	if t.Direction == DirectionUp && len(st.recs) == 0 {
		if err := m.foreignErr(ctx, m.db); err != nil {
			return nil, err
		}
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
		return m.apply(ctx, conn, st, steps, &res)
	})
	return res, err
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

func (m *Manager) checkTarget(t Target) error {
	switch t.Direction {
	case DirectionUp:
		if t.All {
			return errors.New("migration: Target.All is for DirectionDown")
		}
		if t.Count != 0 {
			return errors.New("migration: Target.Count is for DirectionDown")
		}
	case DirectionDown:
		if t.All && t.ID != "" {
			return errors.New("migration: Target.All and Target.ID exclude each other")
		}
		if t.Count < 0 {
			return fmt.Errorf("migration: negative Target.Count %d", t.Count)
		}
		if t.Count != 0 && (t.All || t.ID != "") {
			return errors.New("migration: Target.Count excludes Target.All and Target.ID")
		}
	default:
		return fmt.Errorf("migration: unknown direction %q", t.Direction)
	}
	if t.ID != "" {
		if _, ok := m.g.byID[t.ID]; !ok {
			return fmt.Errorf("%w: %q", ErrUnknownMigration, t.ID)
		}
	}
	return nil
}

// upToDate reports whether the newest row of the version table says every
// known migration, and nothing else, is applied and clean. Any doubt (no
// table, a read error) sends the caller down the full path.
func (m *Manager) upToDate(ctx context.Context) bool {
	fp, dirty, ok := m.st.head(ctx, m.db)
	return ok && !dirty && fp == m.known
}

// backfill records the checksums of rows applied before checksums existed
// when, as st (read without the lock) says, that is all that keeps the
// newest row from saying the database is up to date; see
// [Manager.backfillChecksums]. The run has nothing to do, so a failure
// here is logged, not returned: the next start tries again.
func (m *Manager) backfill(ctx context.Context, st *state, t Target) {
	if _, ok := m.staleChecksums(st); !ok {
		return
	}
	if err := m.backfillChecksums(ctx, t); err != nil {
		m.cfg.log.WarnContext(ctx, "could not record the checksums of migrations applied before checksums were", "error", err)
	}
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
	if in, ok := m.d.(dialect.Interrupter); ok {
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

	tbl := m.st
	var sess dialect.Session
	if sr, ok := m.d.(dialect.Sessioner); ok {
		sess, err = sr.SaveSession(ctx, conn, m.cfg.table)
		if err != nil {
			drop = true
			return stepErr("", StepState, err)
		}
		tbl = m.st.in(sess.Schema())
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

// lockConn takes the lock on conn under lctx. If the attempt in flight
// has not answered cleanupGrace after lctx ended (a stalled connection), it
// gives up without waiting for it: a goroutine waits for the answer,
// releases the lock should it have been granted, and closes conn, which
// the caller must then leave alone (abandoned).
func (m *Manager) lockConn(ctx, lctx context.Context, conn *sql.Conn) (abandoned bool, err error) {
	done := make(chan error, 1)
	go func() { done <- m.locker.Lock(lctx, conn) }()
	select {
	case err := <-done:
		return false, err
	case <-lctx.Done():
	}
	grace := time.NewTimer(cleanupGrace)
	defer grace.Stop()
	select {
	case err := <-done:
		return false, err
	case <-grace.C:
	}
	go func() {
		if err := <-done; err == nil {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), interruptTimeout)
			if uerr := m.locker.Unlock(uctx, conn); uerr != nil {
				m.cfg.log.WarnContext(uctx, "cannot release a migration lock granted after the run gave up on it; closing its connection", "error", uerr)
			}
			cancel()
		}
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
	}()
	return true, fmt.Errorf("%w (the connection did not answer within %s; it is closed when it does)", context.Cause(lctx), cleanupGrace)
}

// interrupt ends the session id, which holds the migration lock on a
// connection the driver gave up on (a cancelled statement on MySQL), so
// that the server stops its statement and releases the lock now rather
// than when the statement ends.
func (m *Manager) interrupt(ctx context.Context, in dialect.Interrupter, id int64) {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, interruptTimeout)
	defer cancel()
	if err := in.Interrupt(ctx, m.db, id); err != nil {
		m.cfg.log.WarnContext(ctx, "cannot end the session that held the migration lock; the server releases the lock when its statement ends",
			"session", id, "error", err)
		return
	}
	m.cfg.log.InfoContext(ctx, "ended the session that held the migration lock", "session", id)
}

// interruptTimeout bounds [Manager.interrupt].
const interruptTimeout = 10 * time.Second

// load reads the version table as configured, unqualified.
func (m *Manager) load(ctx context.Context, q dialect.Execer) (*state, error) {
	return m.loadFrom(ctx, q, m.st)
}

// loadFrom reads the version table tbl.
func (m *Manager) loadFrom(ctx context.Context, q dialect.Execer, tbl *store) (*state, error) {
	recs, err := tbl.read(ctx, q)
	if err != nil {
		return nil, stepErr("", StepState, err)
	}
	st := newState(recs, func(id string) bool { return m.g.byID[id] != nil })
	st.tbl = tbl
	return st, nil
}

// cleanupGrace is how long writes that clean up after a run (the version
// table's last rows, the lock's release, the session's restore) may go on
// once the caller's context is done: long enough for a healthy server,
// short enough that a stalled connection does not hold the caller.
const cleanupGrace = time.Second

// cleanupContext returns a context for cleaning up after work done under
// ctx: not cancelled with ctx, but cleanupGrace after ctx ended (after the
// run's context ended, if ctx carries its [cleanupClock], so that cleanups
// one after the other share one grace rather than adding theirs up).
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	end := func() time.Time {
		if clk, ok := ctx.Value(cleanupClockKey{}).(*cleanupClock); ok {
			return clk.ended().Add(cleanupGrace)
		}
		return time.Now().Add(cleanupGrace)
	}
	cause := func() error {
		return fmt.Errorf("cleanup gave up %s after the run's context ended: %w", cleanupGrace, context.Cause(ctx))
	}
	if ctx.Err() != nil {
		// The usual case: cleaning up after the run's context ended.
		return context.WithDeadlineCause(context.WithoutCancel(ctx), end(), cause())
	}
	c, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(max(time.Until(end()), 0), func() { cancel(cause()) })
	})
	return c, func() {
		stop()
		cancel(context.Canceled)
	}
}

// A cleanupClock notes when a run's context ended.
type cleanupClock struct {
	done chan struct{}
	at   time.Time
}

type cleanupClockKey struct{}

// withCleanupClock returns ctx carrying a clock that notes when ctx ends,
// unless it has one; stop releases it.
func withCleanupClock(ctx context.Context) (_ context.Context, stop func()) {
	if _, ok := ctx.Value(cleanupClockKey{}).(*cleanupClock); ok {
		return ctx, func() {}
	}
	clk := &cleanupClock{done: make(chan struct{})}
	stop = func() {}
	if ctx.Done() != nil {
		s := context.AfterFunc(ctx, func() {
			clk.at = time.Now()
			close(clk.done)
		})
		stop = func() { s() }
	}
	return context.WithValue(ctx, cleanupClockKey{}, clk), stop
}

// ended returns when the context ended, or now if the clock has not
// noted it yet (the caller knows it has ended).
func (c *cleanupClock) ended() time.Time {
	select {
	case <-c.done:
		return c.at
	default:
		return time.Now()
	}
}

// plan returns the steps t takes from st.
func (m *Manager) plan(st *state, t Target) ([]Step, error) {
	if err := m.dirtyErr(st); err != nil {
		return nil, err
	}
	if t.Direction == DirectionUp {
		if err := m.checksumErr(st); err != nil {
			return nil, err
		}
		var want map[string]bool
		if t.ID != "" {
			want = m.g.ancestors(t.ID)
			want[t.ID] = true
		}
		var steps []Step
		for _, id := range m.g.order {
			if st.get(id) == nil && (want == nil || want[id]) {
				steps = append(steps, m.step(id, DirectionUp))
			}
		}
		return steps, nil
	}

	var roll []Record // newest first
	switch {
	case t.All:
		for _, r := range slices.Backward(st.recs) {
			if r.Known {
				roll = append(roll, r)
			}
		}
	case t.ID == "":
		for i := len(st.recs) - 1; i >= 0 && len(roll) < max(t.Count, 1); i-- {
			last := st.recs[i]
			if !last.Known && t.Count > 1 {
				return nil, fmt.Errorf("%w: %q (applied %s), among the last %d applied migrations, is not in this binary; roll it back with the binary that has it",
					ErrUnknownApplied, last.ID, last.AppliedAt.Format(time.RFC3339), t.Count)
			}
			if !last.Known {
				return nil, fmt.Errorf("%w: the last applied migration, %q (applied %s), is not in this binary; roll it back with the binary that has it",
					ErrUnknownApplied, last.ID, last.AppliedAt.Format(time.RFC3339))
			}
			roll = append(roll, last)
		}
	default:
		keep := m.g.ancestors(t.ID)
		keep[t.ID] = true
		for _, r := range slices.Backward(st.recs) {
			if r.Known && !keep[r.ID] {
				roll = append(roll, r)
			}
		}
	}
	if len(roll) == 0 {
		return nil, nil
	}
	oldest := roll[len(roll)-1].Seq
	var unknown []string
	for _, r := range st.recs {
		if !r.Known && r.Seq > oldest {
			unknown = append(unknown, fmt.Sprintf("%q", r.ID))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: %s applied after %q, which this run would roll back; roll back with the binary that has them",
			ErrUnknownApplied, strings.Join(unknown, ", "), roll[len(roll)-1].ID)
	}
	steps := make([]Step, len(roll))
	for i, r := range roll {
		steps[i] = m.step(r.ID, DirectionDown)
	}
	return steps, nil
}

func (m *Manager) step(id string, dir Direction) Step {
	mg := m.g.byID[id]
	return Step{
		ID:             id,
		Description:    description(mg),
		Direction:      dir,
		BackupRequired: mg.BackupRequired(),
		NoTransaction:  noTransaction(mg),
	}
}

func (m *Manager) dirtyErr(st *state) error {
	for _, r := range st.recs {
		if r.Dirty {
			return &Error{ID: r.ID, Step: StepState, Err: fmt.Errorf(
				"%w: it started at %s and did not finish, and its changes are not transactional; "+
					"inspect the database, then mark it applied or not applied with Manager.Repair (CLI: repair %s --applied|--not-applied)",
				ErrDirty, r.AppliedAt.Format(time.RFC3339), r.ID)}
		}
	}
	return nil
}

// apply runs steps on the locked connection, appending to res as it goes.
func (m *Manager) apply(ctx context.Context, conn *sql.Conn, st *state, steps []Step, res *[]Result) (err error) {
	hooks, _ := m.d.(dialect.Hooks)
	if hooks != nil {
		restore, err := hooks.PrepareConn(ctx, conn)
		if err != nil {
			return stepErr("", StepState, fmt.Errorf("prepare connection: %w", err))
		}
		defer func() {
			rctx, cancel := cleanupContext(ctx)
			defer cancel()
			if rerr := restore(rctx); rerr != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				err = errors.Join(err, stepErr("", StepState, rerr))
			}
		}()
		if sr, ok := m.d.(dialect.Sessioner); ok && st.sess != nil {
			// What every migration starts from is the session as
			// prepared.
			sess, err := sr.SaveSession(ctx, conn, m.cfg.table)
			if err != nil {
				return stepErr("", StepState, err)
			}
			defer closeSession(sess)
			st.sess = sess
		}
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
		err := m.applyAtomic(ctx, conn, st, steps, res, hooks)
		if rerr := m.restoreSession(ctx, conn, st, false); rerr != nil {
			err = errors.Join(err, stepErr("", StepState, rerr))
		}
		changed = err == nil
		return err
	}
	// Writes to the version table that need not commit on their own wait
	// in b for the next one; whatever is left is written before returning,
	// also when the run failed or was cancelled.
	var b batch
	for _, s := range steps {
		r, err := m.applyOne(ctx, conn, st, s, hooks, &b)
		if err != nil {
			fctx, cancel := cleanupContext(ctx)
			if ferr := m.flush(fctx, conn, &b); ferr != nil {
				err = errors.Join(err, ferr)
				r.Err = err
			}
			cancel()
		}
		*res = append(*res, r)
		if m.cfg.progress != nil {
			m.cfg.progress(r)
		}
		if err != nil {
			m.cfg.log.ErrorContext(ctx, "migration failed", "migration", s.ID, "direction", string(s.Direction), "error", err)
			return err
		}
		changed = true
		m.cfg.log.InfoContext(ctx, "migration "+string(s.Direction), "migration", s.ID, "direction", string(s.Direction), "duration", r.Duration)
	}
	fctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := m.flush(fctx, conn, &b); err != nil {
		last := &(*res)[len(*res)-1]
		last.Err = err
		m.cfg.log.ErrorContext(ctx, "migration failed", "migration", last.ID, "direction", string(last.Direction), "error", err)
		return err
	}
	return nil
}

// closeSession releases what a saved session holds, if anything.
func closeSession(s dialect.Session) {
	if c, ok := s.(io.Closer); ok {
		_ = c.Close()
	}
}

// restoreSession puts the locked connection's session back as the run
// saved it, after a migration that may have changed it, committing a
// transaction left open if commit is set (see [dialect.Session]).
func (m *Manager) restoreSession(ctx context.Context, conn *sql.Conn, st *state, commit bool) error {
	if st.sess == nil {
		return nil
	}
	rctx, cancel := cleanupContext(ctx)
	defer cancel()
	err := st.sess.Restore(rctx, conn, commit)
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

// txEnded reports whether the migration just run in tx ended tx itself,
// where the dialect can tell.
func (m *Manager) txEnded(conn *sql.Conn, tx *sql.Tx) bool {
	p, ok := m.d.(dialect.TxProber)
	if !ok {
		return false
	}
	in, err := p.InTransaction(connTx{tx, conn})
	return err == nil && !in
}

// recordEnded records migration id dirty after it ended its own
// transaction (err wraps [ErrTransactionEnded]): whatever it did is
// partly committed, and st, read again, says which rows the database has.
func (m *Manager) recordEnded(ctx context.Context, conn *sql.Conn, st *state, id string, err error) error {
	if rerr := m.restoreSession(ctx, conn, st, false); rerr != nil {
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
	if r := st.get(id); r != nil {
		if werr = st.tbl.mark(wctx, conn, id, true, r.Duration, ""); werr == nil {
			st.markDirty(id)
			r.fingerprint = ""
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
	// err is the *Error runInTx made for this migration: say so inside it,
	// so that the run still fails with an *Error at the top.
	var me *Error
	if errors.As(err, &me) {
		me.Err = fmt.Errorf("%w; it is recorded as dirty and nothing runs until it is repaired", me.Err)
		return err
	}
	return stepErr(id, StepUp, fmt.Errorf("%w; it is recorded as dirty and nothing runs until it is repaired", err))
}

func (m *Manager) applyOne(ctx context.Context, conn *sql.Conn, st *state, s Step, hooks dialect.Hooks, b *batch) (r Result, err error) {
	mg := m.g.byID[s.ID]
	r = Result{ID: s.ID, Description: s.Description, Direction: s.Direction}
	defer func() { r.Err = err }()
	if err := ctx.Err(); err != nil {
		return r, stepErr(s.ID, string(s.Direction), err)
	}
	inTx := m.d.TransactionalDDL() && !s.NoTransaction
	if inTx || s.BackupRequired {
		// A backup or a transaction of its own must see every earlier
		// migration recorded as it ended.
		if err := m.flush(ctx, conn, b); err != nil {
			return r, err
		}
	}
	if s.BackupRequired {
		path, err := m.backup(ctx, conn, s)
		r.Backup = path
		if err != nil {
			return r, stepErr(s.ID, StepBackup, err)
		}
		m.cfg.log.InfoContext(ctx, "database backed up", "migration", s.ID, "direction", string(s.Direction), "file", path)
	}
	start := time.Now()
	if inTx {
		err = m.applyTx(ctx, conn, st, mg, s.Direction, start, hooks)
		// The transaction is over: committed, or rolled back (by
		// database/sql, perhaps still under way, when the context ended).
		if rerr := m.restoreSession(ctx, conn, st, false); rerr != nil {
			err = errors.Join(err, stepErr(s.ID, StepState, rerr))
		}
	} else {
		err = m.applyConn(ctx, conn, st, mg, s.Direction, start, hooks, b)
	}
	r.Duration = time.Since(start)
	return r, err
}

// applyTx runs one migration and its bookkeeping in one transaction.
func (m *Manager) applyTx(ctx context.Context, conn *sql.Conn, st *state, mg Migration, dir Direction, start time.Time, hooks dialect.Hooks) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return stepErr(mg.ID(), string(dir), fmt.Errorf("begin transaction: %w", err))
	}
	defer tx.Rollback() // after Commit, a no-op
	update, err := m.runInTx(ctx, conn, tx, st, mg, dir, start, hooks)
	if errors.Is(err, ErrTransactionEnded) {
		_ = tx.Rollback()
		return m.recordEnded(ctx, conn, st, mg.ID(), err)
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

// runInTx runs one migration (Validate and Up, or Down), the dialect's
// pre-commit check and the version-table change in tx. The returned
// function brings st up to date once the caller has committed.
func (m *Manager) runInTx(ctx context.Context, conn *sql.Conn, tx *sql.Tx, st *state, mg Migration, dir Direction, start time.Time, hooks dialect.Hooks) (func(), error) {
	id := mg.ID()
	err := m.run(ctx, mg, dir, &Tx{ex: tx, d: m.d, inTx: true})
	if m.txEnded(conn, tx) {
		return nil, stepErr(id, string(dir), errors.Join(ErrTransactionEnded, err))
	}
	if err != nil {
		return nil, err
	}
	if hooks != nil {
		if err := hooks.BeforeCommit(ctx, connTx{tx, conn}); err != nil {
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
	if err := m.syncHead(ctx, tx, st.tbl, head, fp); err != nil {
		return nil, stepErr(id, StepRecord, err)
	}
	return func() {
		st.remove(id)
		if h := st.head(); h != nil {
			h.fingerprint = fp
		}
	}, nil
}

// run calls Validate and Up, or Down, naming the step that failed.
func (m *Manager) run(ctx context.Context, mg Migration, dir Direction, tx *Tx) error {
	if dir == DirectionDown {
		return stepErr(mg.ID(), StepDown, call(ctx, mg.Down, tx))
	}
	if err := call(ctx, mg.Validate, tx); err != nil {
		return stepErr(mg.ID(), StepValidate, err)
	}
	return stepErr(mg.ID(), StepUp, call(ctx, mg.Up, tx))
}

// syncHead makes head, the newest row, carry fp, the fingerprint of the
// applied set, in the database. The caller updates its state once the
// change is committed.
func (m *Manager) syncHead(ctx context.Context, q dialect.Execer, tbl *store, head *Record, fp string) error {
	if head == nil || head.fingerprint == fp {
		return nil
	}
	return tbl.setFingerprint(ctx, q, head.Seq, fp)
}

// connTx is a transaction with the connection it runs on, for
// [dialect.Hooks.BeforeCommit], which may reach the driver connection
// through it ([dialect.RawConner]).
type connTx struct {
	*sql.Tx
	conn *sql.Conn
}

func (t connTx) Raw(f func(driverConn any) error) error { return t.conn.Raw(f) }

// call calls f, turning a panic into a *PanicError.
func call(ctx context.Context, f func(context.Context, *Tx) error, tx *Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return f(ctx, tx)
}

func recoverInto(err *error) {
	if v := recover(); v != nil {
		*err = errors.Join(*err, &Error{Step: "internal", Err: &PanicError{Value: v, Stack: debug.Stack()}})
	}
}

// applyAtomic runs every step in one transaction: all of them are applied,
// or none. Backups are taken before the transaction begins.
func (m *Manager) applyAtomic(ctx context.Context, conn *sql.Conn, st *state, steps []Step, res *[]Result, hooks dialect.Hooks) error {
	for _, s := range steps {
		if s.NoTransaction {
			return stepErr(s.ID, string(s.Direction), errors.New("an atomic run cannot include a migration that runs outside a transaction; run it on its own without WithAtomic"))
		}
	}
	results := make([]Result, len(steps))
	for i, s := range steps {
		results[i] = Result{ID: s.ID, Description: s.Description, Direction: s.Direction}
		if s.BackupRequired {
			path, err := m.backup(ctx, conn, s)
			results[i].Backup = path
			if err != nil {
				results[i].Err = stepErr(s.ID, StepBackup, err)
				*res = append(*res, results[i])
				return results[i].Err
			}
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return stepErr("", StepState, fmt.Errorf("begin transaction: %w", err))
	}
	defer tx.Rollback() // after Commit, a no-op
	saved := st.clone() // to restore if the run fails
	fail := func(i int, err error) error {
		*st = *saved
		results[i].Err = fmt.Errorf("%w (atomic run rolled back: nothing was applied)", err)
		*res = append(*res, results[i])
		if m.cfg.progress != nil {
			m.cfg.progress(results[i])
		}
		return results[i].Err
	}
	for i, s := range steps {
		if err := ctx.Err(); err != nil {
			return fail(i, stepErr(s.ID, string(s.Direction), err))
		}
		start := time.Now()
		update, err := m.runInTx(ctx, conn, tx, st, m.g.byID[s.ID], s.Direction, start, hooks)
		results[i].Duration = time.Since(start)
		if errors.Is(err, ErrTransactionEnded) {
			// The migrations before it were committed with their rows,
			// or rolled back with them: recordEnded reads which.
			_ = tx.Rollback()
			*st = *saved
			results[i].Err = m.recordEnded(ctx, conn, st, s.ID, err)
			*res = append(*res, results[i])
			if m.cfg.progress != nil {
				m.cfg.progress(results[i])
			}
			return results[i].Err
		}
		if err != nil {
			return fail(i, err)
		}
		update()
	}
	if err := tx.Commit(); err != nil {
		return fail(len(steps)-1, stepErr("", StepRecord, fmt.Errorf("commit: %w", err)))
	}
	*res = append(*res, results...)
	for _, r := range results {
		if m.cfg.progress != nil {
			m.cfg.progress(r)
		}
		m.cfg.log.InfoContext(ctx, "migration "+string(r.Direction), "migration", r.ID, "direction", string(r.Direction), "duration", r.Duration, "atomic", true)
	}
	return nil
}
