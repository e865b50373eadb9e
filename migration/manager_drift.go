package migration

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/schema"
)

// ErrNoSchema is returned by [Manager.Drift] when there is no recorded
// schema to compare the database with: nothing is applied, the dialect
// cannot describe schemas, or the newest applied migration's run recorded
// none (it was baselined or repaired, or ran before this version of
// strata). [Manager.RecordSchema] records one.
var ErrNoSchema = errors.New("migration: no recorded schema")

// schemaTableSuffix is appended to the version table's name to name the
// table the schema is recorded in after each run; see [Manager.SchemaTable].
const schemaTableSuffix = "_schema"

// SchemaTable returns the name of the table in which the manager records
// the schema each run leaves, for [Manager.Drift]: the version table's name
// followed by "_schema", in the same schema. A name that would be longer
// than 63 characters is shortened, keeping it unique with a hash of the
// version table's name.
//
// The table has one set of rows per recorded run, for the runs whose
// newest version-table row is still applied:
//
//	seq          integer: the version table's seq of the run's newest row
//	part         integer: the chunk's number, from 0
//	fingerprint  text: [schema.Schema.Fingerprint] of the recorded schema,
//	             also in the version table's schema_fingerprint of row seq
//	recorded_at  text: when, in RFC 3339 UTC
//	data         text: a chunk of the base64 of the gzipped JSON encoding
//	             of the normalised schema, whose SHA-256 the fingerprint is
//
// The manager creates it, in the first run that records a schema, with
// column types every built-in dialect has, and leaves it (and the version
// table) out of every schema it describes.
func (m *Manager) SchemaTable() string { return schemaTableName(m.cfg.table) }

func schemaTableName(table string) string { return suffixedName(table, schemaTableSuffix) }

// suffixedName returns the name of table with suffix appended, shortened
// to 63 characters if need be.
func suffixedName(table, suffix string) string {
	prefix, name := "", table
	if i := strings.LastIndexByte(table, '.'); i >= 0 {
		prefix, name = table[:i+1], table[i+1:]
	}
	const max = 63
	if len(name)+len(suffix) > max {
		sum := sha256.Sum256([]byte(name))
		keep := max - len(suffix) - 9
		name = name[:keep] + "_" + hex.EncodeToString(sum[:4])
	}
	return prefix + name + suffix
}

// inspectOptions leaves the manager's own tables out.
func (m *Manager) inspectOptions() schema.Options {
	return schema.Options{Exclude: []string{m.cfg.table, m.SchemaTable(), m.DriftTable()}}
}

// Schema describes the database's schema as it is now, without the
// version table and the schema table. It fails with an error wrapping
// [schema.ErrNotSupported] if the dialect does not implement
// [schema.Inspector]. It takes no lock.
func (m *Manager) Schema(ctx context.Context) (*schema.Schema, error) {
	return schema.Inspect(ctx, m.d, m.db, m.inspectOptions())
}

// DriftReport is what [Manager.Drift] found: how the live schema differs
// from the one recorded after the last run.
type DriftReport struct {
	// Migration and Seq identify the newest applied migration: the
	// recorded schema is the one the run that applied or rolled back to
	// it left.
	Migration string
	Seq       int64
	// RecordedAt is when the schema was recorded.
	RecordedAt time.Time
	// Expected is the recorded schema, Actual the live one.
	Expected, Actual *schema.Schema
	// Diff is what changed from Expected to Actual: "+" what was added
	// since, "-" what was removed, "~" what was changed.
	Diff schema.Diff
	// Kept is the drift runs found before they started, oldest first,
	// which their recording of the schema absorbed: it stays here until
	// [Manager.RecordSchema] accepts it.
	Kept []KeptDrift
}

// Drifted reports whether the live schema differs from the recorded one,
// or drift found before an earlier run is not accepted yet.
func (r *DriftReport) Drifted() bool { return !r.Diff.Empty() || len(r.Kept) > 0 }

// String returns a readable report: a line saying whether the schema
// drifted since which migration, followed by the changes, one per line.
func (r *DriftReport) String() string {
	since := fmt.Sprintf("migration %q (seq %d, recorded %s)", r.Migration, r.Seq, r.RecordedAt.UTC().Format(time.RFC3339))
	var s string
	switch {
	case !r.Drifted():
		return "no drift: the schema is as " + since + " left it"
	case r.Diff.Empty():
		s = "no drift since " + since
	default:
		s = fmt.Sprintf("schema drift since %s, %d change(s) (+ added, - removed, ~ changed):\n%s",
			since, len(r.Diff.Changes), r.Diff)
	}
	if len(r.Kept) > 0 {
		s += "\n" + keptString(r.Kept)
	}
	return s
}

