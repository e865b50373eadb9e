package integration

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/migration"
)

// Environment of a child process: its role, the target's name and the DSN
// of the test's database.
const (
	childEnv       = "STRATA_INTEGRATION_CHILD"
	childTargetEnv = "STRATA_INTEGRATION_TARGET"
	childDSNEnv    = "STRATA_INTEGRATION_DSN"
)

// Child roles.
const (
	roleMigrate = "migrate" // apply chain(manyMigrations) and exit
	roleHang    = "hang"    // apply chain(2), hanging inside m01's Up
)

// manyMigrations is the length of the chain the many processes apply.
const manyMigrations = 20

// childLockTimeout is the lock timeout of the many processes: generous, as
// a hundred of them queue on two cores.
const childLockTimeout = 2 * time.Minute

func runChild() error {
	tgt, ok := target(os.Getenv(childTargetEnv))
	if !ok {
		return fmt.Errorf("unknown target %q", os.Getenv(childTargetEnv))
	}
	role := os.Getenv(childEnv)
	if role == roleMigrate {
		// Wait for the start signal: the parent closes standard input
		// once every process is running, so that all start together.
		io.Copy(io.Discard, os.Stdin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db, retries, err := connect(ctx, tgt, os.Getenv(childDSNEnv))
	if err != nil {
		return err
	}
	defer db.Close()
	if retries > 0 {
		fmt.Printf("connect retries: %d\n", retries)
	}
	switch role {
	case roleMigrate:
		// One connection is all a migrator needs, and keeps a hundred of
		// them within the server's connection limit.
		db.SetMaxOpenConns(1)
		m, err := migration.NewManager(db, tgt.Dialect, chain(manyMigrations), migration.WithLockTimeout(childLockTimeout))
		if err != nil {
			return err
		}
		res, err := m.Up(ctx)
		fmt.Printf("applied: %d\n", len(res))
		return err
	case roleHang:
		ms := chain(2)
		hang := ms[1].(*migration.Func)
		up := hang.UpFn
		hang.UpFn = func(ctx context.Context, tx *migration.Tx) error {
			if err := up(ctx, tx); err != nil {
				return err
			}
			fmt.Println("inside")
			select {} // until killed
		}
		m, err := migration.NewManager(db, tgt.Dialect, ms)
		if err != nil {
			return err
		}
		_, err = m.Up(context.Background())
		return fmt.Errorf("hang: Up returned: %v", err)
	default:
		return fmt.Errorf("unknown role %q", role)
	}
}

// connect opens the database, retrying while the server refuses
// connections because it has too many: a hundred processes starting at
// once may exceed PostgreSQL's default max_connections of 100, and a real
// replica would retry too.
func connect(ctx context.Context, tgt Target, dsn string) (*sql.DB, int, error) {
	for retries := 0; ; retries++ {
		db, err := tgt.Reopen(dsn)
		if err == nil {
			return db, retries, nil
		}
		if !tooManyConnections(err) {
			return nil, retries, err
		}
		select {
		case <-ctx.Done():
			return nil, retries, fmt.Errorf("%w (after %d retries: %w)", ctx.Err(), retries, err)
		case <-time.After(time.Duration(50+retries%10*20) * time.Millisecond):
		}
	}
}

func tooManyConnections(err error) bool {
	var pe *pgconn.PgError
	var me *gomysql.MySQLError
	return errors.As(err, &pe) && pe.Code == "53300" || errors.As(err, &me) && me.Number == 1040
}

// child returns the command that runs the test binary as a child process
// in role on d's database.
func child(d *db, role string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, childTargetEnv+"="+d.tgt.Name, childDSNEnv+"="+d.dsn)
	return cmd
}

// TestManyProcesses starts 100 OS processes at once on one database: all
// must succeed, and every migration must run exactly once.
func TestManyProcesses(t *testing.T) {
	const procs = 100
	for _, tgt := range targets() {
		t.Run(tgt.Name, func(t *testing.T) {
			d := tgt.open(t)
			var wg sync.WaitGroup
			outs := make([]bytes.Buffer, procs)
			errs := make([]error, procs)
			stdins := make([]io.Closer, procs)
			for i := range procs {
				cmd := child(d, roleMigrate)
				cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
				stdin, err := cmd.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					for _, in := range stdins[:i] {
						in.Close()
					}
					wg.Wait()
					t.Fatalf("start process %d: %v", i, err)
				}
				stdins[i] = stdin
				wg.Go(func() { errs[i] = cmd.Wait() })
			}
			// Every process is running and waits on its standard input:
			// let them all go at once.
			start := time.Now()
			for _, in := range stdins {
				in.Close()
			}
			wg.Wait()
			wall := time.Since(start)
			var retries, appliedTotal, busy int
			for i := range procs {
				if errs[i] != nil {
					t.Errorf("process %d: %v\n%s", i, errs[i], outs[i].String())
				}
				for _, line := range strings.Split(outs[i].String(), "\n") {
					key, value, _ := strings.Cut(line, ": ")
					n, _ := strconv.Atoi(value)
					switch key {
					case "connect retries":
						retries += n
					case "applied":
						appliedTotal += n
						if n > 0 {
							busy++
						}
					}
				}
			}
			t.Logf("%s: %d processes applied %d migrations in %v (%d of them applied some; %d connection retries)",
				tgt.Name, procs, appliedTotal, wall.Round(time.Millisecond), busy, retries)
			if appliedTotal != manyMigrations {
				t.Errorf("the processes report %d migrations applied in all, want %d", appliedTotal, manyMigrations)
			}

			m := d.manager(chain(manyMigrations))
			for _, mg := range m.Migrations() {
				if n := d.runs(mg.ID(), "up"); n != 1 {
					t.Errorf("%s ran %d times, want once", mg.ID(), n)
				}
			}
			h, err := m.History(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != manyMigrations {
				t.Errorf("version table has %d rows, want %d", len(h), manyMigrations)
			}
			for _, r := range h {
				if r.Dirty || !r.Known {
					t.Errorf("row %+v, want clean and known", r)
				}
			}
			if res, err := m.Up(t.Context()); err != nil || res != nil {
				t.Errorf("Up after the processes = %v, %v; want nil, nil", res, err)
			}
		})
	}
}

// startHanging starts a child that applies chain(2) and hangs inside m01's
// Up, holding the lock (and, with transactional DDL, m01's open
// transaction), and returns once it is there.
func startHanging(t *testing.T, d *db) *exec.Cmd {
	t.Helper()
	cmd := child(d, roleHang)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s := <-line:
		if s != "inside" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("hanging child said %q; stderr: %s", s, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the child did not reach the hanging migration within a minute; stderr: %s", stderr.String())
	}
	return cmd
}

// TestKilledHolder kills, with SIGKILL, a process holding the lock in the
// middle of a migration. The lock is free again at once (the next run has
// a short lock timeout: a lock left behind would fail it). With
// transactional DDL the migration was rolled back whole and the next run
// applies it; without, the next run reports it dirty, and an operator's
// repair lets the run go on.
func TestKilledHolder(t *testing.T) {
	for _, tgt := range targets() {
		cases := []string{"rolled back"}
		if !tgt.Transactional() {
			cases = []string{"repaired as not applied", "repaired as applied"}
		}
		for _, c := range cases {
			t.Run(tgt.Name+"/"+c, func(t *testing.T) {
				d := tgt.open(t)
				cmd := startHanging(t, d)

				// While the child lives, it holds the lock.
				_, err := d.manager(chain(2), migration.WithLockTimeout(refusedWait)).Up(t.Context())
				wantStepErr(t, err, "", migration.StepLock)
				if !errors.Is(err, lock.ErrTimeout) {
					t.Fatalf("Up while the child holds the lock = %v, want lock.ErrTimeout", err)
				}
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				_ = cmd.Wait() // signal: killed

				m := d.manager(chain(2), migration.WithLockTimeout(shortWait))
				if tgt.Transactional() {
					res, err := m.Up(t.Context())
					if err != nil {
						t.Fatalf("Up after the kill: %v", err)
					}
					wantIDs(t, "applied after the kill", resultIDs(res), []string{"m01"})
				} else {
					_, err := m.Up(t.Context())
					wantDirty(t, err, "m01")
					st, err := m.Status(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					wantIDs(t, "status", states(st), []string{"m00=applied", "m01=dirty"})
					// The operator looks: the killed Up had done its work.
					wantIDs(t, "tables", d.tables(), []string{"t_m00", "t_m01"})
					if n := d.runs("m01", "up"); n != 1 {
						t.Fatalf("m01's Up ran %d times before the kill, want 1", n)
					}
					switch c {
					case "repaired as not applied":
						// Undo it, mark it not applied, and run it again.
						d.exec(`DROP TABLE t_m01`, `DELETE FROM `+runsTable+` WHERE id = 'm01'`)
						if err := m.Repair(t.Context(), "m01", false); err != nil {
							t.Fatal(err)
						}
						res, err := m.Up(t.Context())
						if err != nil {
							t.Fatalf("Up after the repair: %v", err)
						}
						wantIDs(t, "applied after the repair", resultIDs(res), []string{"m01"})
					case "repaired as applied":
						if err := m.Repair(t.Context(), "m01", true); err != nil {
							t.Fatal(err)
						}
						if res, err := m.Up(t.Context()); err != nil || res != nil {
							t.Fatalf("Up after the repair = %v, %v; want nil, nil", res, err)
						}
					}
				}
				st, err := m.Status(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				wantIDs(t, "status", states(st), []string{"m00=applied", "m01=applied"})
				wantIDs(t, "tables", d.tables(), []string{"t_m00", "t_m01"})
				for _, id := range []string{"m00", "m01"} {
					if n := d.runs(id, "up"); n != 1 {
						t.Errorf("%s's Up was kept %d times, want once", id, n)
					}
				}
				d.lockFree(migration.DefaultTable)
			})
		}
	}
}
