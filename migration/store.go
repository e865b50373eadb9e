package migration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/strata-go/strata/dialect"
)

// store reads and writes strata's own tables: the version table, and beside
// it the schema table ([Manager.SchemaTable]) and the drift table
// ([Manager.DriftTable]). Every statement on them is here.
type store struct {
	d          dialect.Dialect
	table      string // as addressed
	configured string // as configured, if not the same
	schema     string // the schema it was qualified with, if any

	qHead, qAll, qInsert, qMark, qDelete, qSetFP, qSetSchema string
	qAllLegacy, qHasSum, qAddSum, qSetSum                    string
}

func newStore(d dialect.Dialect, table string) *store {
	t := dialect.QuoteTable(d, table)
	p := d.Placeholder
	return &store{
		d:     d,
		table: table,
		qHead: `SELECT fingerprint, dirty FROM ` + t + ` ORDER BY seq DESC LIMIT 1`,
		qAll:  `SELECT ` + dialect.VersionTableColumns + `, ` + checksumColumn + ` FROM ` + t + ` ORDER BY seq`,
		qInsert: `INSERT INTO ` + t + ` (` + dialect.VersionTableColumns + `, ` + checksumColumn + `) VALUES (` +
			strings.Join([]string{p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9)}, ", ") + `)`,
		qAllLegacy: `SELECT ` + dialect.VersionTableColumns + `, '' FROM ` + t + ` ORDER BY seq`,
		qHasSum:    `SELECT ` + checksumColumn + ` FROM ` + t + ` WHERE 1 = 0`,
		qAddSum:    `ALTER TABLE ` + t + ` ADD COLUMN ` + checksumColumn + ` ` + checksumType(d) + ` NOT NULL DEFAULT ''`,
		qSetSum:    `UPDATE ` + t + ` SET ` + checksumColumn + ` = ` + p(1) + ` WHERE id = ` + p(2),
		qMark:      `UPDATE ` + t + ` SET dirty = ` + p(1) + `, duration_us = ` + p(2) + `, fingerprint = ` + p(3) + ` WHERE id = ` + p(4),
		qDelete:    `DELETE FROM ` + t + ` WHERE id = ` + p(1),
		qSetFP:     `UPDATE ` + t + ` SET fingerprint = ` + p(1) + ` WHERE seq = ` + p(2),
		qSetSchema: `UPDATE ` + t + ` SET schema_fingerprint = ` + p(1) + ` WHERE seq = ` + p(2),
	}
}

// in returns the store of the same table in schema, addressed by its
// qualified name, or s itself if the table is qualified already or schema
// is empty.
func (s *store) in(schema string) *store {
	if _, _, ok := dialect.SplitTable(s.table); ok || schema == "" {
		return s
	}
	q := newStore(s.d, schema+"."+s.table)
	q.configured = s.table
	q.schema = schema
	return q
}

// qualify returns name, another of strata's tables, in the schema s
// addresses its table in.
func (s *store) qualify(name string) string {
	if _, _, ok := dialect.SplitTable(name); ok || s.schema == "" {
		return name
	}
	return s.schema + "." + name
}

// head reads the newest row: the fingerprint of the applied set and whether
// it is dirty. ok is false if the table is empty or cannot be read.
func (s *store) head(ctx context.Context, q dialect.Execer) (fp string, dirty, ok bool) {
	err := q.QueryRowContext(ctx, s.qHead).Scan(&fp, &dirty)
	return fp, dirty, err == nil
}

// checksumColumn holds a migration's [Checksummer] text digest. Version
// tables created before it existed gain it in place (see upgrade).
const checksumColumn = "checksum"

// checksumType is the column type of the checksum, a hex SHA-256: TEXT,
// which every dialect (SQLite's STRICT tables too) accepts, except where a
// TEXT column cannot have a default ([dialect.TextTyper]).
func checksumType(d dialect.Dialect) string {
	if tt, ok := d.(dialect.TextTyper); ok {
		return tt.TextType(64)
	}
	return "TEXT"
}

