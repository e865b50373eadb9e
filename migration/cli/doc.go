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
//	down [N | --to ID | --all]   roll back the last migration, the last N, everything after ID, or everything
//	status [--exit-code]         every migration: state, applied at, duration
//	pending                      the migrations up would apply
//	plan [--to ID] [--down [--all]] [--sql]  what a run would do, doing nothing (--sql: the statements)
//	validate                     dry run: pending migrations applied in a rolled-back transaction
//	history                      the version table, in the order applied
//	drift [--accept]             changes made to the schema since the last run (--accept: accept them)
//	baseline ID                  record ID and its ancestors as applied without running them
//	adopt --from goose|golang-migrate [--from-table T]  record what the other tool applied, without running it
//	repair ID --applied|--not-applied|--checksum  resolve a dirty migration, or accept an applied one's edited text
//	backup [--label L] [--list]  back the database up now, or list its backups
//	restore FILE                 replace the database with a backup (asks first)
//	create [--dir DIR] [--seq] NAME  write a new migration file depending on the current heads
//	graph [--dot]                the dependency graph, as text or Graphviz DOT
//	version                      the strata version built into the program, and the database's state
//	completion bash|zsh|fish     a shell completion script
//	help [COMMAND]               usage
//
// Global flags may come before or after the command. Each can be set by
// an environment variable instead; a flag on the command line beats it
// ([WithDSNEnv] names another variable for the DSN, read before
// $STRATA_DSN; [WithDefaultDSN] sets the default):
//
//	--dsn DSN            $STRATA_DSN           the database (default: the application's)
//	--dialect NAME       $STRATA_DIALECT       a registered dialect (default: guessed from the DSN)
//	--table NAME         $STRATA_TABLE         the version table (default strata_migrations)
//	--lock-timeout DUR   $STRATA_LOCK_TIMEOUT  how long to wait for another migrator (default 15m; 0 waits for ever)
//	--backup-dir DIR     $STRATA_BACKUP_DIR    where backups go (default: the application's choice, else <file>.backups for SQLite)
//	--json               $STRATA_JSON          machine-readable output, for every command
//	--yes                $STRATA_YES           do not ask before down, restore and drift --accept
//	-v                   $STRATA_VERBOSE       log what the manager does to stderr
//
// create's --dir and --seq have $STRATA_MIGRATIONS_DIR and $STRATA_SEQ.
// The flags that choose what a command does (--to, --all, --applied, ...)
// have no variable on purpose. Booleans take 1, true, 0 or false.
//
// Backups: a migration whose BackupRequired returns true is preceded by a
// backup. SQLite needs nothing more; on PostgreSQL and MySQL the CLI
// configures backup.NewPostgres or backup.NewMySQL with the DSN (their
// client tools, pg_dump or mariadb-dump/mysqldump, must be installed), and
// a backup directory must be given, with --backup-dir or by the
// application through [WithManagerOptions] and migration.WithBackupDir.
//
// up and down print a line per migration as "applied ID (12ms)" or
// "rolled back ID (3ms)". A failure prints, on stderr, a line that says
// what it left, read from the version table after the run:
//
//	FAILED ID (rolled back: not applied, nothing changed): up: cause
//	FAILED ID (did not start: nothing changed): validate: cause
//	FAILED ID (NOT rolled back: recorded dirty, the database may be half changed): up: cause
//
// the last followed by the repair commands. On a terminal a line counts
// the seconds of a long run.
//
// baseline marks the rows it writes (history and status show
// "baselined") and records the live schema, so that drift works at once.
// create says which function returns the application's list of
// migrations, where the new type must be added.
//
// # Completion
//
// completion prints a script for bash, zsh or fish that completes
// commands, flags, migration IDs, dialect names and paths by asking the
// program itself, so it follows the migrations compiled in:
//
//	source <(app migrate completion bash)    # in ~/.bashrc
//	source <(app migrate completion zsh)     # in ~/.zshrc, after compinit
//	app migrate completion fish > ~/.config/fish/completions/app.fish
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
// With --json every command prints one JSON document on stdout and
// nothing else there (messages and failures still go to stderr). A
// command that fails before it has anything to report (a usage error, an
// unreachable database) prints nothing on stdout; up, down and validate
// report a failed migration in their document. Status prints an array of
// {"id", "description", "state", "dependencies", "applied_at", "duration_us", "seq", "baselined"}
// (applied_at and seq absent for pending migrations; state is applied,
// pending, dirty, running or unknown); pending an array of
// {"id", "description", "dependencies"}; plan an array of
// {"id", "description", "direction", "backup_required", "no_transaction"};
// history an array of
// {"seq", "id", "description", "applied_at", "duration_us", "dirty", "known", "baselined"};
// up and down an object {"direction", "migrations", "failed"}, where
// migrations lists {"id", "description", "duration_us", "backup"} for each
// migration applied or rolled back and failed, present when one failed, is
// {"id", "description", "step", "error", "outcome", "state", "backup"},
// outcome being rolled_back, not_started or dirty and state the
// migration's state after the failure; validate an object
// {"passed", "complete", "pending", "tried", "not_tried", "failed"};
// graph an array of {"id", "description", "dependencies", "dependants", "head"};
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
// when empty; drift --accept an object {"recorded", "since", "changes"};
// baseline {"baselined"}; repair {"id", "applied"};
// backup {"path", "label", "time", "size", "sha256"}, and backup --list
// an array of them; restore {"restored"};
// create {"path", "id", "package", "type", "dependencies", "lists"};
// version {"strata", "go", "platform", "program", "database"}, database
// being {"dialect", "dsn", "newest", "counts", "total"} (newest as in
// status); help {"program", "global_flags", "commands"}. completion and
// graph --dot refuse --json.
// Times are RFC 3339 in UTC. Empty results are [].
package cli
