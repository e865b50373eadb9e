package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/strata-go/strata/migration"
)

// The --json forms. Field names are part of the CLI's interface.

// jsonStatus is one element of status --json.
type jsonStatus struct {
	ID           string     `json:"id"`
	Description  string     `json:"description"`
	State        string     `json:"state"`
	Dependencies []string   `json:"dependencies"`
	AppliedAt    *time.Time `json:"applied_at,omitempty"`
	DurationUS   int64      `json:"duration_us"`
	Seq          int64      `json:"seq,omitempty"`
	Baselined    bool       `json:"baselined"`
	Changed      bool       `json:"changed,omitempty"`
}

func statusJSON(s migration.Status) jsonStatus {
	j := jsonStatus{ID: s.ID, Description: s.Description, State: string(s.State), Dependencies: nonNil(s.Dependencies),
		DurationUS: s.Duration.Microseconds(), Seq: s.Seq, Baselined: s.Baselined, Changed: s.Changed}
	if s.State != migration.StatePending && !s.AppliedAt.IsZero() {
		at := s.AppliedAt.UTC()
		j.AppliedAt = &at
	}
	return j
}

// jsonMigration is one element of pending --json.
type jsonMigration struct {
	ID           string   `json:"id"`
	Description  string   `json:"description"`
	Dependencies []string `json:"dependencies"`
}

// jsonStep is one element of plan --json.
type jsonStep struct {
	ID             string `json:"id"`
	Description    string `json:"description"`
	Direction      string `json:"direction"`
	BackupRequired bool   `json:"backup_required"`
	NoTransaction  bool   `json:"no_transaction"`
	// With plan --sql:
	SQL         []string `json:"sql,omitempty"`
	Preview     string   `json:"preview,omitempty"`
	PreviewNote string   `json:"preview_note,omitempty"`
}

// jsonRecord is one element of history --json.
type jsonRecord struct {
	Seq         int64     `json:"seq"`
	ID          string    `json:"id"`
	Description string    `json:"description"`
	AppliedAt   time.Time `json:"applied_at"`
	DurationUS  int64     `json:"duration_us"`
	Dirty       bool      `json:"dirty"`
	Known       bool      `json:"known"`
	Baselined   bool      `json:"baselined"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeJSON writes v to stdout, indented, as one document ending in a
// newline; <, > and & are written as they are.
func (e *env) writeJSON(v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	_, err := e.stdout.Write(b.Bytes())
	return err
}

// formatTime shows t in UTC to the second.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// formatDuration rounds d for people: 850µs, 12ms, 1.25s, 3m2s.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// jsonRun is what up and down print with --json.
type jsonRun struct {
	Direction  string       `json:"direction"`
	Migrations []jsonResult `json:"migrations"`
	Failed     *jsonFailure `json:"failed,omitempty"`
	Error      string       `json:"error,omitempty"`
}

// jsonResult is one migration a run applied or rolled back.
type jsonResult struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	DurationUS  int64  `json:"duration_us"`
	Backup      string `json:"backup,omitempty"`
}

func resultJSON(r migration.Result) jsonResult {
	return jsonResult{ID: r.ID, Description: r.Description, DurationUS: r.Duration.Microseconds(), Backup: r.Backup}
}

// jsonFailure is the migration a run failed at, and what it left.
type jsonFailure struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Step        string `json:"step"`
	Error       string `json:"error"`
	Outcome     string `json:"outcome,omitempty"`
	State       string `json:"state,omitempty"`
	Backup      string `json:"backup,omitempty"`
}

func (f *failure) json() *jsonFailure {
	return &jsonFailure{ID: f.r.ID, Description: f.r.Description, Step: f.step, Error: f.cause,
		Outcome: f.outcome, State: string(f.state), Backup: f.r.Backup}
}

// jsonValidate is what validate prints with --json. Passed with Complete
// false: only Tried were applied and rolled back; NotTried were checked
// less (MySQL, or after a migration that runs outside a transaction).
type jsonValidate struct {
	Passed   bool         `json:"passed"`
	Complete bool         `json:"complete"`
	Pending  []string     `json:"pending"`
	Tried    []string     `json:"tried"`
	NotTried []string     `json:"not_tried"`
	Failed   *jsonFailure `json:"failed,omitempty"`
}

// jsonBaseline is what baseline prints with --json.
type jsonBaseline struct {
	Baselined []string `json:"baselined"`
}

// jsonRepair is what repair prints with --json.
type jsonRepair struct {
	ID      string `json:"id"`
	Applied bool   `json:"applied"`
}

type jsonAdopt struct {
	From    string   `json:"from"`
	Adopted []string `json:"adopted"`
}
