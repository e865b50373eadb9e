package sqlfile_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/migration"
)

// countLocker is the dialect's lock, counting how often it is taken: Up on
// an up-to-date database answers from the newest version row alone and
// takes none.
type countLocker struct {
	lock.Locker
	n *atomic.Int32
}

func (l countLocker) Lock(ctx context.Context, conn *sql.Conn) error {
	l.n.Add(1)
	return l.Locker.Lock(ctx, conn)
}

func counting(d dialect.Dialect) (migration.Option, *atomic.Int32) {
	n := new(atomic.Int32)
	return migration.WithLocker(countLocker{d.Locker(dialect.LockOptions{Table: migration.DefaultTable}), n}), n
}

func headFingerprint(t *testing.T, d dialect.Dialect, db *sql.DB) string {
	t.Helper()
	var fp string
	q := `SELECT fingerprint FROM ` + dialect.QuoteTable(d, migration.DefaultTable) + ` ORDER BY seq DESC LIMIT 1`
	if err := db.QueryRowContext(t.Context(), q).Scan(&fp); err != nil {
		t.Fatal(err)
	}
	return fp
}

// TestChecksumChangedUpToDate edits the text of an applied file on a
// database that is otherwise up to date: Up must not take the fast path
// and say nothing, but refuse with ErrChecksum naming the file; once the
// new text is accepted, Up is back to one read without the lock.
func TestChecksumChangedUpToDate(t *testing.T) {
	v1 := map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;",
		"2_b.up.sql": "CREATE TABLE b (id int);", "2_b.down.sql": "DROP TABLE b;"}
	v2 := map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;",
		"2_b.up.sql": "-- b holds the bees\nCREATE TABLE b (id int);", "2_b.down.sql": "DROP TABLE b;"}
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			db := tg.open(t)
			ctx := t.Context()
			m1, err := migration.NewManager(db, tg.d, loadMap(t, v1))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m1.Up(ctx); err != nil {
				t.Fatal(err)
			}
			if res, err := m1.Up(ctx); err != nil || res != nil {
				t.Fatalf("Up when up to date = %v, %v", res, err)
			}

			opt, locks := counting(tg.d)
			m2, err := migration.NewManager(db, tg.d, loadMap(t, v2), opt)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // and again: nothing was written
				res, err := m2.Up(ctx)
				var me *migration.Error
				if !errors.Is(err, migration.ErrChecksum) || !errors.As(err, &me) || me.ID != "2_b" || len(res) != 0 {
					t.Fatalf("Up with 2_b edited = %v, %v; want ErrChecksum naming 2_b", res, err)
				}
			}
			if n := locks.Load(); n != 0 {
				t.Errorf("Up refusing took the lock %d times", n)
			}
			// The version table still holds the text as applied.
			if err := m1.Validate(ctx); err != nil {
				t.Errorf("Validate with the applied text: %v", err)
			}

			if err := m2.AcceptChecksum(ctx, "2_b"); err != nil {
				t.Fatal(err)
			}
			locks.Store(0)
			for range 2 {
				if res, err := m2.Up(ctx); err != nil || res != nil {
					t.Fatalf("Up after accepting = %v, %v; want nothing to do", res, err)
				}
			}
			if n := locks.Load(); n != 0 {
				t.Errorf("Up after accepting took the lock %d times: the newest row's fingerprint was not rewritten", n)
			}
			if err := m2.Validate(ctx); err != nil {
				t.Errorf("Validate after accepting: %v", err)
			}
			// The old text is now the edited one.
			if _, err := m1.Up(ctx); !errors.Is(err, migration.ErrChecksum) {
				t.Errorf("Up with the text from before accepting = %v, want ErrChecksum", err)
			}
			// Accepting every changed migration at once does the same.
			opt3, locks3 := counting(tg.d)
			m3, err := migration.NewManager(db, tg.d, loadMap(t, v1), opt3)
			if err != nil {
				t.Fatal(err)
			}
			if err := m3.AcceptChecksum(ctx, ""); err != nil {
				t.Fatal(err)
			}
			locks3.Store(0)
			if res, err := m3.Up(ctx); err != nil || res != nil || locks3.Load() != 0 {
				t.Errorf("Up after accepting all = %v, %v, taking the lock %d times; want nothing to do and no lock", res, err, locks3.Load())
			}
		})
	}
}

