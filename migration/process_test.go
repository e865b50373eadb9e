package migration_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
)

// The test binary re-executes itself to act as a migrator in another
// process: STRATA_TEST_CHILD names the role, STRATA_TEST_DB the database.
func TestMain(m *testing.M) {
	switch os.Getenv("STRATA_TEST_CHILD") {
	case "":
		os.Exit(m.Run())
	case "migrate":
		os.Exit(childMigrate(os.Getenv("STRATA_TEST_DB")))
	case "hang":
		os.Exit(childHang(os.Getenv("STRATA_TEST_DB"), os.Getenv("STRATA_TEST_MARKER")))
	default:
		fmt.Fprintln(os.Stderr, "unknown STRATA_TEST_CHILD")
		os.Exit(2)
	}
}

// chain returns n migrations, each depending on the one before.
func chain(n int) []migration.Migration {
	ms := make([]migration.Migration, n)
	for i := range ms {
		id := fmt.Sprintf("m%02d", i)
		if i == 0 {
			ms[i] = table(id)
		} else {
			ms[i] = table(id, fmt.Sprintf("m%02d", i-1))
		}
	}
	return ms
}

func childMigrate(path string) int {
	db, err := sqlite.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	m, err := migration.NewManager(db, sqlite.New(), chain(20), migration.WithLockTimeout(2*time.Minute))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := m.Up(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// childHang applies chain(2) but hangs inside the second migration's Up,
// holding the lock, after writing marker.
func childHang(path, marker string) int {
	db, err := sqlite.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ms := chain(2)
	hang := ms[1].(*migration.Func)
	up := hang.UpFn
	hang.UpFn = func(ctx context.Context, tx *migration.Tx) error {
		if err := up(ctx, tx); err != nil {
			return err
		}
		if err := os.WriteFile(marker, nil, 0o600); err != nil {
			return err
		}
		select {} // until killed
	}
	m, err := migration.NewManager(db, sqlite.New(), ms)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_, err = m.Up(context.Background())
	fmt.Fprintln(os.Stderr, "hang: Up returned", err)
	return 1
}

func child(t *testing.T, role, path string, extraEnv ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"STRATA_TEST_CHILD=" + role, "STRATA_TEST_DB=" + path}, extraEnv...)...)
	return cmd
}

// TestManyProcesses starts 50 OS processes at once on one SQLite file: all
// must succeed, and every migration must run exactly once.
func TestManyProcesses(t *testing.T) {
	const procs = 50
	path := filepath.Join(t.TempDir(), "many.db")
	var wg sync.WaitGroup
	outs := make([][]byte, procs)
	errs := make([]error, procs)
	start := make(chan struct{})
	for i := range procs {
		cmd := child(t, "migrate", path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	close(start)
	wg.Wait()
	for i := range procs {
		if errs[i] != nil {
			t.Errorf("process %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	db := openDBAt(t, path)
	for _, mg := range chain(20) {
		if n := runCount(t, db, mg.ID()); n != 1 {
			t.Errorf("%s ran %d times", mg.ID(), n)
		}
	}
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM strata_migrations WHERE NOT dirty`).Scan(&rows); err != nil || rows != 20 {
		t.Fatalf("version rows = %d, %v; want 20", rows, err)
	}
}

// TestKilledHolder: a process killed with SIGKILL in the middle of a
// migration, holding the lock, blocks nobody: the OS releases the file
// lock, SQLite discards the uncommitted transaction, and the next process
// applies the migration once.
func TestKilledHolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "killed.db")
	marker := filepath.Join(dir, "inside")
	cmd := child(t, "hang", path, "STRATA_TEST_MARKER="+marker)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("child never reached the hanging migration")
		}
		time.Sleep(10 * time.Millisecond)
	}
	db := openDBAt(t, path)
	// While the child lives, the lock is held.
	m := newManager(t, db, chain(2), migration.WithLockTimeout(50*time.Millisecond))
	if _, err := m.Up(t.Context()); err == nil {
		t.Fatal("Up succeeded while another process held the lock")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	// A short lock timeout proves the lock is free at once, not after
	// some expiry.
	m = newManager(t, db, chain(2), migration.WithLockTimeout(time.Second))
	res, err := m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied after the kill", resultIDs(res), []string{"m01"})
	for _, id := range []string{"m00", "m01"} {
		if n := runCount(t, db, id); n != 1 {
			t.Errorf("%s committed %d times", id, n)
		}
	}
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
}
