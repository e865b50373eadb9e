package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeBackuper writes content as the backup and records restores.
type fakeBackuper struct {
	info      Info
	content   string
	backupErr error
	verifyErr error
	restored  []string
}

func (f *fakeBackuper) Describe(context.Context, *sql.Conn) (Info, error) { return f.info, nil }

func (f *fakeBackuper) Backup(_ context.Context, _ *sql.Conn, path string) error {
	if f.backupErr != nil {
		return f.backupErr
	}
	return os.WriteFile(path, []byte(f.content), 0o600)
}

func (f *fakeBackuper) Verify(context.Context, *sql.Conn, string) error { return f.verifyErr }

func (f *fakeBackuper) Restore(_ context.Context, _ *sql.Conn, path string) error {
	f.restored = append(f.restored, path)
	return nil
}

// anyConn returns a connection for backupers that do not use it.
func anyConn(t *testing.T) *sql.Conn {
	t.Helper()
	db, err := openSQLite(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return conn(t, db)
}

func TestCreateDirectory(t *testing.T) {
	tests := []struct {
		name    string
		dir     func(t *testing.T) string // Options.Dir
		infoDir string
		wantErr string // "" for success
	}{
		{name: "missing, created", dir: func(t *testing.T) string { return filepath.Join(t.TempDir(), "a", "b") }},
		{name: "default from backuper", dir: func(t *testing.T) string { return "" }, infoDir: "set below"},
		{name: "no directory at all", dir: func(t *testing.T) string { return "" }, wantErr: "no directory for backups"},
		{
			name: "a regular file",
			dir: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(p, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantErr: "not a directory",
		},
		{
			name: "under a regular file",
			dir: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(p, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return filepath.Join(p, "backups")
			},
			wantErr: "not a directory",
		},
		{
			name: "group-writable",
			dir: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "shared")
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, 0o770); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantErr: "writable by group or others (mode 0770)",
		},
		{
			name: "world-writable",
			dir: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "tmp")
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, 0o1777); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantErr: "writable by group or others",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			b := &fakeBackuper{info: Info{Database: "app", Ext: ".bak"}, content: "data"}
			if tt.infoDir != "" {
				b.info.Dir = filepath.Join(t.TempDir(), "default")
			}
			f, err := Create(t.Context(), b, anyConn(t), Options{Dir: dir, Label: "x"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Create: %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			want := dir
			if want == "" {
				want = b.info.Dir
			}
			if filepath.Dir(f.Path) != want {
				t.Errorf("backup in %s, want %s", filepath.Dir(f.Path), want)
			}
			fi, err := os.Stat(want)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o700 {
				t.Errorf("directory mode %v, want 0700", fi.Mode().Perm())
			}
		})
	}
}

// TestCreateFailure: a backup that fails or does not verify leaves no file
// behind, not even a temporary one.
func TestCreateFailure(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		b    *fakeBackuper
		want string
	}{
		{name: "backup fails", b: &fakeBackuper{backupErr: boom}, want: `back up database "app": boom`},
		{name: "verify fails", b: &fakeBackuper{verifyErr: boom}, want: `verify the new backup of database "app": boom`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.b.info = Info{Database: "app", Ext: ".bak"}
			_, err := Create(t.Context(), tt.b, anyConn(t), Options{Dir: dir})
			if !errors.Is(err, boom) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Create: %v, want %q", err, tt.want)
			}
			if got := dirNames(t, dir); len(got) != 0 {
				t.Errorf("left behind: %v", got)
			}
		})
	}
}

