package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/schema"
)

// jsonDrift is what drift --json prints.
type jsonDrift struct {
	Drifted    bool         `json:"drifted"`
	Migration  string       `json:"migration"`
	Seq        int64        `json:"seq"`
	RecordedAt time.Time    `json:"recorded_at"`
	Changes    []jsonChange `json:"changes"`
	Kept       []jsonKept   `json:"kept,omitempty"`
}

// jsonKept is one element of the kept of drift --json: a
// [migration.KeptDrift], drift found before an earlier run.
type jsonKept struct {
	DetectedAt time.Time `json:"detected_at"`
	Migration  string    `json:"migration"`
	Seq        int64     `json:"seq"`
	Report     string    `json:"report"`
}

// jsonChange is one element of the changes of drift --json: a
// [schema.Change].
type jsonChange struct {
	Op         string      `json:"op"`
	Kind       string      `json:"kind"`
	Table      string      `json:"table,omitempty"`
	Name       string      `json:"name,omitempty"`
	Object     string      `json:"object"`
	Definition string      `json:"definition,omitempty"`
	Fields     []jsonField `json:"fields,omitempty"`
	Text       string      `json:"text"`
}

// jsonField is one changed property of a jsonChange.
type jsonField struct {
	Name string `json:"name"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

func driftJSON(r *migration.DriftReport) jsonDrift {
	j := jsonDrift{Drifted: r.Drifted(), Migration: r.Migration, Seq: r.Seq, RecordedAt: r.RecordedAt.UTC(),
		Changes: make([]jsonChange, len(r.Diff.Changes))}
	for i, c := range r.Diff.Changes {
		jc := jsonChange{Op: string(c.Op), Kind: c.Kind, Table: c.Table, Name: c.Name, Object: c.Object(),
			Definition: c.Definition, Text: c.String()}
		for _, f := range c.Fields {
			jc.Fields = append(jc.Fields, jsonField{Name: f.Name, Old: f.Old, New: f.New})
		}
		j.Changes[i] = jc
	}
	for _, k := range r.Kept {
		j.Kept = append(j.Kept, jsonKept{DetectedAt: k.DetectedAt.UTC(), Migration: k.Migration, Seq: k.Seq, Report: k.Report})
	}
	return j
}

func runDrift(ctx context.Context, e *env) error {
	if e.f.accept {
		return e.acceptDrift(ctx)
	}
	rep, err := e.m.Drift(ctx)
	if errors.Is(err, migration.ErrNoSchema) {
		e.noSchemaHint = e.noSchemaAdvice(ctx)
	}
	if err != nil {
		return err
	}
	if e.g.json {
		if err := e.writeJSON(driftJSON(rep)); err != nil {
			return err
		}
	} else if rep.Drifted() {
		fmt.Fprintln(e.stdout, rep.String())
	} else {
		fmt.Fprintf(e.stdout, "no drift since %s (recorded %s)\n", rep.Migration, formatTime(rep.RecordedAt))
	}
	if rep.Drifted() {
		msg := ""
		if !e.g.json {
			msg = fmt.Sprintf("the schema has drifted; once the changes are intended, '%s drift --accept' records the live schema as the expected one", e.c.prog)
		}
		return &exitError{code: ExitDrift, msg: msg}
	}
	return nil
}

// acceptDrift records the live schema as the expected one, after showing
// what it accepts and asking for confirmation.
func (e *env) acceptDrift(ctx context.Context) error {
	rep, err := e.m.Drift(ctx)
	switch {
	case errors.Is(err, migration.ErrNoSchema):
		e.noSchemaHint = e.noSchemaAdvice(ctx)
		// Nothing recorded for the newest applied migration (a
		// baseline, say): RecordSchema records the first schema. It
		// cannot without an inspector or an applied migration: say so
		// before asking.
		if _, ok := e.m.Dialect().(schema.Inspector); !ok {
			return err
		}
		if h, herr := e.m.History(ctx); herr != nil || len(h) == 0 {
			return err
		}
		rep = nil
	case err != nil:
		return err
	case !rep.Drifted():
		if e.g.json {
			return e.writeJSON(jsonAccept{Since: rep.Migration, Changes: []jsonChange{}})
		}
		fmt.Fprintf(e.stdout, "nothing to accept: no drift since %s (recorded %s)\n", rep.Migration, formatTime(rep.RecordedAt))
		return nil
	}
	question := "Record the live schema as the expected one?"
	if rep != nil {
		question = fmt.Sprintf("Accept %s and record the live schema as the expected one?", accepted(rep))
	}
	if !e.g.yes && e.interactive() {
		if rep != nil {
			fmt.Fprintln(e.stderr, rep.String())
		} else {
			fmt.Fprintln(e.stderr, "No schema is recorded for the newest applied migration: the live schema will become the expected one.")
		}
	}
	if err := e.confirm(question); err != nil {
		return err
	}
	// What is recorded is the schema as it is now, under the lock: were
	// it changed again since the comparison, that change is accepted too.
	if err := e.m.RecordSchema(ctx); err != nil {
		return err
	}
	if e.g.json {
		out := jsonAccept{Recorded: true, Changes: []jsonChange{}}
		if rep != nil {
			out.Since, out.Changes = rep.Migration, driftJSON(rep).Changes
		}
		return e.writeJSON(out)
	}
	if rep == nil {
		fmt.Fprintln(e.stdout, "recorded the live schema as the expected one")
		return nil
	}
	if rep.Diff.Empty() {
		fmt.Fprintf(e.stdout, "recorded the live schema as the expected one, accepting %s\n", accepted(rep))
		return nil
	}
	fmt.Fprintf(e.stdout, "recorded the live schema as the expected one, accepting %s since %s:\n%s\n",
		accepted(rep), rep.Migration, rep.Diff)
	return nil
}

// jsonAccept is what drift --accept prints with --json: whether it
// recorded the live schema, and the changes it accepted since which
// migration's run.
type jsonAccept struct {
	Recorded bool         `json:"recorded"`
	Since    string       `json:"since,omitempty"`
	Changes  []jsonChange `json:"changes"`
}

// noSchemaAdvice says how to get a schema recorded, for a database that
// has none to compare with: what to run depends on whether anything is
// applied and whether up would run at all.
func (e *env) noSchemaAdvice(ctx context.Context) string {
	if _, ok := e.m.Dialect().(schema.Inspector); !ok {
		return "" // the error says the dialect cannot describe schemas
	}
	h, err := e.m.History(ctx)
	if err != nil {
		return ""
	}
	if len(h) == 0 {
		return fmt.Sprintf("no migration is applied yet: run '%s up'; every run records the schema it leaves", e.c.prog)
	}
	pending, err := e.m.Pending(ctx)
	if err != nil {
		return ""
	}
	if len(pending) > 0 {
		return fmt.Sprintf("run '%s up', which records the schema it leaves, or, once the live schema is as it should be, '%s drift --accept'",
			e.c.prog, e.c.prog)
	}
	return fmt.Sprintf("nothing is pending, so '%s up' would not record one: once the live schema is as it should be, run '%s drift --accept'",
		e.c.prog, e.c.prog)
}

// accepted says what accepting rep accepts: its changes, and the drift
// found before earlier runs.
func accepted(rep *migration.DriftReport) string {
	var parts []string
	if !rep.Diff.Empty() {
		parts = append(parts, plural(len(rep.Diff.Changes), "change"))
	}
	if len(rep.Kept) > 0 {
		parts = append(parts, plural(len(rep.Kept), "drift")+" found before earlier runs")
	}
	return strings.Join(parts, " and ")
}
