package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/strata-go/strata/migration"
)

// modulePath is the module path of strata.
const modulePath = "github.com/strata-go/strata"

// strataVersion returns the version of the strata module built into the program,
// from its build information: a release such as "v1.2.0", a pseudo-version,
// or "devel" when the program was built inside a strata checkout or without
// module information.
func strataVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if bi.Main.Path == modulePath {
		return moduleVersion(bi.Main)
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			if d.Replace != nil {
				return moduleVersion(*d.Replace)
			}
			return moduleVersion(*d)
		}
	}
	return "devel"
}

func moduleVersion(m debug.Module) string {
	if m.Version == "" || m.Version == "(devel)" {
		return "devel"
	}
	return m.Version
}

// jsonVersion is what version prints with --json.
type jsonVersion struct {
	Strata   string         `json:"strata"`
	Go       string         `json:"go"`
	Platform string         `json:"platform"`
	Program  *jsonProgram   `json:"program,omitempty"`
	Database *jsonDBVersion `json:"database"`
}

// jsonProgram is the program that embeds the command line.
type jsonProgram struct {
	Path    string `json:"path"`
	Version string `json:"version"`
}

// jsonDBVersion is the database's applied state: the newest applied
// migration (absent when none is) and the counts by state.
type jsonDBVersion struct {
	Dialect string         `json:"dialect"`
	DSN     string         `json:"dsn"`
	Newest  *jsonStatus    `json:"newest,omitempty"`
	Counts  map[string]int `json:"counts"`
	Total   int            `json:"total"`
}

// runVersion prints the tool's version and, when a database is configured
// (--dsn, the environment or the application's default), the database's:
// the newest applied migration and how many are applied and pending, as
// goose's and golang-migrate's version commands do.
func runVersion(ctx context.Context, e *env) error {
	out := jsonVersion{Strata: strataVersion(), Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path != "" && bi.Main.Path != modulePath {
		out.Program = &jsonProgram{Path: bi.Main.Path, Version: moduleVersion(bi.Main)}
	}
	if !e.g.json {
		fmt.Fprintf(e.stdout, "strata %s (%s %s)\n", out.Strata, out.Go, out.Platform)
		if out.Program != nil {
			fmt.Fprintf(e.stdout, "%s %s\n", out.Program.Path, out.Program.Version)
		}
	}
	dsn, src := e.dsn()
	if src == dsnNone {
		if e.g.json {
			return e.writeJSON(out)
		}
		fmt.Fprintf(e.stdout, "database: none given (pass --dsn or set $%s to see its version)\n", strings.Join(e.c.dsnEnvs(), " or $"))
		return nil
	}
	if err := e.connect(ctx); err != nil {
		return err
	}
	sts, err := e.m.Status(ctx)
	if err != nil {
		return err
	}
	db := &jsonDBVersion{Dialect: e.m.Dialect().Name(), DSN: RedactDSN(dsn), Counts: map[string]int{}, Total: len(sts)}
	for _, s := range sts {
		db.Counts[string(s.State)]++
		if s.State != migration.StatePending && (db.Newest == nil || s.Seq > db.Newest.Seq) {
			j := statusJSON(s)
			db.Newest = &j
		}
	}
	for _, st := range []migration.State{migration.StateApplied, migration.StatePending} {
		if _, ok := db.Counts[string(st)]; !ok {
			db.Counts[string(st)] = 0 // always present, even when 0
		}
	}
	if e.g.json {
		out.Database = db
		return e.writeJSON(out)
	}
	newest := "no migration applied"
	if n := db.Newest; n != nil {
		newest = fmt.Sprintf("%s (seq %d, %s", n.ID, n.Seq, n.State)
		if n.AppliedAt != nil {
			newest += ", " + formatTime(*n.AppliedAt)
		}
		newest += ")"
	}
	counts := []string{fmt.Sprintf("%d applied", db.Counts[string(migration.StateApplied)]), fmt.Sprintf("%d pending", db.Counts[string(migration.StatePending)])}
	for _, st := range []migration.State{migration.StateDirty, migration.StateRunning, migration.StateUnknown} {
		if n := db.Counts[string(st)]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, st))
		}
	}
	fmt.Fprintf(e.stdout, "database: %s %s: %s; %s\n", db.Dialect, db.DSN, newest, strings.Join(counts, ", "))
	return nil
}