func TestRetention(t *testing.T) {
	dir := t.TempDir()
	c := anyConn(t)
	t0 := time.Date(2026, 11, 21, 10, 42, 33, 0, time.UTC)
	create := func(db, label string, at time.Time, keep int) File {
		t.Helper()
		b := &fakeBackuper{info: Info{Database: db, Ext: ".bak"}, content: label}
		f, err := Create(t.Context(), b, c, Options{Dir: dir, Label: label, Keep: keep, now: func() time.Time { return at }})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		return f
	}
	other := create("app-x", "other", t0, 0) // "app_x": not a backup of "app"
	var files []File
	for i := range 4 {
		files = append(files, create("app", "m"+string(rune('1'+i)), t0.Add(time.Duration(i)*time.Hour), 0))
	}
	// Two in the same second: the second gets a counter and is newer.
	same := create("app", "m5", t0.Add(5*time.Hour), 0)
	same2 := create("app", "m5", t0.Add(5*time.Hour), 3)
	if !strings.HasSuffix(same2.Path, "-20261121T154233Z-1.bak") {
		t.Errorf("second backup in one second: %s", same2.Path)
	}
	got := dirNames(t, dir)
	want := []string{}
	for _, f := range []File{other, files[3], same, same2} {
		want = append(want, filepath.Base(f.Path), filepath.Base(f.Path)+ChecksumExt)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("after keeping 3:\n got %v\nwant %v", got, want)
	}
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, f := range list {
		order = append(order, f.Label+"@"+f.Database)
	}
	if want := []string{"m5@app", "m5@app", "m4@app", "other@app_x"}; !slices.Equal(order, want) {
		t.Errorf("List order %v, want %v", order, want)
	}
	if list[0].Path != same2.Path {
		t.Errorf("newest is %s, want %s", list[0].Path, same2.Path)
	}
	t.Run("prune refuses keep 0", func(t *testing.T) {
		if _, err := Prune(dir, "app", 0); err == nil {
			t.Error("Prune(keep 0) succeeded")
		}
	})
}

func TestNames(t *testing.T) {
	tests := []struct {
		name, database, label string
		want                  string
	}{
		{name: "plain", database: "app", label: "0007_drop_legacy", want: "app-0007_drop_legacy-20261121T104233Z.sqlite"},
		{name: "dash in database", database: "my-app", label: "a-b", want: "my_app-a-b-20261121T104233Z.sqlite"},
		{name: "path separators", database: "../etc", label: "../../x/y", want: "_._etc-.._.._x_y-20261121T104233Z.sqlite"},
		{name: "hidden", database: ".db", label: "..", want: "_db-manual-20261121T104233Z.sqlite"},
		{name: "empty", database: "", label: "", want: "db-manual-20261121T104233Z.sqlite"},
		{name: "unicode", database: "bücher", label: "über café", want: "b_cher-_ber_caf_-20261121T104233Z.sqlite"},
		{name: "long", database: strings.Repeat("d", 100), label: strings.Repeat("l", 300),
			want: strings.Repeat("d", maxDatabase) + "-" + strings.Repeat("l", maxLabel) + "-20261121T104233Z.sqlite"},
	}
	at := time.Date(2026, 11, 21, 10, 42, 33, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := File{Database: sanitizeDatabase(tt.database), Label: sanitizeLabel(tt.label), Time: at}
			got := f.name(".sqlite")
			if got != tt.want {
				t.Errorf("name %q, want %q", got, tt.want)
			}
			p, ok := parseName(got)
			if !ok || p.Database != f.Database || p.Label != f.Label || !p.Time.Equal(at) {
				t.Errorf("parseName(%q) = %+v, %v", got, p, ok)
			}
		})
	}
	for _, n := range []string{"app-x-20261121T104233Z.sqlite.sha256", ".app-123.tmp", "notes.txt", "app-20261121T104233Z.sqlite"} {
		if _, ok := parseName(n); ok {
			t.Errorf("parseName(%q) took it for a backup", n)
		}
	}
}

