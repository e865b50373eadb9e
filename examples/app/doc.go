// Command app is an example application that embeds strata: a
// request-log and mock-server store whose schema (servers, request logs,
// scenarios, webhooks) grows over the migrations in package migrations.
//
// It migrates its database on start-up ("app serve") and gives operators
// the strata command line under "app migrate":
//
//	go run ./examples/app migrate status          # SQLite file ./app.db by default
//	go run ./examples/app migrate up
//	go run ./examples/app migrate down --yes
//	go run ./examples/app migrate drift           # exits 4 if the schema was changed by hand
//	go run ./examples/app serve                   # migrates, then would serve
//
//	go run ./examples/app migrate --dsn 'postgres://postgres@127.0.0.1:5432/app?sslmode=disable' up
//	go run ./examples/app migrate --dsn 'root@tcp(127.0.0.1:3306)/app' up
//
// The database is --dsn, else $STRATA_DSN, else ./app.db; "app migrate"
// says on stderr when a command changes the default ./app.db. Backups
// taken before risky migrations, and by "app migrate backup", go to
// --backup-dir, else $STRATA_BACKUP_DIR, else ./app.backups; on PostgreSQL and MySQL they need the database's
// client tools (pg_dump, mariadb-dump or mysqldump). Run
// "app migrate help" for every command.
package main
