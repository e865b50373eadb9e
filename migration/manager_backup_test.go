package migration_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strata-go/strata/backup"
	"github.com/strata-go/strata/dialect"
	dialectmysql "github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/migration"
)

// The built-in dialects implement the backup interfaces declared in
// package migration, which they do not import.
var (
	_ migration.DefaultBackuper = (*sqlite.Dialect)(nil)
	_ migration.DSNBackuper     = (*postgres.Dialect)(nil)
	_ migration.DSNBackuper     = (*dialectmysql.Dialect)(nil)
)

// bkMigrations returns a migration that creates and fills a table, and a
// destructive one that asks for a backup: it drops a column on Up and the
// whole table on Down.
func bkMigrations() []migration.Migration {
	return []migration.Migration{
		&migration.Func{
			Name: "0001_users",
			UpFn: func(ctx context.Context, tx *migration.Tx) error {
				for _, q := range []string{
					`CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, legacy VARCHAR(100))`,
					`INSERT INTO users (id, name, legacy) VALUES (1, 'ada', 'x'), (2, 'bob', NULL), (3, 'o''neil', 'z')`,
				} {
					if _, err := tx.ExecContext(ctx, q); err != nil {
						return err
					}
				}
				return nil
			},
			DownFn: func(ctx context.Context, tx *migration.Tx) error {
				_, err := tx.ExecContext(ctx, `DROP TABLE users`)
				return err
			},
		},
		&migration.Func{
			Name:     "0002_drop legacy",
			Requires: []string{"0001_users"},
			Backup:   true,
			UpFn: func(ctx context.Context, tx *migration.Tx) error {
				return tx.DropColumn(ctx, "users", "legacy")
			},
			DownFn: func(ctx context.Context, tx *migration.Tx) error {
				_, err := tx.ExecContext(ctx, `DROP TABLE users`)
				return err
			},
		},
	}
}

