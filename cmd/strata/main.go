// Command strata migrates a database from a directory of SQL files, for
// projects that keep their migrations as .sql files and write no Go: the
// files of goose (-- +goose Up), of golang-migrate (N_name.up.sql and
// N_name.down.sql) and strata's own (-- +strata up) are read by
// [sqlfile.Load], and the commands are those of [cli.Run], on the same
// manager and lock as a program that embeds strata:
//
//	strata --dir db/migrations --dsn 'postgres://localhost/app' status
//	strata --dir db/migrations --dsn 'postgres://localhost/app' adopt --from goose
//	strata --dir db/migrations --dsn 'postgres://localhost/app' up
//
// --dir defaults to $STRATA_MIGRATIONS_DIR, then to "migrations"; every
// other flag and variable is the CLI's (run strata help).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"

	_ "github.com/strata-go/strata/dialect/mysql"
	_ "github.com/strata-go/strata/dialect/postgres"
	_ "github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/cli"
	"github.com/strata-go/strata/migration/sqlfile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// needsNoFiles are the commands that work without the migrations.
var needsNoFiles = map[string]bool{"help": true, "completion": true, "__complete": true}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	dir, rest, err := dirFlag(args)
	if err != nil {
		fmt.Fprintln(stderr, "strata:", err)
		return cli.ExitUsage
	}
	if dir == "" {
		dir = os.Getenv("STRATA_MIGRATIONS_DIR")
	}
	if dir == "" {
		dir = "migrations"
	}
	var ms []migration.Migration
	if !needsNoFiles[command(rest)] {
		ms, err = sqlfile.Load(os.DirFS(dir), ".")
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "strata: no migrations directory %q: pass --dir or set STRATA_MIGRATIONS_DIR\n", dir)
			return cli.ExitUsage
		}
		if err != nil {
			fmt.Fprintln(stderr, "strata:", err)
			return cli.ExitFailure
		}
	}
	return cli.Run(ctx, rest, ms, cli.WithOutput(stdout, stderr), cli.WithProgramName("strata"), cli.WithCreateDir(dir))
}

// dirFlag takes --dir DIR or --dir=DIR out of args.
func dirFlag(args []string) (dir string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "dir" {
			rest = append(rest, a)
			continue
		}
		if command(rest) == "create" {
			rest = append(rest, a) // create's own --dir
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return "", nil, errors.New("--dir needs a directory")
			}
			i++
			val = args[i]
		}
		dir = val
	}
	return dir, rest, nil
}

// command returns the first argument that is not a flag, roughly: enough
// to tell help and completion apart.
func command(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a
		}
		if name := strings.TrimLeft(a, "-"); valueFlags[name] {
			i++ // its value
		}
	}
	return ""
}

// valueFlags are the CLI's global flags that take a separate value.
var valueFlags = map[string]bool{"dsn": true, "dialect": true, "table": true, "lock-timeout": true, "backup-dir": true}
