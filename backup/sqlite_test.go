package backup

import (
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newSQLite opens a database in a temporary directory with a schema that
// exercises what a restore must keep: AUTOINCREMENT, foreign keys, a rowid
// table without an INTEGER PRIMARY KEY (whose rowids VACUUM could change),
// WITHOUT ROWID, STRICT, a generated column, an index, a view, a trigger,
// odd identifiers and header fields.
func newSQLite(t *testing.T) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mustExec(t, db,
		`CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, legacy TEXT)`,
		`CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, body TEXT)`,
		`CREATE INDEX posts_user ON posts (user_id)`,
		`CREATE TABLE notes (body TEXT)`,
		`CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID`,
		`CREATE TABLE "odd ""name""" (x INTEGER, y INTEGER GENERATED ALWAYS AS (x * 2) STORED) STRICT`,
		`CREATE VIEW user_posts AS SELECT u.name, p.body FROM users u JOIN posts p ON p.user_id = u.id`,
		`CREATE TABLE audit (what TEXT)`,
		`CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES ('user ' || new.name); END`,
		`INSERT INTO users (name, legacy) VALUES ('ada', 'x'), ('bob', NULL), ('cy', 'z')`,
		`DELETE FROM users WHERE name = 'cy'`, // the AUTOINCREMENT counter stays at 3
		`INSERT INTO posts (user_id, body) VALUES (1, 'hello'), (2, 'world')`,
		`INSERT INTO notes VALUES ('a'), ('b'), ('c')`,
		`DELETE FROM notes WHERE body = 'a'`, // rowids 2, 3: VACUUM could renumber them
		`INSERT INTO kv VALUES ('k1', x'00ff'), ('k2', NULL)`,
		`INSERT INTO "odd ""name""" (x) VALUES (1), (2)`,
		`PRAGMA user_version = 7`,
		`PRAGMA application_id = 42`,
	)
	return db, path
}