// Drift compares the live schema with the one recorded after the last run
// that applied or rolled back migrations, and reports what changed: what
// someone or something did to the database by hand since. It takes the
// migration lock, so that it never sees a run half way.
//
// There is nothing to compare with, and Drift fails with an error wrapping
// [ErrNoSchema], when no migration is applied, when the dialect does not
// implement [schema.Inspector], or when the newest applied migration's run
// recorded no schema: runs record one at their end if they can, and a
// failure to (which does not fail the run) is logged. [Manager.RecordSchema]
// records the live schema as the expected one.
func (m *Manager) Drift(ctx context.Context) (_ *DriftReport, err error) {
	defer recoverInto(&err)
	if m.caps.inspector == nil {
		return nil, fmt.Errorf("%w: dialect %s cannot describe schemas (it does not implement schema.Inspector)", ErrNoSchema, m.d.Name())
	}
	var rep *DriftReport
	err = m.withLock(ctx, false, func(conn *sql.Conn, st *state) error {
		if err := m.dirtyErr(st); err != nil {
			return err
		}
		head := st.head()
		if head == nil {
			return fmt.Errorf("%w: no migration is applied", ErrNoSchema)
		}
		if head.SchemaFingerprint == "" {
			return fmt.Errorf("%w for the newest applied migration, %q: it was baselined, repaired or applied without recording one; "+
				"record the live schema with Manager.RecordSchema once it is as it should be", ErrNoSchema, head.ID)
		}
		rec, err := m.readSchema(ctx, conn, head.Seq, head.SchemaFingerprint)
		if err != nil {
			return err
		}
		live, err := schema.Inspect(ctx, m.d, conn, m.inspectOptions())
		if err != nil {
			return err
		}
		kept, err := st.tbl.readDrift(ctx, conn)
		if err != nil {
			return err
		}
		rep = &DriftReport{Migration: head.ID, Seq: head.Seq, RecordedAt: rec.RecordedAt,
			Expected: rec.Schema, Actual: live, Diff: schema.Compare(rec.Schema, live), Kept: kept}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// RecordSchema records the live schema as the one [Manager.Drift] expects,
// as a run does at its end: after a [Manager.Baseline], or once a change
// made by hand has been accepted. It takes the migration lock. With no
// migration applied there is no row to attach it to, and it fails with
// [ErrNoSchema].
func (m *Manager) RecordSchema(ctx context.Context) (err error) {
	defer recoverInto(&err)
	if m.caps.inspector == nil {
		return fmt.Errorf("%w: dialect %s cannot describe schemas (it does not implement schema.Inspector)", ErrNoSchema, m.d.Name())
	}
	return m.withLock(ctx, true, func(conn *sql.Conn, st *state) error {
		if err := m.dirtyErr(st); err != nil {
			return err
		}
		if st.head() == nil {
			return fmt.Errorf("%w: no migration is applied", ErrNoSchema)
		}
		if err := m.writeSchema(ctx, conn, st); err != nil {
			return stepErr("", StepRecord, err)
		}
		// What was kept is accepted with the live schema.
		return stepErr("", StepRecord, st.tbl.clearDrift(ctx, conn))
	})
}

// recordSchema is called on the locked connection after a run changed the
// schema, with the state as the run left it. Where the dialect can describe
// schemas, it records the schema in the schema table and its fingerprint
// in the newest row of the version table, for [Manager.Drift]. It costs one
// description of the schema and one small transaction per run, not per
// migration.
//
// The migrations are applied and committed by then, so a failure here
// does not fail the run: it is logged, and Drift reports that the run
// recorded no schema.
func (m *Manager) recordSchema(ctx context.Context, conn *sql.Conn, st *state) {
	if m.caps.inspector == nil {
		return
	}
	if head := st.head(); head != nil && head.Dirty {
		return // half applied: nothing worth comparing with
	}
	if err := m.writeSchema(ctx, conn, st); err != nil {
		m.cfg.log.WarnContext(ctx, "schema not recorded: drift detection has nothing to compare with until the next run or Manager.RecordSchema",
			"step", StepRecord, "error", err)
	}
}

// recordedSchema is a schema as the schema table holds it.
type recordedSchema struct {
	RecordedAt time.Time
	Schema     *schema.Schema
}

// writeSchema describes the schema on conn and records it for the newest
// row of st.
func (m *Manager) writeSchema(ctx context.Context, conn *sql.Conn, st *state) error {
	head := st.head()
	if head == nil {
		return nil
	}
	s, err := schema.Inspect(ctx, m.d, conn, m.inspectOptions())
	if err != nil {
		return err
	}
	// The fingerprint is the digest of the JSON encoding, which is what
	// is stored: encode once.
	raw, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode schema: %w", err)
	}
	sum := sha256.Sum256(raw)
	fp := schema.FingerprintPrefix + hex.EncodeToString(sum[:])
	data, err := compress(raw)
	if err != nil {
		return err
	}
	if err := st.tbl.recordSchema(ctx, conn, head.Seq, fp, time.Now().UTC(), data); err != nil {
		return err
	}
	head.SchemaFingerprint = fp
	m.cfg.log.DebugContext(ctx, "schema recorded", "migration", head.ID, "fingerprint", fp, "tables", len(s.Tables))
	return nil
}

// readSchema reads the schema recorded for seq, which must have the
// fingerprint fp.
func (m *Manager) readSchema(ctx context.Context, q dialect.Execer, seq int64, fp string) (*recordedSchema, error) {
	at, data, err := m.tbl.readSchema(ctx, q, seq, fp)
	if err != nil {
		return nil, err
	}
	rec := &recordedSchema{}
	if rec.RecordedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return nil, fmt.Errorf("read schema table %q: seq %d: recorded_at: %w", m.SchemaTable(), seq, err)
	}
	if rec.Schema, err = decodeSchema(data); err != nil {
		return nil, fmt.Errorf("read schema table %q: seq %d: %w", m.SchemaTable(), seq, err)
	}
	return rec, nil
}

// compress returns the base64 of the gzipped data.
func compress(data []byte) (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return "", fmt.Errorf("compress schema: %w", err)
	}
	if _, err := zw.Write(data); err != nil {
		return "", fmt.Errorf("compress schema: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compress schema: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// decodeSchema undoes compress and decodes the schema's JSON.
func decodeSchema(data string) (*schema.Schema, error) {
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	var s schema.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	return &s, nil
}