// create creates the version table if missing, and upgrades it in place.
func (s *store) create(ctx context.Context, q dialect.Execer) error {
	// Unqualified as configured: the caller creates it right after saving
	// the session, when the name resolves to the schema saved, and
	// PostgreSQL checks a qualified one's schema with a statement more.
	name := s.table
	if s.configured != "" {
		name = s.configured
	}
	for _, stmt := range s.d.VersionTableDDL(name) {
		if _, err := q.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create version table %q: %w", s.table, err)
		}
	}
	return s.upgrade(ctx, q)
}

// upgrade adds the checksum column to a version table without it. It runs
// under the migration lock, so no other migrator adds it at the same time.
func (s *store) upgrade(ctx context.Context, q dialect.Execer) error {
	rows, err := q.QueryContext(ctx, s.qHasSum)
	if err == nil {
		return rows.Close()
	}
	if _, err := q.ExecContext(ctx, s.qAddSum); err != nil {
		return fmt.Errorf("add column %s to version table %q: %w", checksumColumn, s.table, err)
	}
	return nil
}

// read returns every row in the order applied. A version table that does not
// exist yet reads as empty.
func (s *store) read(ctx context.Context, q dialect.Execer) ([]Record, error) {
	rows, err := q.QueryContext(ctx, s.qAll)
	if err != nil {
		exists, herr := s.d.HasTable(ctx, q, s.table)
		if herr == nil && !exists {
			return nil, nil
		}
		if herr == nil {
			// Another migrator created the table between the two
			// queries: read it again. A table from before the checksum
			// column reads with empty checksums until a run upgrades it.
			rows, err = q.QueryContext(ctx, s.qAll)
			if err != nil {
				rows, err = q.QueryContext(ctx, s.qAllLegacy)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("read version table %q: %w", s.table, err)
		}
	}
	defer rows.Close()
	var recs []Record
	for rows.Next() {
		var r Record
		var at flexTime
		var us int64
		if err := rows.Scan(&r.ID, &r.Seq, &r.Description, &at, &us, &r.Dirty, &r.fingerprint, &r.SchemaFingerprint, &r.Checksum); err != nil {
			return nil, fmt.Errorf("read version table %q: %w", s.table, err)
		}
		r.AppliedAt = at.t
		if d, ok := strings.CutPrefix(r.Description, BaselineMark); ok {
			r.Baselined, r.Description = true, d
		}
		r.Duration = time.Duration(us) * time.Microsecond
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read version table %q: %w", s.table, err)
	}
	return recs, nil
}

// BaselineMark begins the description column of a row written by
// [Manager.Baseline], so that the version table itself shows which
// migrations were recorded without running; [Record.Description] is
// without it.
const BaselineMark = "<< baselined >> "

func (s *store) insert(ctx context.Context, q dialect.Execer, r Record) error {
	desc := r.Description
	if r.Baselined {
		desc = BaselineMark + desc
	}
	_, err := q.ExecContext(ctx, s.qInsert, r.ID, r.Seq, desc, r.AppliedAt.UTC(),
		r.Duration.Microseconds(), r.Dirty, r.fingerprint, r.SchemaFingerprint, r.Checksum)
	if err != nil {
		return fmt.Errorf("insert %q into version table: %w", r.ID, err)
	}
	return nil
}

// mark sets the row of id dirty or clean, with its duration and the
// fingerprint it carries (a dirty row carries none).
func (s *store) mark(ctx context.Context, q dialect.Execer, id string, dirty bool, d time.Duration, fp string) error {
	what := "mark " + id + " clean"
	if dirty {
		what = "mark " + id + " dirty"
	}
	return s.exec(ctx, q, what, s.qMark, false, dirty, d.Microseconds(), fp, id)
}

// delete removes the row of id, which must exist: a row deleted under the
// lock by someone else means the table is not what this run read.
func (s *store) delete(ctx context.Context, q dialect.Execer, id string) error {
	return s.exec(ctx, q, "delete "+id+" from version table", s.qDelete, true, id)
}

func (s *store) setSchemaFingerprint(ctx context.Context, q dialect.Execer, seq int64, fp string) error {
	return s.exec(ctx, q, "update schema fingerprint", s.qSetSchema, false, fp, seq)
}

func (s *store) setChecksum(ctx context.Context, q dialect.Execer, id, sum string) error {
	return s.exec(ctx, q, "update checksum of "+id, s.qSetSum, false, sum, id)
}

func (s *store) setFingerprint(ctx context.Context, q dialect.Execer, seq int64, fp string) error {
	return s.exec(ctx, q, "update fingerprint", s.qSetFP, false, fp, seq)
}

// exec runs a statement changing one row. Only a DELETE can check that it
// did: MySQL counts an UPDATE that writes the values a row already has as
// no row affected (unless the DSN sets clientFoundRows).
func (s *store) exec(ctx context.Context, q dialect.Execer, what, query string, mustAffect bool, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !mustAffect {
		return nil
	}
	if n, err := res.RowsAffected(); err == nil && n != 1 {
		return fmt.Errorf("%s: %d rows changed, want 1", what, n)
	}
	return nil
}

// syncHead makes head, the newest row, carry fp, the fingerprint of the
// applied set, in the database. The caller updates its state once the
// change is committed.
func (s *store) syncHead(ctx context.Context, q dialect.Execer, head *Record, fp string) error {
	if head == nil || head.fingerprint == fp {
		return nil
	}
	return s.setFingerprint(ctx, q, head.Seq, fp)
}

// name returns the version table's name as configured.
func (s *store) name() string {
	if s.configured != "" {
		return s.configured
	}
	return s.table
}

// schemaChunk is how many characters of encoded schema one row of the
// schema table holds: well under the 64 KiB of a MySQL TEXT.
const schemaChunk = 32 << 10

// recordSchema records data, an encoded schema whose fingerprint is fp,
// for the version table's row seq, in one transaction: it replaces the
// schema table's rows of seq and later, cutting data into chunks, and
// sets the row's schema_fingerprint. It creates the schema table first
// if missing.
func (s *store) recordSchema(ctx context.Context, conn *sql.Conn, seq int64, fp string, at time.Time, data string) error {
	name := schemaTableName(s.name())
	table := dialect.QuoteTable(s.d, s.qualify(name))
	p := s.d.Placeholder
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
	seq         BIGINT       NOT NULL,
	part        INTEGER      NOT NULL,
	fingerprint VARCHAR(100) NOT NULL,
	recorded_at VARCHAR(40)  NOT NULL,
	data        TEXT         NOT NULL,
	PRIMARY KEY (seq, part)
)`); err != nil {
		return fmt.Errorf("create schema table %q: %w", name, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record schema: begin transaction: %w", err)
	}
	defer tx.Rollback()
	// Rows of later seqs describe runs since rolled back.
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE seq >= `+p(1), seq); err != nil {
		return fmt.Errorf("record schema: %w", err)
	}
	insert := `INSERT INTO ` + table + ` (seq, part, fingerprint, recorded_at, data) VALUES (` +
		p(1) + `, ` + p(2) + `, ` + p(3) + `, ` + p(4) + `, ` + p(5) + `)`
	for part := 0; part == 0 || part*schemaChunk < len(data); part++ {
		chunk := data[part*schemaChunk : min(len(data), (part+1)*schemaChunk)]
		if _, err := tx.ExecContext(ctx, insert, seq, part, fp, at.Format(time.RFC3339Nano), chunk); err != nil {
			return fmt.Errorf("record schema: %w", err)
		}
	}
	if err := s.setSchemaFingerprint(ctx, tx, seq, fp); err != nil {
		return fmt.Errorf("record schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record schema: commit: %w", err)
	}
	return nil
}