func TestVerifyChecksum(t *testing.T) {
	const content = "hello\n"
	const sum = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
	tests := []struct {
		name     string
		checksum *string
		wantErr  error
	}{
		{name: "sha256sum text mode", checksum: ptr(sum + "  f.bak\n")},
		{name: "sha256sum binary mode", checksum: ptr(sum + " *f.bak\n")},
		{name: "upper case, no newline", checksum: ptr(strings.ToUpper(sum) + "  f.bak")},
		{name: "missing", wantErr: ErrNoChecksum},
		{name: "empty", checksum: ptr(""), wantErr: ErrChecksum},
		{name: "other file's name", checksum: ptr(sum + "  g.bak\n"), wantErr: ErrChecksum},
		{name: "short hash", checksum: ptr(sum[:10] + "  f.bak\n"), wantErr: ErrChecksum},
		{name: "wrong hash", checksum: ptr(strings.Repeat("0", 64) + "  f.bak\n"), wantErr: ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f.bak")
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.checksum != nil {
				if err := os.WriteFile(p+ChecksumExt, []byte(*tt.checksum), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := VerifyChecksum(p)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("VerifyChecksum: %v, want %v", err, tt.wantErr)
			}
			// Restore goes no further than a bad checksum.
			b := &fakeBackuper{}
			rerr := Restore(t.Context(), b, anyConn(t), p)
			if (rerr == nil) != (err == nil) || (err != nil) != (len(b.restored) == 0) {
				t.Errorf("Restore: %v, restored %v; checksum said %v", rerr, b.restored, err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A temporary file a crashed backup left behind is removed by the next
// backup of the same database once it is stale; fresh ones, which may be a
// backup in progress, and other databases' are left alone.
func TestCreateRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * StaleTemp)
	// A process that has exited: its temporary files go at once.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadTag := fmt.Sprintf("p%dh%s", dead.Process.Pid, ownerTag()[strings.Index(ownerTag(), "h")+1:])
	myTag := ownerTag()
	otherHost := fmt.Sprintf("p%dhdeadbeef", dead.Process.Pid)
	fresh := map[string]bool{}
	files := map[string]bool{ // name: removed
		".app-123.tmp":                                      true,
		".app-20260101T000000Z-x.bak-9.tmp":                 true,  // a checksum's
		".app-123.tmp-journal":                              true,  // SQLite's journal of a backup
		".app-456.tmp":                                      false, // fresh
		".other-789.tmp":                                    false,
		".app2-1.tmp":                                       false,
		".app-" + deadTag + "-1.tmp":                        true, // fresh, but its writer died
		".app-" + deadTag + "-1.tmp-journal":                true,
		".app-x-20260101T000000Z.bak-" + deadTag + "-2.tmp": true,
		".app-" + myTag + "-3.tmp":                          false, // fresh, this process
		".app-" + otherHost + "-4.tmp":                      false, // fresh, another host's
	}
	for name := range files {
		if strings.Contains(name, "-p") || name == ".app-456.tmp" {
			fresh[name] = true
		}
	}
	for name := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if !fresh[name] {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	b := &fakeBackuper{info: Info{Database: "app", Ext: ".bak"}, content: "backup"}
	if _, err := Create(t.Context(), b, anyConn(t), Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	for name, removed := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := errors.Is(err, os.ErrNotExist); gone != removed {
			t.Errorf("%s: removed = %v, want %v", name, gone, removed)
		}
	}
}

// journalBackuper fails after writing a journal beside the file, as
// VACUUM INTO does when the disk fills up.
type journalBackuper struct{ fakeBackuper }

func (j *journalBackuper) Backup(_ context.Context, _ *sql.Conn, path string) error {
	if err := os.WriteFile(path+"-journal", []byte("journal"), 0o600); err != nil {
		return err
	}
	return errors.New("disk full")
}

// A failed backup leaves neither its temporary file nor the journal.
func TestCreateFailureRemovesJournal(t *testing.T) {
	dir := t.TempDir()
	b := &journalBackuper{fakeBackuper{info: Info{Database: "app", Ext: ".bak"}}}
	if _, err := Create(t.Context(), b, anyConn(t), Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Create: %v", err)
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("a failed backup left %v", got)
	}
}
