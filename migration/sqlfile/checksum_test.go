package sqlfile_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/sqlfile"
)

func loadMap(t *testing.T, files map[string]string) []migration.Migration {
	t.Helper()
	fsys := fstest.MapFS{}
	for n, d := range files {
		fsys[n] = &fstest.MapFile{Data: []byte(d)}
	}
	ms, err := sqlfile.Load(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestChecksumChanged edits the text of an applied file: status marks it,
// validate and up refuse, AcceptChecksum takes the new text.
func TestChecksumChanged(t *testing.T) {
	v1 := map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;"}
	v2 := map[string]string{"1_a.up.sql": "CREATE TABLE a (id int, x int);", "1_a.down.sql": "DROP TABLE a;",
		"2_b.up.sql": "CREATE TABLE b (id int);", "2_b.down.sql": "DROP TABLE b;"}
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
			m2, err := migration.NewManager(db, tg.d, loadMap(t, v2))
			if err != nil {
				t.Fatal(err)
			}
			st, err := m2.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !st[0].Changed || st[1].Changed {
				t.Errorf("status Changed = %v, %v; want true, false", st[0].Changed, st[1].Changed)
			}
			if err := m2.Validate(ctx); !errors.Is(err, migration.ErrChecksum) || !strings.Contains(err.Error(), "1_a") {
				t.Errorf("Validate = %v, want ErrChecksum naming 1_a", err)
			}
			if res, err := m2.Up(ctx); !errors.Is(err, migration.ErrChecksum) || len(res) != 0 {
				t.Errorf("Up = %v, %v; want ErrChecksum and nothing applied", res, err)
			}
			if hasTable(t, tg.d, db, "b") {
				t.Error("up ran 2_b despite the changed 1_a")
			}
			if err := m2.AcceptChecksum(ctx, "1_a"); err != nil {
				t.Fatal(err)
			}
			if _, err := m2.Up(ctx); err != nil {
				t.Fatalf("Up after accepting: %v", err)
			}
			if !hasTable(t, tg.d, db, "b") {
				t.Error("2_b not applied")
			}
		})
	}
}

// TestChecksumUpgradesOldTable starts from a version table as strata wrote
// it before checksums: status reads it, up adds the column in place and
// records checksums from then on.
func TestChecksumUpgradesOldTable(t *testing.T) {
	files := map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;",
		"2_b.up.sql": "CREATE TABLE b (id int);", "2_b.down.sql": "DROP TABLE b;"}
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			db := tg.open(t)
			ctx := t.Context()
			for _, stmt := range tg.d.VersionTableDDL(migration.DefaultTable) {
				if _, err := db.ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.ExecContext(ctx, "CREATE TABLE a (id int)"); err != nil {
				t.Fatal(err)
			}
			p := tg.d.Placeholder
			q := `INSERT INTO ` + dialect.QuoteTable(tg.d, migration.DefaultTable) + ` (` + dialect.VersionTableColumns + `) VALUES (` +
				strings.Join([]string{p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8)}, ", ") + `)`
			if _, err := db.ExecContext(ctx, q, "1_a", 1, "a", time.Now().UTC(), 0, false, "", ""); err != nil {
				t.Fatal(err)
			}
			m, err := migration.NewManager(db, tg.d, loadMap(t, files))
			if err != nil {
				t.Fatal(err)
			}
			st, err := m.Status(ctx)
			if err != nil {
				t.Fatalf("status on an old table: %v", err)
			}
			if st[0].State != migration.StateApplied || st[0].Changed || st[1].State != migration.StatePending {
				t.Errorf("status = %+v", st)
			}
			if _, err := m.Up(ctx); err != nil {
				t.Fatal(err)
			}
			h, err := m.History(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if h[0].Checksum != "" || h[1].Checksum != migration.Checksum("CREATE TABLE b (id int);", "DROP TABLE b;") {
				t.Errorf("checksums = %q, %q", h[0].Checksum, h[1].Checksum)
			}
			// The next Up has nothing to do and records the old row's
			// checksum from the current text, so that starts after it
			// find the database up to date in one read.
			if res, err := m.Up(ctx); err != nil || res != nil {
				t.Fatalf("Up when up to date = %v, %v", res, err)
			}
			if h, err = m.History(ctx); err != nil {
				t.Fatal(err)
			}
			if h[0].Checksum != migration.Checksum("CREATE TABLE a (id int);", "DROP TABLE a;") {
				t.Errorf("checksum of 1_a after an up-to-date Up = %q", h[0].Checksum)
			}
			opt, locks := counting(tg.d)
			m2, err := migration.NewManager(db, tg.d, loadMap(t, files), opt)
			if err != nil {
				t.Fatal(err)
			}
			if res, err := m2.Up(ctx); err != nil || res != nil || locks.Load() != 0 {
				t.Errorf("Up = %v, %v, taking the lock %d times; want nothing to do and no lock", res, err, locks.Load())
			}
		})
	}
}
