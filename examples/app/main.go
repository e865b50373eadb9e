package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/strata-go/strata/dialect/mysql"    // registers "mysql"
	_ "github.com/strata-go/strata/dialect/postgres" // registers "postgres"
	_ "github.com/strata-go/strata/dialect/sqlite"   // registers "sqlite", which opens files with sqlite.Open
	"github.com/strata-go/strata/examples/app/migrations"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/cli"
)

// Defaults of the application's configuration. On start-up ("app
// serve") the application reads the same environment variables as its
// "app migrate" command line, so that one setting serves both: $STRATA_DSN
// here, the others through cli.OpenManager.
const (
	dsnEnv           = cli.DefaultDSNEnv
	defaultDSN       = "app.db"
	defaultBackupDir = "app.backups"
	backupsKept      = 10
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `Usage:
  app migrate [flags] <command>   manage the database schema ("app migrate help")
  app serve [--dsn DSN]           migrate the database, then serve
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return cli.ExitUsage
	}
	switch args[0] {
	case "migrate":
		return cli.Run(ctx, args[1:], migrations.All(), cliOptions(stdout, stderr)...)
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return cli.ExitOK
	}
	fmt.Fprintf(stderr, "app: unknown command %q\n%s", args[0], usage)
	return cli.ExitUsage
}

// cliOptions configures the embedded command line and [serve] alike.
func cliOptions(stdout, stderr io.Writer) []cli.Option {
	return []cli.Option{
		cli.WithProgramName("app migrate"),
		cli.WithOutput(stdout, stderr),
		cli.WithDefaultDSN(defaultDSN),
		cli.WithCreateDir("examples/app/migrations"),
		cli.WithManagerOptions(managerOptions()...),
	}
}

// managerOptions are the options of every Manager the application
// creates, on start-up and in "app migrate": backups before risky
// migrations go to ./app.backups, keeping the newest ten. The CLI and
// cli.OpenManager let --backup-dir and $STRATA_BACKUP_DIR (and
// $STRATA_TABLE, $STRATA_LOCK_TIMEOUT) override these, and add the
// backuper of PostgreSQL and MySQL, whose client tools need the DSN;
// SQLite's is the default.
func managerOptions() []migration.Option {
	return []migration.Option{migration.WithBackupDir(defaultBackupDir), migration.WithBackupKeep(backupsKept)}
}

// serve migrates the database on start-up, as every replica of a real
// application would (only one of them runs the migrations; the others wait
// for the lock, then find nothing to do), and would then serve.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("app serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("dsn", "", "the database `DSN` (default $"+dsnEnv+", else "+defaultDSN+")")
	dialectName := fs.String("dialect", "", "the dialect `name` (default: guessed from the DSN)")
	addr := fs.String("addr", "127.0.0.1:8080", "the `address` to serve on")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return cli.ExitOK
		}
		return cli.ExitUsage
	}
	if *dsn == "" {
		*dsn = os.Getenv(dsnEnv)
	}
	if *dsn == "" {
		*dsn = defaultDSN
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := append(cliOptions(stdout, stderr), cli.WithManagerOptions(migration.WithLogger(log)))
	m, db, err := cli.OpenManager(ctx, *dsn, *dialectName, migrations.All(), opts...)
	if err != nil {
		fmt.Fprintln(stderr, "app serve:", err)
		return cli.ExitFailure
	}
	defer db.Close()
	results, err := m.Up(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "app serve: migrate:", err)
		return cli.ExitFailure
	}
	fmt.Fprintf(stdout, "database migrated (%d migration(s) applied); would serve on http://%s now\n", len(results), *addr)
	return cli.ExitOK
}
