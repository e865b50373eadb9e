package migration_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
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

// randomGraph returns n migrations with short random IDs, so that IDs
// share prefixes and their order is unrelated to the graph's. Each
// depends on a few migrations placed before it in a hidden order, some
// twice; with cycles, some also depend on one placed after, and with
// missing, some on an ID no migration has. The migrations come shuffled.
func randomGraph(r *rand.Rand, n int, cycles, missing bool) []migration.Migration {
	seen := map[string]bool{}
	ids := make([]string, n)
	for i := range ids {
		for ids[i] == "" || seen[ids[i]] {
			b := make([]byte, 1+r.IntN(4))
			for j := range b {
				b[j] = "ab0_"[r.IntN(4)]
			}
			ids[i] = string(b)
		}
		seen[ids[i]] = true
	}
	ms := make([]migration.Migration, n)
	for i, id := range ids {
		var deps []string
		for range r.IntN(min(i, 4) + 1) {
			deps = append(deps, ids[r.IntN(i)])
		}
		if cycles && r.IntN(10) == 0 {
			deps = append(deps, ids[i+r.IntN(n-i)])
		}
		if missing && r.IntN(10) == 0 {
			deps = append(deps, "zz"+strconv.Itoa(r.IntN(3)))
		}
		r.Shuffle(len(deps), func(i, j int) { deps[i], deps[j] = deps[j], deps[i] })
		ms[i] = node(id, deps...)
	}
	r.Shuffle(n, func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	return ms
}

// referenceOrder is Kahn's algorithm at its plainest: it takes the
// smallest ID whose dependencies are all placed, until none is left. It
// returns the IDs placed; fewer than in deps means a cycle.
func referenceOrder(deps map[string][]string) []string {
	placed := map[string]bool{}
	var order []string
	for {
		next := ""
		for id, ds := range deps {
			if placed[id] || (next != "" && id > next) {
				continue
			}
			if !slices.ContainsFunc(ds, func(d string) bool { return !placed[d] }) {
				next = id
			}
		}
		if next == "" {
			return order
		}
		placed[next] = true
		order = append(order, next)
	}
}

// checkAgainstReference builds a graph of ms and checks it against
// referenceOrder: the same order, dependencies and heads, or the same
// missing dependencies in the same order, or a cycle where the reference
// finds one.
func checkAgainstReference(t *testing.T, ms []migration.Migration) {
	t.Helper()
	deps := map[string][]string{}
	for _, m := range ms {
		ds := slices.Sorted(slices.Values(m.Dependencies()))
		deps[m.ID()] = slices.Compact(ds)
	}
	var missing []string
	for _, id := range slices.Sorted(maps.Keys(deps)) {
		for _, d := range deps[id] {
			if _, ok := deps[d]; !ok {
				missing = append(missing, fmt.Sprintf("%v: %q depends on %q, which no migration has", migration.ErrMissingDependency, id, d))
			}
		}
	}
	g, err := migration.NewGraph(ms)
	if len(missing) > 0 {
		if err == nil || err.Error() != strings.Join(missing, "\n") {
			t.Fatalf("error = %v, want\n%s", err, strings.Join(missing, "\n"))
		}
		return
	}
	want := referenceOrder(deps)
	if len(want) < len(deps) {
		if !errors.Is(err, migration.ErrCycle) {
			t.Fatalf("error = %v, want ErrCycle (the reference placed %d of %d)", err, len(want), len(deps))
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range g.Migrations() {
		got = append(got, m.ID())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order = %q, want %q", got, want)
	}
	depended := map[string]bool{}
	for id, ds := range deps {
		if got := g.Dependencies(id); !slices.Equal(got, ds) {
			t.Fatalf("dependencies of %q = %q, want %q", id, got, ds)
		}
		for _, d := range ds {
			depended[d] = true
		}
	}
	wantHeads := slices.DeleteFunc(slices.Clone(want), func(id string) bool { return depended[id] })
	if got := g.Heads(); !slices.Equal(got, wantHeads) {
		t.Fatalf("heads = %q, want %q", got, wantHeads)
	}
}

func TestGraphMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 2000 {
		n := r.IntN(60)
		cycles, missing := i%3 == 1, i%5 == 2
		ms := randomGraph(r, n, cycles, missing)
		t.Run(fmt.Sprintf("%d_n%d_cycles%v_missing%v", i, n, cycles, missing), func(t *testing.T) {
			checkAgainstReference(t, ms)
		})
	}
}

func FuzzGraph(f *testing.F) {
	f.Add(uint64(1), uint8(10), false, false)
	f.Add(uint64(2), uint8(50), true, false)
	f.Add(uint64(3), uint8(50), false, true)
	f.Add(uint64(4), uint8(0), false, false)
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, cycles, missing bool) {
		checkAgainstReference(t, randomGraph(rand.New(rand.NewPCG(seed, 0)), int(n), cycles, missing))
	})
}
