package migration

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
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
// every application start takes.
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
		if err != nil || len(steps) == 0 {
			return nil, err
		}
	}
	err = m.withLock(ctx, true, func(conn *sql.Conn, st *state) error {
		steps, err := m.plan(st, t)
		if err != nil || len(steps) == 0 {
			return err
		}
		return m.apply(ctx, conn, st, steps, &res)
	})
	return res, err
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

// withLock pins a connection, takes the lock on it, creates the version
// table if create is set, reads the state under the lock and calls fn. The
// lock is released on the same connection on every path; a connection whose
// release failed is discarded rather than returned to the pool holding the
// lock.
func (m *Manager) withLock(ctx context.Context, create bool, fn func(*sql.Conn, *state) error) (err error) {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return stepErr("", StepLock, fmt.Errorf("get connection: %w", err))
	}
	discard := false
	var interrupt func() // ends the locked session from another connection
	defer func() {
		if discard {
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
	if err := m.locker.Lock(lctx, conn); err != nil {
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
			interrupt = func() { m.interrupt(context.WithoutCancel(ctx), in, id) }
		}
	}
	defer func() {
		if uerr := m.locker.Unlock(context.WithoutCancel(ctx), conn); uerr != nil {
			discard = true
			err = errors.Join(err, stepErr("", StepLock, fmt.Errorf("release: %w", uerr)))
		}
	}()
	defer recoverInto(&err)

	if create {
		if err := m.st.create(ctx, conn); err != nil {
			return stepErr("", StepState, err)
		}
	}
	st, err := m.load(ctx, conn)
	if err != nil {
		return err
	}
	return fn(conn, st)
}

// interrupt ends the session id, which holds the migration lock on a
// connection the driver gave up on (a cancelled statement on MySQL), so
// that the server stops its statement and releases the lock now rather
// than when the statement ends.
func (m *Manager) interrupt(ctx context.Context, in dialect.Interrupter, id int64) {
	ctx, cancel := context.WithTimeout(ctx, interruptTimeout)
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

// load reads the version table.
func (m *Manager) load(ctx context.Context, q dialect.Execer) (*state, error) {
	recs, err := m.st.read(ctx, q)
	if err != nil {
		return nil, stepErr("", StepState, err)
	}
	return newState(recs, func(id string) bool { return m.g.byID[id] != nil }), nil
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
			if rerr := restore(context.WithoutCancel(ctx)); rerr != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				err = errors.Join(err, stepErr("", StepState, rerr))
			}
		}()
	}
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
			if ferr := m.flush(context.WithoutCancel(ctx), conn, &b); ferr != nil {
				err = errors.Join(err, ferr)
				r.Err = err
			}
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
	if err := m.flush(context.WithoutCancel(ctx), conn, &b); err != nil {
		last := &(*res)[len(*res)-1]
		last.Err = err
		m.cfg.log.ErrorContext(ctx, "migration failed", "migration", last.ID, "direction", string(last.Direction), "error", err)
		return err
	}
	return nil
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
	if err := m.run(ctx, mg, dir, &Tx{ex: tx, d: m.d, inTx: true}); err != nil {
		return nil, err
	}
	if hooks != nil {
		if err := hooks.BeforeCommit(ctx, connTx{tx, conn}); err != nil {
			return nil, stepErr(id, string(dir), err)
		}
	}
	if dir == DirectionUp {
		rec := st.next(mg, time.Since(start), false)
		if err := m.st.insert(ctx, tx, rec); err != nil {
			return nil, stepErr(id, StepRecord, err)
		}
		return func() { st.push(rec) }, nil
	}
	head, fp := st.afterRemove(id)
	if err := m.st.delete(ctx, tx, id); err != nil {
		return nil, stepErr(id, StepRecord, err)
	}
	if err := m.syncHead(ctx, tx, head, fp); err != nil {
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
func (m *Manager) syncHead(ctx context.Context, q dialect.Execer, head *Record, fp string) error {
	if head == nil || head.fingerprint == fp {
		return nil
	}
	return m.st.setFingerprint(ctx, q, head.Seq, fp)
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
