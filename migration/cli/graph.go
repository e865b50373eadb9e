package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/strata-go/strata/migration"
)

func runGraph(_ context.Context, e *env) error {
	g, err := migration.NewGraph(e.ms)
	if err != nil {
		return err
	}
	ms := g.Migrations()
	heads := map[string]bool{}
	for _, h := range g.Heads() {
		heads[h] = true
	}
	if e.f.dot {
		if e.g.json {
			return usageErrorf("graph: --dot and --json exclude each other")
		}
		return e.writeDOT(g, heads)
	}
	if e.g.json {
		dependants := map[string][]string{}
		for _, mg := range ms {
			for _, d := range g.Dependencies(mg.ID()) {
				dependants[d] = append(dependants[d], mg.ID())
			}
		}
		out := make([]jsonNode, len(ms))
		for i, mg := range ms {
			out[i] = jsonNode{ID: mg.ID(), Description: describe(mg), Dependencies: nonNil(g.Dependencies(mg.ID())),
				Dependants: nonNil(dependants[mg.ID()]), Head: heads[mg.ID()]}
		}
		return e.writeJSON(out)
	}
	if len(ms) == 0 {
		fmt.Fprintln(e.stdout, "no migrations")
		return nil
	}
	dependants := map[string]int{}
	for _, mg := range ms {
		for _, d := range mg.Dependencies() {
			dependants[d]++
		}
	}
	tw := e.table("ID", "DEPENDS ON", "NOTE")
	for _, mg := range ms {
		deps := g.Dependencies(mg.ID())
		var notes []string
		if len(deps) > 1 {
			notes = append(notes, "merge")
		}
		if n := dependants[mg.ID()]; n > 1 {
			notes = append(notes, fmt.Sprintf("branches (%d)", n))
		}
		if heads[mg.ID()] {
			notes = append(notes, "head")
		}
		dep := strings.Join(deps, ", ")
		if dep == "" {
			dep = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", mg.ID(), dep, strings.Join(notes, ", "))
	}
	return tw.Flush()
}

// writeDOT prints the graph in Graphviz DOT: an edge from each migration to
// the migrations that depend on it; heads drawn bold.
func (e *env) writeDOT(g *migration.Graph, heads map[string]bool) error {
	ms := g.Migrations()
	var b strings.Builder
	b.WriteString("digraph migrations {\n\trankdir=LR;\n\tnode [shape=box, fontname=\"monospace\"];\n")
	for _, mg := range ms {
		label := mg.ID()
		if d := describe(mg); d != "" {
			label += "\n" + d
		}
		attrs := "label=" + dotQuote(label)
		if heads[mg.ID()] {
			attrs += ", style=bold"
		}
		fmt.Fprintf(&b, "\t%s [%s];\n", dotQuote(mg.ID()), attrs)
	}
	for _, mg := range ms {
		for _, d := range g.Dependencies(mg.ID()) {
			fmt.Fprintf(&b, "\t%s -> %s;\n", dotQuote(d), dotQuote(mg.ID()))
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(e.stdout, b.String())
	return err
}

var dotEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func dotQuote(s string) string { return `"` + dotEscaper.Replace(s) + `"` }

// jsonNode is one element of graph --json, in the order up applies them.
type jsonNode struct {
	ID           string   `json:"id"`
	Description  string   `json:"description"`
	Dependencies []string `json:"dependencies"`
	Dependants   []string `json:"dependants"`
	Head         bool     `json:"head"`
}
