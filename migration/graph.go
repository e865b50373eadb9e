package migration

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// graph is the validated dependency graph of a set of migrations.
type graph struct {
	byID  map[string]Migration
	deps  map[string][]string // sorted, without duplicates; absent when nil
	order []string            // topological, ties broken by ID
	fp    fingerprint         // of every ID
}

// newGraph checks ms and orders them. It reports every problem at once:
// nil migrations, invalid and duplicate IDs, incomplete Funcs, unknown
// dependencies and every cycle.
//
// It runs on every process start, so it works on node numbers (positions
// in ids) rather than IDs, and touches as few maps as it can: most
// histories are a chain listed in order, where each migration depends on
// the one before it, and a flat set without dependencies.
func newGraph(ms []Migration) (*graph, error) {
	g := &graph{byID: make(map[string]Migration, len(ms))}
	var (
		errs     []error
		ids      = make([]string, 0, len(ms))   // node -> ID
		raw      = make([][]string, 0, len(ms)) // node -> Dependencies()
		withDeps int
		total    int
	)
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
		// One map operation finds duplicates: the map does not grow.
		known := len(g.byID)
		g.byID[id] = m
		if len(g.byID) == known {
			prev := firstWithID(ms[:i], id)
			g.byID[id] = prev
			errs = append(errs, fmt.Errorf("%w: %q is the ID of both %T and %T", ErrDuplicateID, id, prev, m))
			continue
		}
		if c, ok := m.(interface{ check() error }); ok {
			if err := c.check(); err != nil {
				errs = append(errs, err)
			}
		}
		ids = append(ids, id)
		ds := m.Dependencies()
		raw = append(raw, ds)
		if ds != nil {
			withDeps++
			total += len(ds)
		}
	}
	n := len(ids)

	// Copy every dependency list into one array, sort it unless it is
	// sorted already (the common case), and number the dependencies.
	// depStart[v]:depStart[v+1] are v's dependencies in dep.
	g.deps = make(map[string][]string, withDeps)
	var (
		all      = make([]string, total)
		dep      = make([]int32, 0, total)
		depStart = make([]int32, n+1)
		missing  []int32          // nodes with unknown dependencies
		node     map[string]int32 // ID -> node, built on first need
		off      int
	)
	lookup := func(v int, id string) (int32, bool) {
		if v > 0 && ids[v-1] == id {
			return int32(v - 1), true
		}
		if node == nil {
			node = make(map[string]int32, n)
			for u, id := range ids {
				node[id] = int32(u)
			}
		}
		u, ok := node[id]
		return u, ok
	}
	for v, id := range ids {
		depStart[v] = int32(len(dep))
		if raw[v] == nil {
			continue
		}
		ds := all[off : off+len(raw[v]) : off+len(raw[v])]
		off += len(ds)
		copy(ds, raw[v])
		if !strictlySorted(ds) {
			slices.Sort(ds)
			ds = slices.Compact(ds)
		}
		g.deps[id] = ds
		for _, d := range ds {
			if u, ok := lookup(v, d); ok {
				dep = append(dep, u)
			} else if len(missing) == 0 || missing[len(missing)-1] != int32(v) {
				missing = append(missing, int32(v))
			}
		}
	}
	depStart[n] = int32(len(dep))
	// Report missing dependencies in a stable order.
	slices.SortFunc(missing, func(a, b int32) int { return strings.Compare(ids[a], ids[b]) })
	for _, v := range missing {
		for _, d := range g.deps[ids[v]] {
			if _, ok := g.byID[d]; !ok {
				errs = append(errs, fmt.Errorf("%w: %q depends on %q, which no migration has", ErrMissingDependency, ids[v], d))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := g.sort(ids, dep, depStart); err != nil {
		return nil, err
	}
	for _, id := range ids {
		g.fp.add(id, checksum(g.byID[id]))
	}
	return g, nil
}

// firstWithID returns the first migration in ms whose ID is id.
func firstWithID(ms []Migration, id string) Migration {
	for _, m := range ms {
		if m != nil && m.ID() == id {
			return m
		}
	}
	return nil
}

func strictlySorted(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
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
//
// The nodes are numbered as in ids; depStart[v]:depStart[v+1] are v's
// dependencies in dep. The ready set is the migrations without
// dependencies, sorted once, merged with a heap of those that become
// ready later: in a flat set the heap stays empty, in a chain it holds
// at most one.
func (g *graph) sort(ids []string, dep, depStart []int32) error {
	n := len(ids)
	// Invert the edges: children[childStart[u]:childStart[u+1]] depend on u.
	var (
		indeg      = make([]int32, n)
		childStart = make([]int32, n+1)
		children   = make([]int32, len(dep))
		ready      = make([]int32, 0, n)
	)
	for v := range n {
		indeg[v] = depStart[v+1] - depStart[v]
		if indeg[v] == 0 {
			ready = append(ready, int32(v))
		}
	}
	for _, u := range dep {
		childStart[u]++
	}
	for u := 1; u <= n; u++ {
		childStart[u] += childStart[u-1]
	}
	for v := n - 1; v >= 0; v-- {
		for _, u := range dep[depStart[v]:depStart[v+1]] {
			childStart[u]--
			children[childStart[u]] = int32(v)
		}
	}
	byID := func(a, b int32) int { return strings.Compare(ids[a], ids[b]) }
	slices.SortFunc(ready, byID)
	// The heap shares ready's array, after the roots: no more than n
	// migrations are ever ready.
	roots := ready
	later := idHeap{ids: ids, h: ready[len(ready):]}
	g.order = make([]string, 0, n)
	for len(roots) > 0 || len(later.h) > 0 {
		var v int32
		if len(roots) > 0 && (len(later.h) == 0 || ids[roots[0]] < ids[later.h[0]]) {
			v, roots = roots[0], roots[1:]
		} else {
			v = later.pop()
		}
		g.order = append(g.order, ids[v])
		for _, c := range children[childStart[v]:childStart[v+1]] {
			if indeg[c]--; indeg[c] == 0 {
				later.push(c)
			}
		}
	}
	if len(g.order) < n {
		return g.cycles()
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

// idHeap is a binary min-heap of node numbers ordered by their IDs.
type idHeap struct {
	ids []string
	h   []int32
}

func (q *idHeap) push(v int32) {
	q.h = append(q.h, v)
	h, id := q.h, q.ids[v]
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if q.ids[h[p]] < id {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = v
}

func (q *idHeap) pop() int32 {
	h := q.h
	top := h[0]
	last := h[len(h)-1]
	h = h[:len(h)-1]
	q.h = h
	if len(h) == 0 {
		return top
	}
	id := q.ids[last]
	i := 0
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if r := c + 1; r < len(h) && q.ids[h[r]] < q.ids[h[c]] {
			c = r
		}
		if id < q.ids[h[c]] {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = last
	return top
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
