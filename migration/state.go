package migration

import (
	"context"
	"slices"
	"time"

	"github.com/strata-go/strata/dialect"
)

// state is the version table as read, kept up to date in memory as a run
// changes it. It changes only after the database did.
type state struct {
	recs []Record       // in seq order
	pos  map[string]int // index into recs
	fp   fingerprint    // of the clean rows, with their recorded checksums

	tbl  *store          // the version table, as the run addresses it
	sess dialect.Session // the locked connection's session as saved, if the dialect keeps one
	ran  bool            // migration code ran on the locked connection
}

func newState(recs []Record, known func(string) bool) *state {
	st := &state{recs: recs, pos: make(map[string]int, len(recs))}
	for i := range st.recs {
		r := &st.recs[i]
		r.Known = known(r.ID)
		st.pos[r.ID] = i
		if !r.Dirty {
			st.fp.add(r.ID, r.Checksum)
		}
	}
	return st
}

// get returns the row of id, or nil.
func (st *state) get(id string) *Record {
	if i, ok := st.pos[id]; ok {
		return &st.recs[i]
	}
	return nil
}

func (st *state) hasDirty() bool {
	return slices.ContainsFunc(st.recs, func(r Record) bool { return r.Dirty })
}

func (st *state) head() *Record {
	if len(st.recs) == 0 {
		return nil
	}
	return &st.recs[len(st.recs)-1]
}

// next returns the row that applying mg would add, changing nothing. A
// clean row carries the fingerprint of the applied set it completes; a
// dirty one none.
func (st *state) next(mg Migration, d time.Duration, dirty bool) Record {
	var seq int64 = 1
	if h := st.head(); h != nil {
		seq = h.Seq + 1
	}
	r := Record{
		ID:          mg.ID(),
		Seq:         seq,
		Description: description(mg),
		AppliedAt:   time.Now().UTC(),
		Duration:    d,
		Dirty:       dirty,
		Known:       true,
		Checksum:    checksum(mg),
	}
	if !dirty {
		fp := st.fp
		fp.add(r.ID, r.Checksum)
		r.fingerprint = fp.String()
	}
	return r
}

// push appends r, as written to the database.
func (st *state) push(r Record) {
	st.pos[r.ID] = len(st.recs)
	st.recs = append(st.recs, r)
	if !r.Dirty {
		st.fp.add(r.ID, r.Checksum)
	}
}

// clone returns a copy of st that shares nothing with it.
func (st *state) clone() *state {
	c := &state{recs: slices.Clone(st.recs), pos: make(map[string]int, len(st.pos)), fp: st.fp,
		tbl: st.tbl, sess: st.sess, ran: st.ran}
	for id, i := range st.pos {
		c.pos[id] = i
	}
	return c
}

// afterRemove returns, without changing st, the row that would be the
// newest once the row of id is removed, and the fingerprint of the applied
// set then.
func (st *state) afterRemove(id string) (*Record, string) {
	fp := st.fp
	if r := st.get(id); r != nil && !r.Dirty {
		fp.remove(id, r.Checksum)
	}
	for i := len(st.recs) - 1; i >= 0; i-- {
		if st.recs[i].ID != id {
			return &st.recs[i], fp.String()
		}
	}
	return nil, fp.String()
}

// remove deletes the row of id, as deleted from the database: O(1) for the
// newest row, which is what rollbacks remove.
func (st *state) remove(id string) {
	i, ok := st.pos[id]
	if !ok {
		return
	}
	if !st.recs[i].Dirty {
		st.fp.remove(id, st.recs[i].Checksum)
	}
	delete(st.pos, id)
	st.recs = slices.Delete(st.recs, i, i+1)
	for j := i; j < len(st.recs); j++ {
		st.pos[st.recs[j].ID] = j
	}
}

func (st *state) markDirty(id string) {
	if r := st.get(id); r != nil && !r.Dirty {
		r.Dirty = true
		st.fp.remove(id, r.Checksum)
	}
}

func (st *state) markClean(id string, d time.Duration) {
	if r := st.get(id); r != nil && r.Dirty {
		r.Dirty = false
		r.Duration = d
		st.fp.add(id, r.Checksum)
		r.fingerprint = st.fp.String()
	}
}

// setChecksum sets the recorded checksum of the row of id, as written to
// the database.
func (st *state) setChecksum(id, sum string) {
	r := st.get(id)
	if r == nil || r.Checksum == sum {
		return
	}
	if !r.Dirty {
		st.fp.remove(id, r.Checksum)
		st.fp.add(id, sum)
	}
	r.Checksum = sum
}

// load reads the version table as configured, unqualified.
func (m *Manager) load(ctx context.Context, q dialect.Execer) (*state, error) {
	return m.loadFrom(ctx, q, m.tbl)
}

// look reads the version table without the lock, as configured. If
// foreign is set and strata has recorded nothing, it refuses a database
// that another migration tool manages ([ErrForeignVersionTable]).
func (m *Manager) look(ctx context.Context, foreign bool) (*state, error) {
	st, err := m.load(ctx, m.db)
	if err != nil {
		return nil, err
	}
	if foreign && len(st.recs) == 0 {
		if err := m.foreignErr(ctx, m.db); err != nil {
			return nil, err
		}
	}
	return st, nil
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
