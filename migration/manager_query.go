package migration

import (
	"context"
	"database/sql/driver"
	"errors"
	"slices"
	"time"

	"github.com/strata-go/strata/lock"
)

// Status reports every known migration in order, then the rows of the
// version table this binary does not know ([StateUnknown]). It reads
// without the lock. A migration recorded dirty shows as [StateRunning]
// when another migrator holds the lock at that moment (Status waits for
// it up to a tenth of a second to tell), and as [StateDirty] otherwise. On
// a database that goose or golang-migrate manages and strata has not
// adopted yet it returns [ErrForeignVersionTable].
func (m *Manager) Status(ctx context.Context) ([]Status, error) {
	st, err := m.look(ctx, true)
	if err != nil {
		return nil, err
	}
	dirty := StateDirty
	if st.hasDirty() && m.lockedElsewhere(ctx) {
		dirty = StateRunning
	}
	out := make([]Status, 0, len(m.g.order)+len(st.recs))
	for _, id := range m.g.order {
		s := Status{ID: id, Description: description(m.g.byID[id]), State: StatePending, Dependencies: m.g.deps[id]}
		if r := st.get(id); r != nil {
			s.fill(r, dirty)
			s.Changed = r.Checksum != "" && checksum(m.g.byID[id]) != "" && checksum(m.g.byID[id]) != r.Checksum
		}
		out = append(out, s)
	}
	for i := range st.recs {
		if r := &st.recs[i]; !r.Known {
			s := Status{ID: r.ID, Description: r.Description}
			s.fill(r, dirty)
			if !r.Dirty {
				s.State = StateUnknown
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// fill sets s from r, with the state dirty if r is dirty.
func (s *Status) fill(r *Record, dirty State) {
	s.State = StateApplied
	if r.Dirty {
		s.State = dirty
	}
	s.AppliedAt, s.Duration, s.Seq, s.Baselined = r.AppliedAt, r.Duration, r.Seq, r.Baselined
}

// Pending returns the known migrations that have no row in the version
// table, in the order Up would apply them.
func (m *Manager) Pending(ctx context.Context) ([]Migration, error) {
	st, err := m.load(ctx, m.db)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, id := range m.g.order {
		if st.get(id) == nil {
			ms = append(ms, m.g.byID[id])
		}
	}
	return ms, nil
}

// Plan returns what [Manager.Run] with t would do now, doing nothing: the
// migrations it would apply or roll back, in order. It fails as the run
// would, for example with [ErrDirty] or [ErrUnknownApplied].
func (m *Manager) Plan(ctx context.Context, t Target) ([]Step, error) {
	if err := m.checkTarget(t); err != nil {
		return nil, err
	}
	st, err := m.look(ctx, t.Direction == DirectionUp)
	if err != nil {
		return nil, err
	}
	return m.plan(st, t)
}

// History returns the rows of the version table in the order applied.
func (m *Manager) History(ctx context.Context) ([]Record, error) {
	st, err := m.load(ctx, m.db)
	if err != nil {
		return nil, err
	}
	return slices.Clone(st.recs), nil
}

// statusLockProbe is how long [Manager.Status] waits for the migration lock
// to tell whether a migration recorded dirty is being run right now.
const statusLockProbe = 100 * time.Millisecond

// lockedElsewhere reports whether another migrator holds the lock, trying
// to take it for up to statusLockProbe. It is false when the lock was
// free, and when it could not tell.
func (m *Manager) lockedElsewhere(ctx context.Context) bool {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return false
	}
	defer conn.Close()
	pctx, cancel := context.WithTimeoutCause(ctx, statusLockProbe, lock.ErrTimeout)
	defer cancel()
	if err := m.locker.Lock(pctx, conn); err != nil {
		return errors.Is(err, lock.ErrTimeout)
	}
	if err := m.locker.Unlock(context.WithoutCancel(ctx), conn); err != nil {
		// Never return a connection to the pool that may hold the lock.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return false
}
