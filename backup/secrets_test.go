package backup

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
)

// TestPostgresPasswordNotInErrors: a URL password with an unescaped "#",
// "?" or "/" (which url.Parse reads as the end of the password) shows up
// in no error, not even its first part.
func TestPostgresPasswordNotInErrors(t *testing.T) {
	db, _ := pgtest.New(t)
	c := conn(t, db)
	name := dbName(t, c)
	for _, pw := range []string{"Zq#Wx", "Zq?Wx", "Zq/Wx", "12?Wx", "Zq#Wx?Vy@", "Zq%zzWx"} {
		dsn := "postgres://postgres:" + pw + "@127.0.0.1:5432/" + name + "?sslmode=disable"
		_, err := Create(t.Context(), NewPostgres(dsn), c, Options{Dir: t.TempDir()})
		if err == nil {
			t.Errorf("password %q: no error", pw)
			continue
		}
		for _, piece := range []string{"Zq", "Wx", "12?"} {
			if strings.Contains(err.Error(), piece) {
				t.Errorf("password %q: the error shows %q: %v", pw, piece, err)
			}
		}
		if !strings.Contains(err.Error(), "percent-encoded") {
			t.Errorf("password %q: the error does not say what to do: %v", pw, err)
		}
	}
}

// TestToolOutputRedacted: a tool that prints the password (here, a fake
// one echoing its option file) has it masked in the error.
func TestToolOutputRedacted(t *testing.T) {
	db, dsn := mytest.New(t)
	c := conn(t, db)
	cfg, err := parseMySQLDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	const pw = `Zq#Wx?"Vy`
	b := NewMySQL("root:" + pw + "@tcp(" + cfg.host + ":" + cfg.port + ")/" + cfg.dbname)
	b.Dump = fakeTool(t, "mysqldump", "cat /dev/fd/3 >&2; echo \"MYSQL_PWD=$MYSQL_PWD\" >&2; exit 1\n")
	_, err = Create(t.Context(), b, c, Options{Dir: t.TempDir()})
	checkErr(t, err, nil, "password=")
	if strings.Contains(err.Error(), "Zq") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestOldOptionDirsRemoved: the private directories in which earlier
// versions wrote the MySQL password, left behind by killed backups, are
// removed by the next backup; other directories are not.
func TestOldOptionDirsRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, d := range []string{"strata-backup-1", "strata-backup-2", "strata-backup-3"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "strata-backup-1", "client.cnf"), []byte("[client]\npassword=\"s3cret\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "strata-backup-3", "notes.txt"), []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-oldOptionDirAge - time.Minute)
	for _, d := range []string{"strata-backup-1", "strata-backup-2", "strata-backup-3"} {
		if err := os.Chtimes(filepath.Join(tmp, d), old, old); err != nil {
			t.Fatal(err)
		}
	}
	// A directory an older version's backup running beside this one has
	// just written: its tool may not have read the file yet.
	if err := os.Mkdir(filepath.Join(tmp, "strata-backup-4"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "strata-backup-4", "client.cnf"), []byte("[client]\npassword=\"s3cret\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := NewMySQL("root:pw@tcp(127.0.0.1:1)/app")
	b.Dump = fakeTool(t, "mysqldump", "exit 1\n")
	out := filepath.Join(t.TempDir(), "out.sql")
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Backup(t.Context(), nil, out); err == nil {
		t.Fatal("Backup with a failing tool: no error")
	}
	if got := dirNames(t, tmp); !slices.Equal(got, []string{"strata-backup-3", "strata-backup-4"}) {
		t.Errorf("left in the temporary directory: %v, want [strata-backup-3 strata-backup-4]", got)
	}
}

// TestCancelKillsToolGroup: cancelling a backup kills the tool and what
// the tool started (its process group), not only the tool.
func TestCancelKillsToolGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	dump := fakeTool(t, "mysqldump", "sleep 300 &\necho $! > "+pidFile+"\nwait\n")
	b := NewMySQL("root@tcp(127.0.0.1:1)/app")
	b.Dump = dump
	out := filepath.Join(t.TempDir(), "out.sql")
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.Backup(ctx, nil, out) }()
	var pid int
	for range 200 {
		if data, err := os.ReadFile(pidFile); err == nil && len(data) > 1 {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("the fake tool did not start its child")
	}
	cancel()
	select {
	case err := <-done:
		checkErr(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Backup did not return after cancellation")
	}
	for range 100 {
		if !processAlive(pid) || isZombie(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("the tool's child %d still runs after cancellation", pid)
}

func isZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	f := strings.Fields(string(stat))
	return err == nil && len(f) > 2 && f[2] == "Z"
}
