package cli

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/migration"
)

// graphOnly checks and orders ms without a database, for the commands that
// need the graph only (create, graph): the manager it returns must not run.
func graphOnly(ms []migration.Migration) (*migration.Manager, error) {
	return migration.NewManager(sql.OpenDB(noDB{}), noDialect{}, ms)
}

var errNoDB = errors.New("no database: this command works on the migration graph only")

// noDB is a connector that never connects.
type noDB struct{}

func (noDB) Connect(context.Context) (driver.Conn, error) { return nil, errNoDB }
func (noDB) Driver() driver.Driver                        { return noDB{} }
func (noDB) Open(string) (driver.Conn, error)             { return nil, errNoDB }

// noDialect satisfies NewManager for graphOnly.
type noDialect struct{}

func (noDialect) Name() string                    { return "none" }
func (noDialect) QuoteIdent(name string) string   { return dialect.QuoteDouble(name) }
func (noDialect) Placeholder(int) string          { return "?" }
func (noDialect) TransactionalDDL() bool          { return false }
func (noDialect) VersionTableDDL(string) []string { return nil }
func (noDialect) HasTable(context.Context, dialect.Execer, string) (bool, error) {
	return false, errNoDB
}
func (noDialect) Locker(dialect.LockOptions) lock.Locker { return nil }

func runGraph(_ context.Context, e *env) error {
	m, err := graphOnly(e.ms)
	if err != nil {
		return err
	}
	ms := m.Migrations()
	heads := map[string]bool{}
	for _, h := range m.Heads() {
		heads[h] = true
	}
	if e.f.dot {
		return e.writeDOT(ms, heads)
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
		deps := dedupe(mg.Dependencies())
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

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// writeDOT prints the graph in Graphviz DOT: an edge from each migration to
// the migrations that depend on it; heads drawn bold.
func (e *env) writeDOT(ms []migration.Migration, heads map[string]bool) error {
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
		for _, d := range dedupe(mg.Dependencies()) {
			fmt.Fprintf(&b, "\t%s -> %s;\n", dotQuote(d), dotQuote(mg.ID()))
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(e.stdout, b.String())
	return err
}

var dotEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func dotQuote(s string) string { return `"` + dotEscaper.Replace(s) + `"` }
