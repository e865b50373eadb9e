package migration_test

import (
	"context"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

// TestRebuildInsideMigration: dropping a column of a parent table on SQLite
// rebuilds it; inside a migration the manager's foreign-key protocol keeps
// ON DELETE CASCADE from deleting the children, and Down brings the column
// back.
func TestRebuildInsideMigration(t *testing.T) {
	db := openDB(t)
	ms := []migration.Migration{
		migration.SQL("0001_schema", `
			CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT, legacy TEXT);
			CREATE INDEX parent_name ON parent(name);
			CREATE INDEX parent_legacy ON parent(legacy); -- native DROP COLUMN refuses: a rebuild
			CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE);
			INSERT INTO parent VALUES (1, 'a', 'x'), (2, 'b', 'y');
			INSERT INTO child VALUES (10, 1), (11, 1), (12, 2);`,
			`DROP TABLE child; DROP TABLE parent`),
		&migration.Func{Name: "0002_drop_legacy", Requires: []string{"0001_schema"},
			UpFn: func(ctx context.Context, tx *migration.Tx) error {
				return tx.DropColumn(ctx, "parent", "legacy")
			},
			DownFn: func(ctx context.Context, tx *migration.Tx) error {
				_, err := tx.ExecContext(ctx, `ALTER TABLE parent ADD COLUMN legacy TEXT`)
				return err
			}},
	}
	m := newManager(t, db, ms)
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM child`); n != 3 {
		t.Fatalf("child rows = %d after the rebuild, want 3", n)
	}
	if n := count(`SELECT count(*) FROM pragma_table_info('parent') WHERE name = 'legacy'`); n != 0 {
		t.Fatal("legacy column still there")
	}
	if n := count(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'parent_name'`); n != 1 {
		t.Fatal("index parent_name lost")
	}
	if n := count(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'parent_legacy'`); n != 0 {
		t.Fatal("index parent_legacy should have gone with its column")
	}
	if _, err := m.Down(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM pragma_table_info('parent') WHERE name = 'legacy'`); n != 1 {
		t.Fatal("Down did not bring legacy back")
	}
	if n := count(`SELECT count(*) FROM child`); n != 3 {
		t.Fatalf("child rows = %d after Down, want 3", n)
	}
	// Foreign keys are enforced again: deleting a parent cascades.
	if _, err := db.Exec(`DELETE FROM parent WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM child`); n != 1 {
		t.Fatalf("child rows = %d after deleting parent 1, want 1 (cascade)", n)
	}
}

// TestRebuildAfterForeignKeysTurnedOn: a migration outside a transaction
// that turns PRAGMA foreign_keys on must not make a later rebuild of a
// parent table cascade-delete its children: the manager restores its
// foreign-key protocol (enforcement off, checked before each commit)
// before every migration, and switches enforcement back on after the run.
func TestRebuildAfterForeignKeysTurnedOn(t *testing.T) {
	for _, noTx := range []bool{true, false} {
		t.Run(map[bool]string{true: "outside a transaction", false: "in a transaction"}[noTx], func(t *testing.T) {
			db := openDB(t)
			db.SetMaxOpenConns(1)
			ms := []migration.Migration{
				migration.SQL("0001_schema", `
					CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
					CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE);
					INSERT INTO parent VALUES (1, 'a'), (2, 'b');
					INSERT INTO child VALUES (10, 1), (11, 1), (12, 2);`,
					`DROP TABLE child; DROP TABLE parent`),
				&migration.Func{Name: "0002_fk_on", Requires: []string{"0001_schema"}, NoTx: noTx,
					UpFn: func(ctx context.Context, tx *migration.Tx) error {
						_, err := tx.ExecContext(ctx, `PRAGMA foreign_keys = ON`)
						return err
					},
					DownFn: func(context.Context, *migration.Tx) error { return nil }},
				&migration.Func{Name: "0003_rebuild_parent", Requires: []string{"0002_fk_on"},
					UpFn: func(ctx context.Context, tx *migration.Tx) error {
						return sqlite.RebuildTable(ctx, tx, "parent", sqlite.AlterColumn("name", sqlite.SetDefault("'x'")))
					},
					DownFn: func(ctx context.Context, tx *migration.Tx) error {
						return sqlite.RebuildTable(ctx, tx, "parent", sqlite.AlterColumn("name", sqlite.DropDefault()))
					}},
			}
			m := newManager(t, db, ms)
			count := func(q string) int {
				t.Helper()
				var n int
				if err := db.QueryRow(q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if _, err := m.Up(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n := count(`SELECT count(*) FROM child`); n != 3 {
				t.Fatalf("child rows = %d after the rebuild, want 3", n)
			}
			if _, err := m.Reset(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Up(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n := count(`SELECT count(*) FROM child`); n != 3 {
				t.Fatalf("child rows = %d after Reset and Up, want 3", n)
			}
			// Enforcement is back on for the application: deleting a
			// parent cascades.
			if n := count(`PRAGMA foreign_keys`); n != 1 {
				t.Fatalf("foreign_keys = %d after the run, want 1", n)
			}
			if _, err := db.Exec(`DELETE FROM parent WHERE id = 1`); err != nil {
				t.Fatal(err)
			}
			if n := count(`SELECT count(*) FROM child`); n != 1 {
				t.Fatalf("child rows = %d after deleting parent 1, want 1 (cascade)", n)
			}
		})
	}
}
