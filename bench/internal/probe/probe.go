// Package probe is the body of the small per-tool programs that the compare
// command starts as separate OS processes: one to time a whole application
// start-up check from exec to exit, and many at once to race on one
// database. Each program under probe/ links a single tool, so its start-up
// cost is that tool's and not the sum of all of them.
//
// Usage of a probe program:
//
//	probe -role check -dialect sqlite -dsn /tmp/x.db -workload tables -n 1000
//	probe -role race  -dialect postgres -dsn postgres://... -workload race -n 20
//
// Role check opens the database, constructs the tool and runs its Up,
// which must find nothing to do (exit status 3 otherwise). Role race first
// writes one byte to file descriptor 3 if it is open, to say it is ready,
// then waits for end of file on standard input, so that the parent can
// release all racers at once; then it migrates. Any error is printed to
// standard error and the exit status is 1.
package probe

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/strata-go/strata/bench/internal/target"
	"github.com/strata-go/strata/bench/internal/tools"
	"github.com/strata-go/strata/bench/internal/workload"
)

// Exit statuses of a probe.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitUsage   = 2
	ExitApplied = 3 // role check applied migrations: the database was not up to date
)

// Args returns the command-line arguments that make a probe play role.
func Args(role string, db target.DB, wl string, n int) []string {
	return []string{"-role", role, "-dialect", db.Dialect, "-dsn", db.DSN, "-workload", wl, "-n", fmt.Sprint(n)}
}

// Main runs a probe of tool with args (without the program name) and
// returns the exit status.
func Main(tool tools.Tool, args []string) int {
	fs := flag.NewFlagSet(tool.Probe, flag.ContinueOnError)
	role := fs.String("role", "", "check or race")
	dialect := fs.String("dialect", "", "sqlite, postgres or mysql")
	dsn := fs.String("dsn", "", "database file (sqlite) or DSN")
	wl := fs.String("workload", "tables", "tables or race")
	n := fs.Int("n", 0, "number of migrations")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	var ms []workload.Migration
	switch *wl {
	case "tables":
		ms = workload.Tables(*n)
	case "race":
		ms = workload.Race(*n)
	default:
		fmt.Fprintf(os.Stderr, "%s: unknown workload %q\n", tool.Probe, *wl)
		return ExitUsage
	}
	cfg := tools.Config{Target: target.DB{Dialect: *dialect, DSN: *dsn}, Migrations: ms}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	var err error
	switch *role {
	case "check":
		var applied bool
		applied, err = run(ctx, tool, cfg)
		if err == nil && applied {
			fmt.Fprintf(os.Stderr, "%s: check: migrations were pending\n", tool.Probe)
			return ExitApplied
		}
	case "race":
		if err := awaitStart(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: wait for start: %v\n", tool.Probe, err)
			return ExitError
		}
		_, err = run(ctx, tool, cfg)
	default:
		fmt.Fprintf(os.Stderr, "%s: unknown role %q\n", tool.Probe, *role)
		return ExitUsage
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", tool.Probe, err)
		return ExitError
	}
	return ExitOK
}

func run(ctx context.Context, tool tools.Tool, cfg tools.Config) (applied bool, err error) {
	r, err := tool.Open(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("open: %w", err)
	}
	applied, err = r.Up(ctx)
	return applied, errors.Join(err, r.Close())
}

// awaitStart says it is ready on fd 3, if the parent gave one, and waits
// until the parent closes standard input.
func awaitStart() error {
	if ready := os.NewFile(3, "ready"); ready != nil {
		if _, err := ready.Write([]byte{1}); err == nil {
			ready.Close()
		}
	}
	_, err := io.Copy(io.Discard, os.Stdin)
	return err
}
