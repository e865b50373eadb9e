package migration_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/strata-go/strata/migration"
)

// TestDownCount: Target.Count rolls back the newest Count applied
// migrations, in the reverse of the order applied, and refuses what it
// cannot do before touching anything.
func TestDownCount(t *testing.T) {
	ms := []migration.Migration{table("0001"), table("0002", "0001"), table("0003", "0001"), table("0004", "0002", "0003")}
	applied := func(t *testing.T, m *migration.Manager) []string {
		t.Helper()
		h, err := m.History(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range h {
			ids = append(ids, r.ID)
		}
		return ids
	}
	tests := []struct {
		name      string
		target    migration.Target
		rolled    []string
		remaining []string
		err       string
	}{
		{name: "two", target: migration.Target{Direction: migration.DirectionDown, Count: 2}, rolled: []string{"0004", "0003"}, remaining: []string{"0001", "0002"}},
		{name: "one", target: migration.Target{Direction: migration.DirectionDown, Count: 1}, rolled: []string{"0004"}, remaining: []string{"0001", "0002", "0003"}},
		{name: "more than applied", target: migration.Target{Direction: migration.DirectionDown, Count: 10}, rolled: []string{"0004", "0003", "0002", "0001"}},
		{name: "negative", target: migration.Target{Direction: migration.DirectionDown, Count: -1}, err: "negative", remaining: []string{"0001", "0002", "0003", "0004"}},
		{name: "with All", target: migration.Target{Direction: migration.DirectionDown, Count: 2, All: true}, err: "excludes", remaining: []string{"0001", "0002", "0003", "0004"}},
		{name: "with ID", target: migration.Target{Direction: migration.DirectionDown, Count: 2, ID: "0001"}, err: "excludes", remaining: []string{"0001", "0002", "0003", "0004"}},
		{name: "up", target: migration.Target{Direction: migration.DirectionUp, Count: 2}, err: "DirectionDown", remaining: []string{"0001", "0002", "0003", "0004"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, openDB(t), ms)
			if _, err := m.Up(t.Context()); err != nil {
				t.Fatal(err)
			}
			steps, perr := m.Plan(t.Context(), tt.target)
			res, err := m.Run(t.Context(), tt.target)
			if tt.err != "" {
				if err == nil || perr == nil {
					t.Fatalf("Run: %v, Plan: %v; want errors", err, perr)
				}
			} else if err != nil || perr != nil {
				t.Fatalf("Run: %v, Plan: %v", err, perr)
			}
			var rolled, planned []string
			for _, r := range res {
				rolled = append(rolled, r.ID)
			}
			for _, s := range steps {
				planned = append(planned, s.ID)
			}
			if !slices.Equal(rolled, tt.rolled) || !slices.Equal(planned, tt.rolled) {
				t.Errorf("rolled back %q, planned %q; want %q", rolled, planned, tt.rolled)
			}
			if got := applied(t, m); !slices.Equal(got, tt.remaining) {
				t.Errorf("applied after: %q, want %q", got, tt.remaining)
			}
		})
	}

	// A migration a newer binary applied, among the last two: refused,
	// nothing rolled back.
	db := openDB(t)
	if _, err := newManager(t, db, append(slices.Clone(ms), table("0005", "0004"))).Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, db, ms)
	_, err := m.Run(t.Context(), migration.Target{Direction: migration.DirectionDown, Count: 2})
	if !errors.Is(err, migration.ErrUnknownApplied) {
		t.Fatalf("Count over an unknown migration: %v, want ErrUnknownApplied", err)
	}
	if got := applied(t, m); len(got) != 5 {
		t.Errorf("applied after the refusal: %q", got)
	}
}
