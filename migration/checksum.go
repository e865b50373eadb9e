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
// changed migration. It upgrades an old version table in place, and
// rewrites the fingerprint of the newest row with the accepted checksums,
// so that [Manager.Up] finds the database up to date in one read again.
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
		sums := make(map[string]string, len(recs))
		for _, r := range recs {
			sums[r.ID] = checksum(m.g.byID[r.ID])
		}
		if err := m.writeChecksums(ctx, conn, st, sums); err != nil {
			return stepErr(id, StepRecord, err)
		}
		for _, r := range recs {
			m.cfg.log.InfoContext(ctx, "checksum accepted", "migration", r.ID)
		}
		return nil
	})
}

// writeChecksums records sums (by migration ID) as the checksums the
// migrations were applied with and, in the same transaction, makes the
// newest row carry the fingerprint of the applied set with them, so that
// the start-up check ([Manager.upToDate]) agrees with the version table.
// It updates st once committed.
func (m *Manager) writeChecksums(ctx context.Context, conn *sql.Conn, st *state, sums map[string]string) error {
	next := st.clone()
	for id, sum := range sums {
		next.setChecksum(id, sum)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	for _, r := range st.recs {
		if sum, ok := sums[r.ID]; ok {
			if err := st.tbl.setChecksum(ctx, tx, r.ID, sum); err != nil {
				return fmt.Errorf("%s: %w", r.ID, err)
			}
		}
	}
	// A dirty row carries no fingerprint, and with one anywhere the
	// newest row must not claim the set is complete.
	head, fp := next.head(), next.fp.String()
	sync := head != nil && !next.hasDirty()
	if sync {
		if err := st.tbl.syncHead(ctx, tx, head, fp); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if sync {
		head.fingerprint = fp
	}
	*st = *next
	return nil
}

// staleChecksums returns, for the rows of st recorded without a checksum
// (before checksums existed) whose migration has one now, the checksum of
// the current text; and whether, with those recorded, the newest row would
// say the database is up to date while today it does not. Only then is
// it worth writing them: [Manager.Run] does so once, so that later starts
// take the fast path again.
func (m *Manager) staleChecksums(st *state) (map[string]string, bool) {
	head := st.head()
	if head == nil || head.Dirty || st.hasDirty() || head.fingerprint == m.known {
		return nil, false
	}
	sums := map[string]string{}
	fp := st.fp
	for _, r := range st.recs {
		if r.Checksum != "" || m.g.byID[r.ID] == nil {
			continue
		}
		if sum := checksum(m.g.byID[r.ID]); sum != "" {
			sums[r.ID] = sum
			fp.remove(r.ID, "")
			fp.add(r.ID, sum)
		}
	}
	return sums, fp.String() == m.known
}

// backfill records the checksums of rows applied before checksums existed
// when, as st (read without the lock) says, that is all that keeps the
// newest row from saying the database is up to date; see
// [Manager.backfillChecksums]. The run has nothing to do, so a failure
// here is logged, not returned: the next start tries again.
func (m *Manager) backfill(ctx context.Context, st *state, t Target) {
	if _, ok := m.staleChecksums(st); !ok {
		return
	}
	if err := m.backfillChecksums(ctx, t); err != nil {
		m.cfg.log.WarnContext(ctx, "could not record the checksums of migrations applied before checksums were", "error", err)
	}
}

// backfillChecksums records, under the lock, the checksums of rows written
// before checksums existed, taking the current text as the one applied
// (trust on first use), and rewrites the newest row's fingerprint, when
// that is all that keeps the start-up check from seeing the database up to
// date. t is the run that found nothing to do: if under the lock it finds
// something, another migrator has been at work and nothing is written.
func (m *Manager) backfillChecksums(ctx context.Context, t Target) error {
	return m.withLock(ctx, true, func(conn *sql.Conn, st *state) error {
		if steps, err := m.plan(st, t); err != nil || len(steps) > 0 {
			return nil
		}
		sums, ok := m.staleChecksums(st)
		if !ok {
			return nil
		}
		if err := m.writeChecksums(ctx, conn, st, sums); err != nil {
			return stepErr("", StepRecord, err)
		}
		for _, r := range st.recs {
			if _, ok := sums[r.ID]; ok {
				m.cfg.log.InfoContext(ctx, "checksum recorded for a migration applied before checksums were; its current text is taken as the one applied", "migration", r.ID, "checksum", sums[r.ID])
			}
		}
		return nil
	})
}
