package migration

import (
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// graph is the validated dependency graph of a set of migrations.
type graph struct {
	byID  map[string]Migration
	deps  map[string][]string // sorted, without duplicates
	order []string            // topological, ties broken by ID
	index map[string]int      // position of each ID in order
}

// newGraph checks ms and orders them. It reports every problem at once:
// nil migrations, invalid and duplicate IDs, incomplete Funcs, unknown
// dependencies and every cycle.
func newGraph(ms []Migration) (*graph, error) {
	g := &graph{
		byID: make(map[string]Migration, len(ms)),
		deps: make(map[string][]string, len(ms)),
	}
	var errs []error
	for i, m := range ms {
		if m == nil {
			errs = append(errs, fmt.Errorf("%w: migration %d of %d is nil", ErrInvalidID, i+1, len(ms)))
			continue
		}
		id := m.ID()
		if err := checkID(id); err != nil {
			errs = append(errs, fmt.Errorf("%w: migration %d of %d (%T): %v", ErrInvalidID, i+1, len(ms), m, err))
			continue
		}
		if prev, dup := g.byID[id]; dup {
			errs = append(errs, fmt.Errorf("%w: %q is the ID of both %T and %T", ErrDuplicateID, id, prev, m))
			continue
		}
		if c, ok := m.(interface{ check() error }); ok {
			if err := c.check(); err != nil {
				errs = append(errs, err)
			}
		}
		g.byID[id] = m
	}
	for id, m := range g.byID {
		ds := slices.Clone(m.Dependencies())
		slices.Sort(ds)
		ds = slices.Compact(ds)
		g.deps[id] = ds
	}
	// Report missing dependencies in a stable order.
	for _, id := range g.sortedIDs() {
		for _, d := range g.deps[id] {
			if _, ok := g.byID[d]; !ok {
				errs = append(errs, fmt.Errorf("%w: %q depends on %q, which no migration has", ErrMissingDependency, id, d))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := g.sort(); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *graph) sortedIDs() []string {
	ids := make([]string, 0, len(g.byID))
	for id := range g.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// sort orders the graph topologically (Kahn's algorithm), always taking the
// smallest ready ID next, so the same set yields the same order wherever it
// runs. If some migrations are never ready, they lie on or behind cycles,
// and every cycle is reported.
func (g *graph) sort() error {
	indeg := make(map[string]int, len(g.byID))
	dependants := make(map[string][]string, len(g.byID))
	for id, ds := range g.deps {
		indeg[id] = len(ds)
		for _, d := range ds {
			dependants[d] = append(dependants[d], id)
		}
	}
	ready := &idHeap{}
	for id, n := range indeg {
		if n == 0 {
			*ready = append(*ready, id)
		}
	}
	heap.Init(ready)
	g.order = make([]string, 0, len(g.byID))
	for ready.Len() > 0 {
		id := heap.Pop(ready).(string)
		g.order = append(g.order, id)
		for _, c := range dependants[id] {
			if indeg[c]--; indeg[c] == 0 {
				heap.Push(ready, c)
			}
		}
	}
	if len(g.order) < len(g.byID) {
		return g.cycles()
	}
	g.index = make(map[string]int, len(g.order))
	for i, id := range g.order {
		g.index[id] = i
	}
	return nil
}

// cycles finds the strongly connected components of the graph (Tarjan) and
// reports one cycle path through each that has a cycle.
func (g *graph) cycles() error {
	var (
		next    int
		index   = map[string]int{}
		low     = map[string]int{}
		onStack = map[string]bool{}
		stack   []string
		errs    []error
	)
	var connect func(v string)
	connect = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range g.deps[v] {
			if _, seen := index[w]; !seen {
				connect(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var comp []string
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		if len(comp) > 1 || slices.Contains(g.deps[v], v) {
			errs = append(errs, fmt.Errorf("%w: %s", ErrCycle, g.cyclePath(comp)))
		}
	}
	for _, id := range g.sortedIDs() {
		if _, seen := index[id]; !seen {
			connect(id)
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// cyclePath returns a shortest cycle through the smallest ID of a strongly
// connected component, as "a -> b -> a" where "->" reads "depends on".
func (g *graph) cyclePath(comp []string) string {
	in := make(map[string]bool, len(comp))
	for _, id := range comp {
		in[id] = true
	}
	start := slices.Min(comp)
	prev := map[string]string{}
	queue := []string{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range g.deps[v] {
			if !in[w] {
				continue
			}
			if w == start {
				path := []string{start}
				for u := v; u != start; u = prev[u] {
					path = append(path, u)
				}
				path = append(path, start)
				slices.Reverse(path[1 : len(path)-1])
				return strings.Join(quoteAll(path), " -> ")
			}
			if _, seen := prev[w]; !seen {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return strings.Join(quoteAll(comp), ", ") // unreachable for a real component
}

func quoteAll(ids []string) []string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return q
}

// ancestors returns id's transitive dependencies, without id.
func (g *graph) ancestors(id string) map[string]bool {
	seen := map[string]bool{}
	stack := slices.Clone(g.deps[id])
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[v] {
			continue
		}
		seen[v] = true
		stack = append(stack, g.deps[v]...)
	}
	return seen
}

// heads returns the migrations nothing depends on, in order.
func (g *graph) heads() []string {
	depended := map[string]bool{}
	for _, ds := range g.deps {
		for _, d := range ds {
			depended[d] = true
		}
	}
	var hs []string
	for _, id := range g.order {
		if !depended[id] {
			hs = append(hs, id)
		}
	}
	return hs
}

type idHeap []string

func (h idHeap) Len() int           { return len(h) }
func (h idHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h idHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *idHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Graph is a checked and ordered set of migrations, for tools that need the
// graph without a database (listing it, or writing a new migration that
// depends on its heads). [NewManager] builds the same graph.
type Graph struct{ g *graph }

// NewGraph checks ms and orders them, refusing what [NewManager] refuses.
func NewGraph(ms []Migration) (*Graph, error) {
	g, err := newGraph(ms)
	if err != nil {
		return nil, err
	}
	return &Graph{g: g}, nil
}

// Migrations returns the migrations in the order Up applies them.
func (g *Graph) Migrations() []Migration {
	ms := make([]Migration, len(g.g.order))
	for i, id := range g.g.order {
		ms[i] = g.g.byID[id]
	}
	return ms
}

// Heads returns the IDs of the migrations nothing depends on, in order:
// what a new migration would depend on.
func (g *Graph) Heads() []string { return g.g.heads() }

// Dependencies returns the IDs id depends on, sorted, without duplicates;
// nil for an unknown id.
func (g *Graph) Dependencies(id string) []string { return slices.Clone(g.g.deps[id]) }