func TestSQLiteBackupRestore(t *testing.T) {
	tests := []struct {
		name   string
		damage []string // what happens to the database after the backup
	}{
		{name: "drop column", damage: []string{`ALTER TABLE users DROP COLUMN legacy`}},
		{name: "drop table", damage: []string{`DROP VIEW user_posts`, `DROP TABLE posts`}},
		{name: "new rows and tables", damage: []string{
			`INSERT INTO users (name) VALUES ('eve')`,
			`DELETE FROM notes`,
			`CREATE TABLE extra (x)`,
			`CREATE INDEX extra_x ON extra (x)`,
			`PRAGMA user_version = 8`,
		}},
		{name: "everything gone", damage: []string{
			`DROP VIEW user_posts`, `DROP TABLE posts`, `DROP TABLE users`, `DROP TABLE notes`, `DROP TABLE kv`,
			`DROP TABLE "odd ""name"""`, `DROP TABLE audit`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, dbPath := newSQLite(t)
			c := conn(t, db)
			before := sqliteSnapshot(t, c)
			f, err := Create(t.Context(), NewSQLite(), c, Options{Label: "0007_drop legacy/x"})
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			wantDir := dbPath + ".backups"
			if filepath.Dir(f.Path) != wantDir {
				t.Errorf("backup in %s, want %s", filepath.Dir(f.Path), wantDir)
			}
			base := filepath.Base(f.Path)
			if !strings.HasPrefix(base, "app-0007_drop_legacy_x-") || !strings.HasSuffix(base, "Z.sqlite") {
				t.Errorf("file name %s, want app-0007_drop_legacy_x-<time>Z.sqlite", base)
			}
			mustExec(t, c, tt.damage...)
			if sqliteSnapshot(t, c) == before {
				t.Fatal("damage changed nothing")
			}
			if err := Restore(t.Context(), NewSQLite(), c, f.Path); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if after := sqliteSnapshot(t, c); after != before {
				t.Errorf("restored database differs\nbefore:\n%s\nafter:\n%s", before, after)
			}
			// Foreign keys are back on and hold; triggers fire again.
			var fk int
			if err := c.QueryRowContext(t.Context(), `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
				t.Errorf("foreign_keys = %d, %v after restore, want 1", fk, err)
			}
			if _, err := c.ExecContext(t.Context(), `INSERT INTO posts (user_id, body) VALUES (99, 'orphan')`); err == nil {
				t.Error("foreign key not enforced after restore")
			}
			mustExec(t, c, `INSERT INTO users (name) VALUES ('dan')`)
			var id int
			var audit int
			if err := c.QueryRowContext(t.Context(), `SELECT max(id), (SELECT count(*) FROM audit) FROM users`).Scan(&id, &audit); err != nil {
				t.Fatal(err)
			}
			// 3 audit rows restored, 1 from the trigger: had it fired while
			// rows were copied there would be more.
			if id != 4 || audit != 4 {
				t.Errorf("after restore a new user got id %d (want 4: AUTOINCREMENT counter kept) and there are %d audit rows (want 4)", id, audit)
			}
		})
	}
}

func TestSQLiteFiles(t *testing.T) {
	db, _ := newSQLite(t)
	c := conn(t, db)
	dir := filepath.Join(t.TempDir(), "new", "backups")
	f, err := Create(t.Context(), NewSQLite(), c, Options{Dir: dir, Label: "0001"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	checks := []struct {
		name string
		path string
		mode os.FileMode
	}{
		{name: "directory", path: dir, mode: os.ModeDir | 0o700},
		{name: "parent directory", path: filepath.Dir(dir), mode: os.ModeDir | 0o700},
		{name: "backup", path: f.Path, mode: 0o600},
		{name: "checksum", path: f.Path + ChecksumExt, mode: 0o600},
	}
	for _, tt := range checks {
		t.Run(tt.name, func(t *testing.T) {
			fi, err := os.Stat(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != tt.mode {
				t.Errorf("%s has mode %v, want %v", tt.path, fi.Mode(), tt.mode)
			}
		})
	}
	if got := dirNames(t, dir); len(got) != 2 {
		t.Errorf("directory holds %v, want the backup and its checksum only", got)
	}
	t.Run("sha256sum -c", func(t *testing.T) {
		if _, err := exec.LookPath("sha256sum"); err != nil {
			// Without the tool, check the format it reads.
			b, err := os.ReadFile(f.Path + ChecksumExt)
			if err != nil {
				t.Fatal(err)
			}
			if want := f.Checksum + "  " + filepath.Base(f.Path) + "\n"; string(b) != want {
				t.Fatalf("checksum file %q, want %q", b, want)
			}
			return
		}
		cmd := exec.CommandContext(t.Context(), "sha256sum", "-c", filepath.Base(f.Path)+ChecksumExt)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c: %v: %s", err, out)
		}
	})
	t.Run("list", func(t *testing.T) {
		files, err := List(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 1 || files[0].Path != f.Path || files[0].Checksum != f.Checksum || files[0].Size != f.Size ||
			files[0].Database != "app" || files[0].Label != "0001" || !files[0].Time.Equal(f.Time) {
			t.Errorf("List = %+v, want [%+v]", files, f)
		}
	})
}

// TestSQLiteOnline backs up while another *sql.DB on the same file keeps
// inserting: the backup must be a consistent snapshot, holding a prefix of
// the inserts.
func TestSQLiteOnline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, `CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)`)
	// Some bulk so that the backup takes a while.
	mustExec(t, db, `CREATE TABLE bulk (b BLOB)`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO bulk SELECT randomblob(512) FROM n`)

	writer, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	var inserted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var werr error
	wg.Go(func() {
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := writer.Exec(`INSERT INTO events (id, payload) VALUES (?, ?)`, i, strings.Repeat("x", 100)); err != nil {
				werr = err
				return
			}
			inserted.Store(i)
		}
	})
	for inserted.Load() < 200 {
		time.Sleep(time.Millisecond)
	}
	c := conn(t, db)
	f, err := Create(t.Context(), NewSQLite(), c, Options{Dir: t.TempDir(), Label: "online"})
	during := inserted.Load()
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if werr != nil {
		t.Fatalf("writer: %v", werr)
	}
	if inserted.Load() <= during {
		t.Errorf("the writer made no progress after the backup (%d rows)", during)
	}

	bak, err := sql.Open("sqlite3", "file:"+f.Path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer bak.Close()
	if got := rowsText(t, bak, `PRAGMA integrity_check`); len(got) != 1 || got[0] != `"ok"` {
		t.Errorf("integrity_check of the backup: %v", got)
	}
	var n, lo, hi int64
	if err := bak.QueryRow(`SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0) FROM events`).Scan(&n, &lo, &hi); err != nil {
		t.Fatal(err)
	}
	if n == 0 || lo != 1 || hi != n {
		t.Errorf("backup holds %d events with ids %d..%d, want 1..k without gaps", n, lo, hi)
	}
	if n > during {
		t.Errorf("backup holds %d events, more than the %d inserted when it finished", n, during)
	}
	t.Logf("backup holds events 1..%d; %d were inserted by the end", n, inserted.Load())
}

// TestSQLiteRestoreBadInput: each bad file is refused with a clear error,
// and the database is left as it was.
func TestSQLiteRestoreBadInput(t *testing.T) {
	tests := []struct {
		name    string
		spoil   func(t *testing.T, path string) string // returns the path to restore
		wantErr error
		wantMsg string
	}{
		{
			name:    "wrong checksum",
			spoil:   func(t *testing.T, p string) string { flipByte(t, p, 5000); return p },
			wantErr: ErrChecksum,
			wantMsg: "damaged or was changed",
		},
		{
			name: "no checksum",
			spoil: func(t *testing.T, p string) string {
				if err := os.Remove(p + ChecksumExt); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantErr: ErrNoChecksum,
			wantMsg: ".sha256 is missing",
		},
		{
			name: "checksum of another file",
			spoil: func(t *testing.T, p string) string {
				q := p + ".copy.sqlite"
				copyFile(t, p, q)
				copyFile(t, p+ChecksumExt, q+ChecksumExt)
				return q
			},
			wantErr: ErrChecksum,
			wantMsg: "not of",
		},
		{
			name: "truncated, checksum updated",
			spoil: func(t *testing.T, p string) string {
				truncate(t, p, 4096*3)
				rewriteChecksum(t, p)
				return p
			},
			wantErr: ErrInvalid,
			wantMsg: "truncated",
		},
		{
			name: "truncated mid-page, checksum updated",
			spoil: func(t *testing.T, p string) string {
				truncate(t, p, 4096*3+100)
				rewriteChecksum(t, p)
				return p
			},
			wantErr: ErrInvalid,
			wantMsg: "truncated",
		},
		{
			name: "corrupted page, checksum updated",
			spoil: func(t *testing.T, p string) string {
				// Page 2 is the first table's root page: break its header.
				for i := range 16 {
					flipByte(t, p, 4096+int64(i))
				}
				rewriteChecksum(t, p)
				return p
			},
			wantErr: ErrInvalid,
		},
		{
			name: "empty file, checksum updated",
			spoil: func(t *testing.T, p string) string {
				truncate(t, p, 0)
				rewriteChecksum(t, p)
				return p
			},
			wantErr: ErrInvalid,
			wantMsg: "not a SQLite database",
		},
		{
			name: "not a database, checksum updated",
			spoil: func(t *testing.T, p string) string {
				if err := os.WriteFile(p, []byte(strings.Repeat("-- pg_dump output\n", 500)), 0o600); err != nil {
					t.Fatal(err)
				}
				rewriteChecksum(t, p)
				return p
			},
			wantErr: ErrInvalid,
			wantMsg: "not a SQLite database",
		},
		{
			name:    "missing file",
			spoil:   func(t *testing.T, p string) string { return p + ".nope" },
			wantErr: os.ErrNotExist,
		},
		{
			name:    "missing directory",
			spoil:   func(t *testing.T, p string) string { return filepath.Join(t.TempDir(), "gone", filepath.Base(p)) },
			wantErr: os.ErrNotExist,
		},
		{
			name:    "a directory",
			spoil:   func(t *testing.T, p string) string { return filepath.Dir(p) },
			wantMsg: "not a regular file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := newSQLite(t)
			c := conn(t, db)
			f, err := Create(t.Context(), NewSQLite(), c, Options{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, c, `ALTER TABLE users DROP COLUMN legacy`, `INSERT INTO notes VALUES ('after')`)
			want := sqliteSnapshot(t, c)
			path := tt.spoil(t, f.Path)
			err = Restore(t.Context(), NewSQLite(), c, path)
			if err == nil {
				t.Fatal("Restore succeeded")
			}
			t.Logf("error: %v", err)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want one wrapping %v", err, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if got := sqliteSnapshot(t, c); got != want {
				t.Errorf("database changed by a failed restore\nwant:\n%s\ngot:\n%s", want, got)
			}
			if got := rowsText(t, c, `PRAGMA database_list`); strings.Contains(strings.Join(got, " "), "strata_") {
				t.Errorf("backup still attached: %v", got)
			}
		})
	}
}

// TestSQLiteRestoreItself: restoring the database file into itself would
// drop everything; it is refused.
func TestSQLiteRestoreItself(t *testing.T) {
	db, path := newSQLite(t)
	c := conn(t, db)
	want := sqliteSnapshot(t, c)
	err := NewSQLite().Restore(t.Context(), c, path)
	if err == nil || !strings.Contains(err.Error(), "is the database itself") {
		t.Errorf("Restore(the database) = %v, want refusal", err)
	}
	if got := sqliteSnapshot(t, c); got != want {
		t.Error("database changed")
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