// bkOpen opens a SQLite database in a temporary directory.
func bkOpen(t *testing.T) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func bkManager(t *testing.T, db *sql.DB, d dialect.Dialect, ms []migration.Migration, opts ...migration.Option) *migration.Manager {
	t.Helper()
	m, err := migration.NewManager(db, d, ms, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// bkRows returns the rows of users, or the error reading them.
// bkQueries numbers [bkRows]'s queries.
var bkQueries atomic.Int64

func bkRows(t *testing.T, db *sql.DB) string {
	t.Helper()
	// Each query's text is new, so no connection has a plan cached for it
	// from before a restore changed the table's columns.
	rows, err := db.QueryContext(t.Context(), fmt.Sprintf(`SELECT * FROM users ORDER BY id -- %d`, bkQueries.Add(1)))
	if err != nil {
		return "error: " + err.Error()
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(strings.Join(cols, ",") + "\n")
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				vals[i] = string(bs)
			}
		}
		fmt.Fprintln(&b, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func bkStates(t *testing.T, m *migration.Manager) []string {
	t.Helper()
	st, err := m.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range st {
		out = append(out, s.ID+"="+string(s.State))
	}
	return out
}

// bkRoundTrip is what every database must do: a destructive migration gets
// a backup first, named in its Result; restoring it brings back the rows,
// the schema and the version table from before, so the migration is
// pending again and can run again.
func bkRoundTrip(t *testing.T, db *sql.DB, m *migration.Manager, wantDir, wantExt string) {
	t.Helper()
	ctx := t.Context()
	if _, err := m.UpTo(ctx, "0001_users"); err != nil {
		t.Fatalf("UpTo 0001: %v", err)
	}
	before, beforeStates := bkRows(t, db), bkStates(t, m)

	res, err := m.Up(ctx)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	if len(res) != 1 || res[0].ID != "0002_drop legacy" || res[0].Backup == "" {
		t.Fatalf("Up results %+v, want 0002 with a backup", res)
	}
	path := res[0].Backup
	if wantDir != "" && filepath.Dir(path) != wantDir {
		t.Errorf("backup in %s, want %s", filepath.Dir(path), wantDir)
	}
	if base := filepath.Base(path); !strings.Contains(base, "-0002_drop_legacy-") || !strings.HasSuffix(base, "Z"+wantExt) {
		t.Errorf("backup file name %s, want <db>-0002_drop_legacy-<time>Z%s", base, wantExt)
	}
	for _, p := range []string{path, path + backup.ChecksumExt} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", p, fi, err)
		}
	}
	if after := bkRows(t, db); after == before {
		t.Fatalf("the migration changed nothing:\n%s", after)
	}

	if err := m.Restore(ctx, path); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := bkRows(t, db); got != before {
		t.Errorf("after restore users is\n%s\nwant\n%s", got, before)
	}
	if got := bkStates(t, m); !slices.Equal(got, beforeStates) {
		t.Errorf("after restore states %v, want %v", got, beforeStates)
	}
	files, err := m.Backups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != path {
		t.Errorf("Backups = %+v, want the one backup", files)
	}

	// The migration runs again, and its Down is backed up too.
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("Up after restore: %v", err)
	}
	res, err = m.Down(ctx)
	if err != nil {
		t.Fatalf("Down: %v", err)
	}
	if len(res) != 1 || res[0].Backup == "" || !strings.Contains(filepath.Base(res[0].Backup), "-0002_drop_legacy-down-") {
		t.Fatalf("Down results %+v, want a backup named for the migration's Down", res)
	}
	if got := bkRows(t, db); !strings.HasPrefix(got, "error:") {
		t.Fatalf("users still there after Down:\n%s", got)
	}
	if err := m.Restore(ctx, res[0].Backup); err != nil {
		t.Fatalf("Restore before Down: %v", err)
	}
	if got := bkStates(t, m); !slices.Equal(got, []string{"0001_users=applied", "0002_drop legacy=applied"}) {
		t.Errorf("after restoring the backup taken before Down: %v", got)
	}
	if got := bkRows(t, db); strings.HasPrefix(got, "error:") || strings.Contains(got, "legacy") {
		t.Errorf("after restoring the backup taken before Down users is\n%s", got)
	}
}

func TestBackupSQLite(t *testing.T) {
	db, path := bkOpen(t)
	m := bkManager(t, db, sqlite.New(), bkMigrations())
	bkRoundTrip(t, db, m, path+".backups", ".sqlite")
}

func TestBackupPostgres(t *testing.T) {
	db, dsn := pgtest.New(t)
	dir := filepath.Join(t.TempDir(), "backups")
	m := bkManager(t, db, postgres.New(), bkMigrations(),
		migration.WithBackuper(backup.NewPostgres(dsn)), migration.WithBackupDir(dir))
	bkRoundTrip(t, db, m, dir, ".dump")
}

func TestBackupMySQL(t *testing.T) {
	db, dsn := mytest.New(t)
	dir := filepath.Join(t.TempDir(), "backups")
	m := bkManager(t, db, dialectmysql.New(), bkMigrations(),
		migration.WithBackuper(backup.NewMySQL(dsn)), migration.WithBackupDir(dir))
	bkRoundTrip(t, db, m, dir, ".sql")
}

// renamed is SQLite under another name, with only the methods of the
// Dialect interface: no default backuper.
type renamed struct{ dialect.Dialect }

func (renamed) Name() string { return "custom" }

// failing is a backuper whose backups fail.
type failing struct{ *backup.SQLite }

func (failing) Backup(context.Context, *sql.Conn, string) error { return errors.New("disk full") }