// readSchema reads the schema recorded for seq, which must have the
// fingerprint fp: when it was recorded, as written, and the encoded
// schema. A schema that is not there is an error wrapping [ErrNoSchema].
func (s *store) readSchema(ctx context.Context, q dialect.Execer, seq int64, fp string) (at, data string, err error) {
	name := s.qualify(schemaTableName(s.name()))
	rows, err := q.QueryContext(ctx, `SELECT part, fingerprint, recorded_at, data FROM `+dialect.QuoteTable(s.d, name)+
		` WHERE seq = `+s.d.Placeholder(1)+` ORDER BY part`, seq)
	if err != nil {
		if ok, herr := s.d.HasTable(ctx, q, name); herr == nil && !ok {
			return "", "", fmt.Errorf("%w: schema table %q does not exist", ErrNoSchema, name)
		}
		return "", "", fmt.Errorf("read schema table %q: %w", name, err)
	}
	defer rows.Close()
	var b strings.Builder
	n := 0
	for rows.Next() {
		var part int
		var rowFP, chunk string
		if err := rows.Scan(&part, &rowFP, &at, &chunk); err != nil {
			return "", "", fmt.Errorf("read schema table %q: %w", name, err)
		}
		if part != n || rowFP != fp {
			return "", "", fmt.Errorf("%w: schema table %q does not hold the schema of seq %d with fingerprint %s (found part %d with fingerprint %s)",
				ErrNoSchema, name, seq, fp, part, rowFP)
		}
		b.WriteString(chunk)
		n++
	}
	if err := rows.Err(); err != nil {
		return "", "", fmt.Errorf("read schema table %q: %w", name, err)
	}
	if n == 0 {
		return "", "", fmt.Errorf("%w: schema table %q has no schema for seq %d", ErrNoSchema, name, seq)
	}
	return at, b.String(), nil
}

