// Package cli is the command line an application embeds to let its
// operators migrate its database: the same [migration.Manager], locks and
// migrations the application runs on start-up, behind commands such as
// status, up and down.
//
// The application passes its migrations and the command-line arguments to
// [Run] and exits with the code it returns:
//
//	func main() {
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
//		code := cli.Run(ctx, os.Args[1:], migrations.All())
//		stop()
//		os.Exit(code)
//	}
//
// The package imports no database driver and no dialect. The program
// imports the dialect packages it wants (dialect/postgres, dialect/mysql,
// dialect/sqlite), which register themselves; --dialect names one of them,
// or the CLI guesses it from the DSN ([GuessDialect]). Databases are opened
// by the dialect's [dialect.Opener]: PostgreSQL and MySQL with the driver
// their dialect package imports, SQLite files with sqlite.Open; only
// programs that import dialect/sqlite need cgo. [WithOpener] replaces how
// a dialect's databases are opened, and is how a custom dialect without
// an Open method gets its databases.
//
// # Commands
//
//	up [--to ID]                 apply pending migrations (only ID and its ancestors with --to)
//	down [--to ID | --all]       roll back the last migration, everything after ID, or everything
//	status [--exit-code]         every migration: state, applied at, duration
//	pending                      the migrations up would apply
//	plan [--to ID] [--down [--all]]  what a run would do, doing nothing
//	validate                     dry run: pending migrations applied in a rolled-back transaction
//	history                      the version table, in the order applied
//	drift [--accept]             changes made to the schema since the last run (--accept: accept them)
//	baseline ID                  record ID and its ancestors as applied without running them
//	repair ID --applied|--not-applied  resolve a dirty migration
//	backup [--label L] [--list]  back the database up now, or list its backups
//	restore FILE                 replace the database with a backup (asks first)
//	create [--dir DIR] [--seq] NAME  write a new migration file depending on the current heads
//	graph [--dot]                the dependency graph, as text or Graphviz DOT
//	version                      the strata version built into the program
//	help [COMMAND]               usage
//
// Global flags may come before or after the command ([WithDSNEnv] names
// another environment variable, [WithDefaultDSN] sets the default):
//
//	--dsn DSN            the database (default: $STRATA_DSN, else the application's default)
//	--dialect NAME       a registered dialect (default: guessed from the DSN)
//	--table NAME         the version table (default strata_migrations)
//	--lock-timeout DUR   how long to wait for another migrator (default 15m; 0 waits for ever)
//	--backup-dir DIR     where backups go (default: the application's choice, else <file>.backups for SQLite)
//	--json               machine-readable output for status, pending, plan, history, drift, backup --list
//	--yes                do not ask before down, restore and drift --accept
//	-v                   log what the manager does to stderr
//
// Backups: a migration whose BackupRequired returns true is preceded by a
// backup. SQLite needs nothing more; on PostgreSQL and MySQL the CLI
// configures backup.NewPostgres or backup.NewMySQL with the DSN (their
// client tools, pg_dump or mariadb-dump/mysqldump, must be installed), and
// a backup directory must be given, with --backup-dir or by the
// application through [WithManagerOptions] and migration.WithBackupDir.
//
// up and down print a line per migration as "applied ID (12ms)" or
// "rolled back ID (3ms)"; a failure prints "FAILED ID: step: cause" on
// stderr. On a terminal a line counts the seconds of a long run.
//
// down and restore show what they will undo and ask for confirmation when
// stdin is a terminal; otherwise they refuse with exit code 2 unless --yes
// is given. So does drift --accept.
//
// # Drift
//
// Every run that applies or rolls back migrations records the schema it
// leaves, where the dialect can describe schemas (the built-in ones can).
// drift compares the live schema with it ([migration.Manager.Drift]) and
// prints what someone changed by hand since, one change per line:
//
//	schema drift since migration "0009_servers_base_url_unique" (seq 9, recorded 2025-01-02T03:04:05Z), 2 change(s) (+ added, - removed, ~ changed):
//	- index request_logs_status_class on request_logs: (server_id, status_class)
//	+ index servers_name_idx on servers: (name)
//
// or "no drift since ID (recorded TIME)". It exits 4 ([ExitDrift]) when the
// schema has drifted. When no schema is recorded for the newest applied
// migration (nothing is applied, it was baselined or repaired, or applied
// by an older strata) it fails with exit code 1 and says so. Once a hand
// change is intended, drift --accept records the live schema as the
// expected one ([migration.Manager.RecordSchema]), after showing the
// changes it accepts; it also records a first schema after a baseline.
//
// A run does not absorb drift: one that finds the schema changed by hand
// before it starts keeps the report, and drift prints it after the run,
// under "N drift(s) found before earlier runs, not accepted yet", and
// exits 4 until drift --accept accepts it.
//
// # DSNs
//
// PostgreSQL: postgres://user:pass@host:5432/db?sslmode=disable, or
// "host=... user=... dbname=...". MySQL/MariaDB: user:pass@tcp(host:3306)/db
// or mysql://user:pass@host:3306/db. SQLite: a file path (app.db),
// file:app.db or sqlite://app.db. Passwords are never printed: DSNs in
// output and errors are redacted ([RedactDSN]), and the password itself is
// masked wherever it would appear.
//
// # Exit codes
//
//	0  success ([ExitOK])
//	1  failure; the error, naming the migration and step, is on stderr ([ExitFailure]);
//	   also status --exit-code when a migration is dirty
//	2  usage: bad flags or arguments, unknown command or dialect, no DSN,
//	   or a destructive command without --yes off a terminal ([ExitUsage])
//	3  status --exit-code: migrations are pending, or running in another
//	   process ([ExitPending])
//	4  drift: the schema differs from the one recorded after the last run ([ExitDrift])
//
// A deploy script can gate on them:
//
//	app migrate status --exit-code >/dev/null; case $? in 0) ;; 3) app migrate up ;; *) exit 1 ;; esac
//	app migrate drift || { echo "the schema was changed by hand; see above" >&2; exit 1; }
//
// # JSON
//
// With --json, status prints an array of
// {"id", "description", "state", "dependencies", "applied_at", "duration_us", "seq"}
// (applied_at and seq absent for pending migrations; state is applied,
// pending, dirty, running or unknown); pending an array of
// {"id", "description", "dependencies"}; plan an array of
// {"id", "description", "direction", "backup_required", "no_transaction"};
// history an array of
// {"seq", "id", "description", "applied_at", "duration_us", "dirty", "known"};
// drift an object
// {"drifted", "migration", "seq", "recorded_at", "changes", "kept"}, where
// kept (absent when empty) lists {"detected_at", "migration", "seq",
// "report"} for each drift found before an earlier run, and each
// change is {"op", "kind", "table", "name", "object", "definition",
// "fields", "text"}: op is added, removed or changed; kind is table,
// column, index, view, trigger, primary key, unique, foreign key, check,
// or another object's kind (sequence, function, ...);
// object names it as the text does ("column users.email"); fields, for a
// changed object, is an array of {"name", "old", "new"}; text is the line
// the text output prints; table, name, definition and fields are absent
// when empty;
// backup --list an array of {"path", "label", "time", "size", "sha256"}.
// Times are RFC 3339 in UTC. Empty results are [].
package cli
