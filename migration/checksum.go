package migration

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Checksummer is an optional interface: a digest of the text a migration
// runs, such as the SQL of a file. The version table records it when the
// migration is applied, and [Manager.Status], [Manager.Validate] and
// [Manager.Up] report an applied migration whose checksum has changed
// since ([ErrChecksum]). An empty checksum is not recorded or compared.
type Checksummer interface {
	Checksum() string
}

// ErrChecksum: the text of an applied migration has changed since it was
// applied. Restore the text, or accept the new text with
// [Manager.AcceptChecksum] (CLI: repair ID --checksum).
var ErrChecksum = errors.New("migration: applied migration changed since it was applied")

// Checksum returns the checksum strata records for SQL text: the SHA-256 of
// the parts, each with CRLF line endings read as LF, separated by a zero
// byte, in hex.
func Checksum(parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(strings.ReplaceAll(p, "\r\n", "\n")))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func checksum(m Migration) string {
	if c, ok := m.(Checksummer); ok {
		return c.Checksum()
	}
	return ""
}

// changed returns the applied, known migrations whose checksum differs
// from the one recorded when they were applied.
func (m *Manager) changed(st *state) []*Record {
	var out []*Record
	for i := range st.recs {
		r := &st.recs[i]
		mg := m.g.byID[r.ID]
		if mg == nil || r.Checksum == "" {
			continue
		}
		if sum := checksum(mg); sum != "" && sum != r.Checksum {
			out = append(out, r)
		}
	}
	return out
}

// checksumErr names the first applied migration whose text changed.
func (m *Manager) checksumErr(st *state) error {
	ch := m.changed(st)
	if len(ch) == 0 {
		return nil
	}
	var ids []string
	for _, r := range ch {
		ids = append(ids, r.ID)
	}
	return &Error{ID: ch[0].ID, Step: StepValidate, Err: fmt.Errorf(
		"%w (applied %s; changed: %s): restore the text that was applied, or accept the new text with Manager.AcceptChecksum (CLI: repair %s --checksum)",
		ErrChecksum, ch[0].AppliedAt.Format(time.RFC3339), strings.Join(ids, ", "), ch[0].ID)}
}

// AcceptChecksum records the current checksum of the applied migration id
// as the one it was applied with, after an operator has checked that the
// change to its text needs nothing done to the database (a comment, a
// reformatting, or a change made by hand). With id empty it accepts every
// changed migration. It upgrades an old version table in place.
func (m *Manager) AcceptChecksum(ctx context.Context, id string) (err error) {
	defer recoverInto(&err)
	return m.withLock(ctx, true, func(conn *sql.Conn, st *state) error {
		var recs []*Record
		if id == "" {
			recs = m.changed(st)
		} else {
			r := st.get(id)
			if r == nil || m.g.byID[id] == nil {
				return &Error{ID: id, Step: StepRecord, Err: fmt.Errorf("%w: not an applied migration of this binary", ErrUnknownMigration)}
			}
			recs = []*Record{r}
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return stepErr(id, StepRecord, fmt.Errorf("begin transaction: %w", err))
		}
		defer tx.Rollback()
		for _, r := range recs {
			if err := st.tbl.setChecksum(ctx, tx, r.ID, checksum(m.g.byID[r.ID])); err != nil {
				return stepErr(r.ID, StepRecord, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return stepErr(id, StepRecord, fmt.Errorf("commit: %w", err))
		}
		for _, r := range recs {
			m.cfg.log.InfoContext(ctx, "checksum accepted", "migration", r.ID)
		}
		return nil
	})
}