// driftTable returns the drift table's name, as this store addresses it.
func (s *store) driftTable() string {
	return s.qualify(suffixedName(s.name(), driftTableSuffix))
}

// keepDrift adds k to the drift table, creating it if missing.
func (s *store) keepDrift(ctx context.Context, q dialect.Execer, k KeptDrift) error {
	table := dialect.QuoteTable(s.d, s.driftTable())
	if _, err := q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
	detected_at VARCHAR(40)  NOT NULL,
	seq         BIGINT       NOT NULL,
	migration   VARCHAR(255) NOT NULL,
	report      TEXT         NOT NULL,
	PRIMARY KEY (detected_at, seq)
)`); err != nil {
		return fmt.Errorf("create drift table: %w", err)
	}
	p := s.d.Placeholder
	_, err := q.ExecContext(ctx, `INSERT INTO `+table+` (detected_at, seq, migration, report) VALUES (`+
		p(1)+`, `+p(2)+`, `+p(3)+`, `+p(4)+`)`,
		k.DetectedAt.Format(time.RFC3339Nano), k.Seq, k.Migration, k.Report)
	if err != nil {
		return fmt.Errorf("keep drift: %w", err)
	}
	return nil
}

// readDrift reads the drift table, oldest first; a missing table reads as
// empty.
func (s *store) readDrift(ctx context.Context, q dialect.Execer) ([]KeptDrift, error) {
	name := s.driftTable()
	rows, err := q.QueryContext(ctx, `SELECT detected_at, seq, migration, report FROM `+dialect.QuoteTable(s.d, name)+` ORDER BY detected_at, seq`)
	if err != nil {
		if ok, herr := s.d.HasTable(ctx, q, name); herr == nil && !ok {
			return nil, nil
		}
		return nil, fmt.Errorf("read drift table %q: %w", name, err)
	}
	defer rows.Close()
	var out []KeptDrift
	for rows.Next() {
		var k KeptDrift
		var at string
		if err := rows.Scan(&at, &k.Seq, &k.Migration, &k.Report); err != nil {
			return nil, fmt.Errorf("read drift table %q: %w", name, err)
		}
		k.DetectedAt, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read drift table %q: %w", name, err)
	}
	return out, nil
}

// clearDrift empties the drift table, if there is one: its drift is
// accepted.
func (s *store) clearDrift(ctx context.Context, q dialect.Execer) error {
	name := s.driftTable()
	if ok, err := s.d.HasTable(ctx, q, name); err != nil || !ok {
		return err
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM `+dialect.QuoteTable(s.d, name)); err != nil {
		return fmt.Errorf("clear drift table %q: %w", name, err)
	}
	return nil
}

// flexTime scans a timestamp whatever form the driver returns it in:
// time.Time, or text such as MySQL's without parseTime=true, or SQLite's.
type flexTime struct{ t time.Time }

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

func (f *flexTime) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case time.Time:
		f.t = v.UTC()
		return nil
	case nil:
		f.t = time.Time{}
		return nil
	case []byte:
		s = string(v)
	case string:
		s = v
	default:
		return fmt.Errorf("applied_at: unsupported type %T", src)
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			f.t = t.UTC()
			return nil
		}
	}
	return errors.New("applied_at: cannot parse " + s)
}

var _ sql.Scanner = (*flexTime)(nil)
