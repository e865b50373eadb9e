package migration_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/migration"
)

// node is a migration that does nothing; only its place in the graph counts.
func node(id string, deps ...string) migration.Migration {
	return &migration.Func{
		Name:     id,
		Requires: deps,
		UpFn:     func(context.Context, *migration.Tx) error { return nil },
		DownFn:   func(context.Context, *migration.Tx) error { return nil },
	}
}

func order(m *migration.Manager) []string {
	var ids []string
	for _, mg := range m.Migrations() {
		ids = append(ids, mg.ID())
	}
	return ids
}

func TestOrder(t *testing.T) {
	db := openDB(t)
	tests := []struct {
		name string
		ms   []migration.Migration
		want []string
	}{
		{
			name: "diamond",
			ms:   []migration.Migration{node("d", "b", "c"), node("c", "a"), node("b", "a"), node("a")},
			want: []string{"a", "b", "c", "d"},
		},
		{
			name: "independent migrations sort by ID",
			ms:   []migration.Migration{node("z"), node("x"), node("y")},
			want: []string{"x", "y", "z"},
		},
		{
			name: "the graph, not the ID, decides",
			ms:   []migration.Migration{node("0001_late", "0002_early"), node("0002_early")},
			want: []string{"0002_early", "0001_late"},
		},
		{
			name: "ready migrations are taken smallest first",
			// c is ready only after b; a2 is ready at once but sorts after a1.
			ms:   []migration.Migration{node("b"), node("a1", "b"), node("a2"), node("c", "a1")},
			want: []string{"a2", "b", "a1", "c"},
		},
		{
			name: "duplicate dependencies count once",
			ms:   []migration.Migration{node("b", "a", "a"), node("a")},
			want: []string{"a", "b"},
		},
		{
			name: "empty set",
			ms:   nil,
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Whatever order the slice comes in, the order is the same.
			for range 20 {
				ms := slices.Clone(tt.ms)
				rand.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
				m, err := migration.NewManager(db, dialectFor(t), ms)
				if err != nil {
					t.Fatal(err)
				}
				if got := order(m); !slices.Equal(got, tt.want) {
					t.Fatalf("order = %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestNewManagerRefuses(t *testing.T) {
	db := openDB(t)
	tests := []struct {
		name     string
		ms       []migration.Migration
		sentinel []error
		mention  []string // every culprit must be named
	}{
		{
			name:     "duplicate IDs",
			ms:       []migration.Migration{node("a"), node("b"), node("a")},
			sentinel: []error{migration.ErrDuplicateID},
			mention:  []string{`"a"`},
		},
		{
			name:     "empty ID",
			ms:       []migration.Migration{node("a"), node("")},
			sentinel: []error{migration.ErrInvalidID},
			mention:  []string{"empty id", "migration 2 of 2"},
		},
		{
			name:     "ID with surrounding space",
			ms:       []migration.Migration{node(" a")},
			sentinel: []error{migration.ErrInvalidID},
			mention:  []string{`" a"`},
		},
		{
			name:     "nil migration",
			ms:       []migration.Migration{node("a"), nil},
			sentinel: []error{migration.ErrInvalidID},
			mention:  []string{"nil"},
		},
		{
			name:     "unknown dependencies",
			ms:       []migration.Migration{node("a", "x"), node("b", "y", "a")},
			sentinel: []error{migration.ErrMissingDependency},
			mention:  []string{`"a" depends on "x"`, `"b" depends on "y"`},
		},
		{
			name:     "cycle shows its path",
			ms:       []migration.Migration{node("a", "c"), node("b", "a"), node("c", "b"), node("d", "a")},
			sentinel: []error{migration.ErrCycle},
			mention:  []string{`"a" -> "c" -> "b" -> "a"`},
		},
		{
			name:     "self dependency",
			ms:       []migration.Migration{node("a", "a")},
			sentinel: []error{migration.ErrCycle},
			mention:  []string{`"a" -> "a"`},
		},
		{
			name:     "two separate cycles",
			ms:       []migration.Migration{node("a", "b"), node("b", "a"), node("x", "y"), node("y", "x")},
			sentinel: []error{migration.ErrCycle},
			mention:  []string{`"a" -> "b" -> "a"`, `"x" -> "y" -> "x"`},
		},
		{
			name:     "every problem at once",
			ms:       []migration.Migration{node("a"), node("a"), node(""), node("b", "missing")},
			sentinel: []error{migration.ErrDuplicateID, migration.ErrInvalidID, migration.ErrMissingDependency},
			mention:  []string{`"a"`, "empty id", `"missing"`},
		},
		{
			name:     "Func without Down",
			ms:       []migration.Migration{&migration.Func{Name: "a", UpFn: func(context.Context, *migration.Tx) error { return nil }}},
			mention:  []string{`"a"`, "DownFn"},
			sentinel: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := migration.NewManager(db, dialectFor(t), tt.ms)
			if err == nil {
				t.Fatalf("NewManager succeeded with order %q", order(m))
			}
			for _, s := range tt.sentinel {
				if !errors.Is(err, s) {
					t.Errorf("error does not match %v: %v", s, err)
				}
			}
			for _, s := range tt.mention {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not mention %s: %v", s, err)
				}
			}
		})
	}
}

func TestNewManagerRefusesBadArguments(t *testing.T) {
	db := openDB(t)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"nil db", func() error { _, err := migration.NewManager(nil, dialectFor(t), nil); return err }, "nil *sql.DB"},
		{"nil dialect", func() error { _, err := migration.NewManager(db, nil, nil); return err }, "nil dialect"},
		{"empty table", func() error {
			_, err := migration.NewManager(db, dialectFor(t), nil, migration.WithTable(""))
			return err
		}, "invalid table name"},
		{"table with a quote", func() error {
			_, err := migration.NewManager(db, dialectFor(t), nil, migration.WithTable(`x"; DROP TABLE y; --`))
			return err
		}, "invalid table name"},
		{"negative lock timeout", func() error {
			_, err := migration.NewManager(db, dialectFor(t), nil, migration.WithLockTimeout(-1))
			return err
		}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func BenchmarkOrder10000(b *testing.B) {
	db := openDB(b)
	// A wide, deep graph: each migration depends on up to three earlier ones.
	ms := make([]migration.Migration, 10000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range ms {
		var deps []string
		for range min(i, 3) {
			deps = append(deps, fmt.Sprintf("m%05d", r.IntN(i)))
		}
		ms[i] = node(fmt.Sprintf("m%05d", i), deps...)
	}
	r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	b.ResetTimer()
	for b.Loop() {
		if _, err := migration.NewManager(db, dialectFor(b), ms); err != nil {
			b.Fatal(err)
		}
	}
}

func TestGraph(t *testing.T) {
	g, err := migration.NewGraph([]migration.Migration{node("d", "b", "c", "b"), node("c", "a"), node("b", "a"), node("a"), node("e", "a")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range g.Migrations() {
		ids = append(ids, m.ID())
	}
	wantIDs(t, "order", ids, []string{"a", "b", "c", "d", "e"})
	wantIDs(t, "heads", g.Heads(), []string{"d", "e"})
	wantIDs(t, "dependencies of d", g.Dependencies("d"), []string{"b", "c"})
	if deps := g.Dependencies("nope"); deps != nil {
		t.Errorf("dependencies of an unknown ID = %q", deps)
	}
	if _, err := migration.NewGraph([]migration.Migration{node("a", "b"), node("b", "a")}); !errors.Is(err, migration.ErrCycle) {
		t.Errorf("NewGraph with a cycle = %v, want ErrCycle", err)
	}
}