// TestBackupFailureStopsMigration: when the backup fails, the migration
// does not start, and the error names it and the step.
func TestBackupFailureStopsMigration(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dialect dialect.Dialect
		opts    []migration.Option
		want    []string
		upFront bool // refused before the run starts
	}{
		{name: "directory is a file", dialect: sqlite.New(), opts: []migration.Option{migration.WithBackupDir(notDir)},
			want: []string{"not a directory"}},
		{name: "directory under a file", dialect: sqlite.New(), opts: []migration.Option{migration.WithBackupDir(filepath.Join(notDir, "x"))},
			want: []string{"not a directory"}},
		{name: "world-writable directory", dialect: sqlite.New(), opts: []migration.Option{migration.WithBackupDir(shared)},
			want: []string{"writable by group or others"}},
		{name: "no backuper for the dialect", dialect: renamed{sqlite.New()}, upFront: true,
			want: []string{`no backuper configured for dialect "custom"`, "migration.WithBackuper", "nothing was run"}},
		{name: "backuper fails", dialect: sqlite.New(), opts: []migration.Option{migration.WithBackuper(failing{})},
			want: []string{"disk full"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := bkOpen(t)
			m := bkManager(t, db, tt.dialect, bkMigrations(), tt.opts...)
			if _, err := m.UpTo(t.Context(), "0001_users"); err != nil {
				t.Fatal(err)
			}
			before := bkRows(t, db)
			res, err := m.Up(t.Context())
			var me *migration.Error
			if !errors.As(err, &me) || me.ID != "0002_drop legacy" || me.Step != migration.StepBackup {
				t.Fatalf("Up: %v, want a *migration.Error for 0002 at step backup", err)
			}
			t.Logf("error: %v", err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.upFront {
				// Refused before the run started: no result.
				if len(res) != 0 {
					t.Errorf("results %+v, want none: refused before anything ran", res)
				}
			} else if len(res) != 1 || res[0].Err == nil || res[0].Backup != "" {
				t.Errorf("results %+v, want 0002 failed without a backup", res)
			}
			if got := bkRows(t, db); got != before {
				t.Errorf("the migration ran:\n%s", got)
			}
			if got := bkStates(t, m); !slices.Equal(got, []string{"0001_users=applied", "0002_drop legacy=pending"}) {
				t.Errorf("states %v", got)
			}
		})
	}
}

func TestBackupServerWithoutBackuper(t *testing.T) {
	tests := []struct {
		name string
		open func(t *testing.T) (*sql.DB, dialect.Dialect)
		want string
	}{
		{name: "postgres", open: func(t *testing.T) (*sql.DB, dialect.Dialect) {
			db, _ := pgtest.New(t)
			return db, postgres.New()
		}, want: "migration.WithBackuper(backup.NewPostgres(dsn))"},
		{name: "mysql", open: func(t *testing.T) (*sql.DB, dialect.Dialect) {
			db, _ := mytest.New(t)
			return db, dialectmysql.New()
		}, want: "migration.WithBackuper(backup.NewMySQL(dsn))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, d := tt.open(t)
			m := bkManager(t, db, d, bkMigrations())
			res, err := m.Up(t.Context())
			var me *migration.Error
			if !errors.As(err, &me) || me.Step != migration.StepBackup || me.ID != "0002_drop legacy" ||
				!strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "nothing was run") {
				t.Fatalf("Up: %v, want a backup error naming 0002 and saying %s", err, tt.want)
			}
			// Refused before the run started, not half way through a
			// deploy: 0001, which needs no backup, did not run either.
			if len(res) != 0 {
				t.Errorf("results %+v, want none", res)
			}
			if got := bkStates(t, m); !slices.Equal(got, []string{"0001_users=pending", "0002_drop legacy=pending"}) {
				t.Errorf("states %v", got)
			}
		})
	}
}

