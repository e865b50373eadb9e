package migration

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/strata-go/strata/schema"
)

// ErrDrift: under [WithDriftPolicy]([DriftRefuse]), a run found the schema
// changed since the last run recorded it, and ran nothing.
var ErrDrift = errors.New("migration: schema drift")

// DriftPolicy says what a run does when, before it starts, it finds the
// schema changed since the last run recorded it. Either way the drift is
// logged and kept in the drift table ([Manager.DriftTable]), where
// [Manager.Drift] reports it until it is accepted ([Manager.RecordSchema]).
type DriftPolicy int

const (
	// DriftWarn logs the drift, keeps it, and runs: the default.
	DriftWarn DriftPolicy = iota
	// DriftRefuse keeps the drift and fails the run with [ErrDrift]
	// before it runs anything.
	DriftRefuse
)

// WithDriftPolicy sets what a run does when it finds the schema drifted
// (default [DriftWarn]).
func WithDriftPolicy(p DriftPolicy) Option {
	return func(c *config) error {
		if p != DriftWarn && p != DriftRefuse {
			return fmt.Errorf("WithDriftPolicy: unknown policy %d", p)
		}
		c.driftPolicy = p
		return nil
	}
}

// driftTableSuffix is appended to the version table's name to name the
// table drift found before runs is kept in; see [Manager.DriftTable].
const driftTableSuffix = "_drift"

// DriftTable returns the name of the table in which a run keeps the drift
// it found before it started, which its own recording of the schema would
// otherwise absorb: the version table's name followed by "_drift", in the
// same schema, shortened as [Manager.SchemaTable] is. It has one row per
// drift found, until [Manager.RecordSchema] accepts them:
//
//	detected_at  text: when, in RFC 3339 UTC
//	seq          integer: the version table's seq of the newest row then
//	migration    text: that row's migration
//	report       text: [DriftReport.String], cut at 60,000 bytes
func (m *Manager) DriftTable() string { return suffixedName(m.cfg.table, driftTableSuffix) }

// KeptDrift is a drift a run found before it started, as kept in the
// drift table.
type KeptDrift struct {
	DetectedAt time.Time
	// Migration and Seq are the newest applied migration then: the drift
	// is from the schema recorded after its run.
	Migration string
	Seq       int64
	// Report is what [DriftReport.String] said.
	Report string
}

// maxDriftReport is the longest report kept: a MySQL TEXT holds 64 KiB.
const maxDriftReport = 60000

// checkDrift compares, before a run, the live schema with the one the last
// run recorded. On drift it logs it, keeps it in the drift table and, under
// DriftRefuse, returns an error wrapping ErrDrift. Being unable to compare
// is logged, not fatal.
func (m *Manager) checkDrift(ctx context.Context, conn *sql.Conn, st *state) error {
	if m.caps.inspector == nil {
		return nil
	}
	head := st.head()
	if head == nil || head.Dirty || head.SchemaFingerprint == "" {
		return nil
	}
	rep, err := m.compare(ctx, conn, head)
	if err != nil {
		m.cfg.log.WarnContext(ctx, "cannot compare the schema with the one recorded after the last run", "error", err)
		return nil
	}
	if rep == nil || !rep.Drifted() {
		return nil
	}
	m.cfg.log.WarnContext(ctx, "the schema changed since the last run recorded it",
		"migration", head.ID, "changes", len(rep.Diff.Changes), "report", rep.String())
	if err := m.keepDrift(ctx, conn, st, rep); err != nil {
		m.cfg.log.ErrorContext(ctx, "cannot keep the drift found in the drift table", "table", m.DriftTable(), "error", err)
		if m.cfg.driftPolicy != DriftRefuse {
			return nil
		}
	}
	if m.cfg.driftPolicy == DriftRefuse {
		return &Error{Step: StepDrift, Err: fmt.Errorf("%w: nothing was run; %s", ErrDrift, rep)}
	}
	return nil
}

// compare returns the drift from the schema recorded for head to the live
// one, or nil when their fingerprints agree.
func (m *Manager) compare(ctx context.Context, conn *sql.Conn, head *Record) (*DriftReport, error) {
	live, err := schema.Inspect(ctx, m.d, conn, m.inspectOptions())
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(live)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	sum := sha256.Sum256(raw)
	if schema.FingerprintPrefix+hex.EncodeToString(sum[:]) == head.SchemaFingerprint {
		return nil, nil
	}
	rec, err := m.readSchema(ctx, conn, head.Seq, head.SchemaFingerprint)
	if err != nil {
		return nil, err
	}
	return &DriftReport{Migration: head.ID, Seq: head.Seq, RecordedAt: rec.RecordedAt,
		Expected: rec.Schema, Actual: live, Diff: schema.Compare(rec.Schema, live)}, nil
}

// keepDrift writes rep to the drift table, creating it if missing.
func (m *Manager) keepDrift(ctx context.Context, conn *sql.Conn, st *state, rep *DriftReport) error {
	report := rep.String()
	if len(report) > maxDriftReport {
		cut := maxDriftReport
		for cut > 0 && !utf8.RuneStart(report[cut]) {
			cut--
		}
		report = report[:cut] + "\n(cut)"
	}
	return st.tbl.keepDrift(ctx, conn, KeptDrift{DetectedAt: time.Now().UTC(), Migration: rep.Migration, Seq: rep.Seq, Report: report})
}

// keptString renders kept drift for [DriftReport.String].
func keptString(kept []KeptDrift) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d drift(s) found before earlier runs, not accepted yet:", len(kept))
	for _, k := range kept {
		fmt.Fprintf(&b, "\nfound %s, before a run after migration %q (seq %d):\n%s",
			k.DetectedAt.UTC().Format(time.RFC3339), k.Migration, k.Seq, k.Report)
	}
	return b.String()
}
