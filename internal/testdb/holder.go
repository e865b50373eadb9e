package testdb

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock/locktest"
)

// Environment variables that turn a re-executed test binary into a lock
// holder; see [StartHolder].
const (
	holderEnv      = "STRATA_TEST_LOCK_HOLDER"
	holderDSNEnv   = "STRATA_TEST_LOCK_HOLDER_DSN"
	holderTableEnv = "STRATA_TEST_LOCK_HOLDER_TABLE"
)

// ServeHolder makes the test binary act as a lock holder when
// [StartHolder] started it, and returns at once otherwise. Call it first in
// TestMain. The holder opens its DSN with driverName, takes d's lock of its
// table on one connection, reports the session id that sessionQuery returns
// (such as SELECT pg_backend_pid()), and holds the lock until its standard
// input closes or it is killed.
func ServeHolder(driverName string, d dialect.Dialect, sessionQuery string) {
	if os.Getenv(holderEnv) != "1" {
		return
	}
	if err := holdLock(driverName, d, sessionQuery); err != nil {
		fmt.Printf("error: %v\n", err)
		os.Exit(2)
	}
	os.Exit(0)
}

func holdLock(driverName string, d dialect.Dialect, sessionQuery string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open(driverName, os.Getenv(holderDSNEnv))
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var session string
	if err := conn.QueryRowContext(ctx, sessionQuery).Scan(&session); err != nil {
		return fmt.Errorf("read session id: %w", err)
	}
	l := d.Locker(dialect.LockOptions{Table: os.Getenv(holderTableEnv)})
	if err := l.Lock(ctx, conn); err != nil {
		return err
	}
	fmt.Printf("locked %s\n", session)
	io.Copy(io.Discard, os.Stdin) // until the parent closes it or kills us
	return l.Unlock(context.Background(), conn)
}

// Holder is a child process holding a migration lock; see [StartHolder].
type Holder struct {
	// Session is the holder's server session id (a PostgreSQL backend pid,
	// a MySQL connection id).
	Session string

	cmd   *exec.Cmd
	stdin io.Closer
}

// StartHolder runs the test binary again as a separate process that takes
// the migration lock of table in the database dsn names, and returns once
// it holds it. The test binary's TestMain must call [ServeHolder]. The
// process is killed when the test ends, if it still runs.
func StartHolder(t testing.TB, dsn, table string) *Holder {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holderEnv+"=1", holderDSNEnv+"="+dsn, holderTableEnv+"="+table)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start lock holder: %v", err)
	}
	h := &Holder{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { h.stop() })

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s := <-line:
		session, ok := strings.CutPrefix(s, "locked ")
		if !ok {
			h.stop()
			t.Fatalf("lock holder: %q; stderr: %s", s, stderr.String())
		}
		h.Session = session
	case <-time.After(30 * time.Second):
		h.stop()
		t.Fatalf("lock holder did not take the lock within 30s; stderr: %s", stderr.String())
	}
	return h
}

// Hold returns the hold function of [locktest.RunAcrossProcesses] for the
// database dsn names: it starts a holder with [StartHolder], whose lock the
// locker describes as prefix, the holder's session id and a comma (such
// as "pid 4711,").
func Hold(dsn, prefix string) func(t *testing.T, table string) locktest.Holder {
	return func(t *testing.T, table string) locktest.Holder {
		t.Helper()
		h := StartHolder(t, dsn, table)
		return locktest.Holder{Describes: prefix + h.Session + ",", Kill: func() { h.Kill(t) }}
	}
}

// Kill kills the holder with SIGKILL, so that it releases nothing itself,
// and waits for it to exit.
func (h *Holder) Kill(t testing.TB) {
	t.Helper()
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill lock holder: %v", err)
	}
	h.cmd.Wait() // "signal: killed"
}

func (h *Holder) stop() {
	if h.cmd.ProcessState == nil {
		h.stdin.Close()
		h.cmd.Process.Kill()
		h.cmd.Wait()
	}
}