// TestChecksumBackfill starts from rows recorded without checksums, as
// strata wrote them before checksums existed (here: the same IDs applied as
// Go migrations): the first Up with nothing to do records the checksums of
// the current text, logging it, and the next Up takes the fast path.
func TestChecksumBackfill(t *testing.T) {
	files := map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;",
		"2_b.up.sql": "CREATE TABLE b (id int);", "2_b.down.sql": "DROP TABLE b;"}
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			db := tg.open(t)
			ctx := t.Context()
			var old []migration.Migration
			for _, id := range []string{"1_a", "2_b"} {
				stmt := files[id+".up.sql"]
				var deps []string
				if len(old) > 0 {
					deps = []string{old[len(old)-1].ID()}
				}
				old = append(old, &migration.Func{Name: id, Requires: deps,
					UpFn: func(ctx context.Context, tx *migration.Tx) error {
						_, err := tx.ExecContext(ctx, strings.TrimSuffix(stmt, ";"))
						return err
					},
					DownFn: func(context.Context, *migration.Tx) error { return nil }})
			}
			mOld, err := migration.NewManager(db, tg.d, old)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := mOld.Up(ctx); err != nil {
				t.Fatal(err)
			}
			before := headFingerprint(t, tg.d, db)

			var log bytes.Buffer
			opt, locks := counting(tg.d)
			m, err := migration.NewManager(db, tg.d, loadMap(t, files), opt,
				migration.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
			if err != nil {
				t.Fatal(err)
			}
			if res, err := m.Up(ctx); err != nil || res != nil {
				t.Fatalf("first Up = %v, %v; want nothing to do", res, err)
			}
			if n := locks.Load(); n != 1 {
				t.Errorf("first Up took the lock %d times, want once to record the checksums", n)
			}
			h, err := m.History(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i, id := range []string{"1_a", "2_b"} {
				if want := migration.Checksum(files[id+".up.sql"], files[id+".down.sql"]); h[i].Checksum != want {
					t.Errorf("%s: checksum %q, want %q", id, h[i].Checksum, want)
				}
				if !strings.Contains(log.String(), "migration="+id) || !strings.Contains(log.String(), "level=INFO") {
					t.Errorf("no log line naming %s:\n%s", id, log.String())
				}
			}
			if after := headFingerprint(t, tg.d, db); after == before {
				t.Errorf("head fingerprint still %s", after)
			}
			locks.Store(0)
			for range 2 {
				if res, err := m.Up(ctx); err != nil || res != nil {
					t.Fatalf("Up = %v, %v; want nothing to do", res, err)
				}
			}
			if n := locks.Load(); n != 0 {
				t.Errorf("Up after the checksums were recorded took the lock %d times", n)
			}
			// From now on an edit is caught, fast path or not.
			edited := map[string]string{}
			for k, v := range files {
				edited[k] = v
			}
			edited["1_a.up.sql"] = "CREATE TABLE a (id bigint);"
			m3, err := migration.NewManager(db, tg.d, loadMap(t, edited))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m3.Up(ctx); !errors.Is(err, migration.ErrChecksum) || !strings.Contains(err.Error(), "1_a") {
				t.Errorf("Up with 1_a edited = %v, want ErrChecksum naming 1_a", err)
			}
			// Go migrations of the same IDs have no checksum and keep
			// matching the rows as applied: nothing to do, nothing written.
			if res, err := mOld.Up(ctx); err != nil || res != nil {
				t.Errorf("Up with the Go migrations = %v, %v", res, err)
			}
		})
	}
}