// TestBackupManual: Backup under the lock, Backups, retention, and a
// restore of a damaged file that changes nothing.
func TestBackupManual(t *testing.T) {
	db, path := bkOpen(t)
	m := bkManager(t, db, sqlite.New(), bkMigrations(), migration.WithBackupKeep(2))
	ctx := t.Context()
	if _, err := m.UpTo(ctx, "0001_users"); err != nil {
		t.Fatal(err)
	}
	var made []string
	for _, label := range []string{"one", "two", ""} {
		f, err := m.Backup(ctx, label)
		if err != nil {
			t.Fatalf("Backup(%q): %v", label, err)
		}
		made = append(made, f.Path)
	}
	if !strings.Contains(filepath.Base(made[2]), "-manual-") {
		t.Errorf("unlabelled backup %s, want -manual- in the name", made[2])
	}
	files, err := m.Backups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
	}
	if want := []string{made[2], made[1]}; !slices.Equal(got, want) {
		t.Errorf("Backups after keeping 2 of 3:\n got %v\nwant %v", got, want)
	}
	entries, err := os.ReadDir(path + ".backups")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Errorf("backup directory holds %d files, want 2 backups and 2 checksums", len(entries))
	}

	// A damaged backup is refused and the database stays as it is.
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	want := bkRows(t, db)
	f, err := os.OpenFile(made[2], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("garbage")
	f.Close()
	err = m.Restore(ctx, made[2])
	var me *migration.Error
	if !errors.As(err, &me) || me.Step != migration.StepRestore || !errors.Is(err, backup.ErrChecksum) {
		t.Errorf("Restore(damaged): %v, want a restore error wrapping backup.ErrChecksum", err)
	}
	if got := bkRows(t, db); got != want {
		t.Errorf("a refused restore changed users:\n%s\nwant\n%s", got, want)
	}
	if err := m.Restore(ctx, filepath.Join(t.TempDir(), "missing.sqlite")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Restore(missing file): %v, want not exist", err)
	}
}

func TestBackupOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  migration.Option
		want string
	}{
		{name: "nil backuper", opt: migration.WithBackuper(nil), want: "WithBackuper: nil backuper"},
		{name: "empty directory", opt: migration.WithBackupDir(""), want: "WithBackupDir: empty directory"},
		{name: "negative keep", opt: migration.WithBackupKeep(-1), want: "WithBackupKeep: negative count -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := bkOpen(t)
			_, err := migration.NewManager(db, sqlite.New(), bkMigrations(), tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewManager: %v, want %q", err, tt.want)
			}
		})
	}
}

// On PostgreSQL and MySQL a backuper needs the DSN for the client tools,
// and a directory.
func ExampleWithBackuper() {
	dsn := "postgres://app:secret@db.internal:5432/app?sslmode=require"
	db, err := sql.Open(postgres.DriverName, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	m, err := migration.NewManager(db, postgres.New(), bkMigrations(),
		migration.WithBackuper(backup.NewPostgres(dsn)),
		migration.WithBackupDir("/var/backups/app"),
		migration.WithBackupKeep(10))
	if err != nil {
		log.Fatal(err)
	}
	res, err := m.Up(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res {
		if r.Backup != "" {
			fmt.Println(r.ID, "backed up to", r.Backup)
		}
	}
}

// A migration that asks for a backup gets one first; on SQLite it goes
// beside the database file with no configuration. Restoring it brings the
// database, version table included, back to before the migration.
func ExampleManager_Restore() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(filepath.Join(dir, "app.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	m, err := migration.NewManager(db, sqlite.New(), bkMigrations())
	if err != nil {
		log.Fatal(err)
	}
	res, err := m.Up(ctx)
	if err != nil {
		log.Fatal(err)
	}
	backupFile := res[1].Backup
	fmt.Println(res[1].ID, "backed up to", filepath.Base(filepath.Dir(backupFile)))

	if err := m.Restore(ctx, backupFile); err != nil {
		log.Fatal(err)
	}
	pending, err := m.Pending(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pending again:", pending[0].ID())
	// Output:
	// 0002_drop legacy backed up to app.db.backups
	// pending again: 0002_drop legacy
}
