package migration

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// checkTarget refuses a target that contradicts itself or names an
// unknown migration.
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
