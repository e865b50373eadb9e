package migration

import (
	"context"
	"slices"
)

// Status reports every known migration in order, then the rows of the
// version table this binary does not know ([StateUnknown]). It takes no
// lock: a migration another process is running at that moment shows as
// dirty.
func (m *Manager) Status(ctx context.Context) ([]Status, error) {
	st, err := m.load(ctx, m.db)
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(m.g.order)+len(st.recs))
	for _, id := range m.g.order {
		s := Status{ID: id, Description: description(m.g.byID[id]), State: StatePending, Dependencies: m.g.deps[id]}
		if r := st.get(id); r != nil {
			s.fill(r)
		}
		out = append(out, s)
	}
	for i := range st.recs {
		if r := &st.recs[i]; !r.Known {
			s := Status{ID: r.ID, Description: r.Description}
			s.fill(r)
			if !r.Dirty {
				s.State = StateUnknown
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func (s *Status) fill(r *Record) {
	s.State = StateApplied
	if r.Dirty {
		s.State = StateDirty
	}
	s.AppliedAt, s.Duration, s.Seq = r.AppliedAt, r.Duration, r.Seq
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
	st, err := m.load(ctx, m.db)
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
