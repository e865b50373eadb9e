// Package sqlfile reads migrations from .sql files in an [io/fs.FS] (an
// embed.FS, or os.DirFS), so that a directory of SQL files, including one
// written for goose or golang-migrate, runs under a [migration.Manager]
// unchanged and next to Go migrations:
//
//	//go:embed migrations/*.sql
//	var files embed.FS
//
//	ms, err := sqlfile.Load(files, "migrations")
//	m, err := migration.NewManager(db, postgres.New(), append(ms, goMigrations...))
//
// Three formats are read, file by file:
//
//	-- +strata requires: 0001_users, 0002_orders
//	-- +strata no-transaction
//	-- +strata backup-required
//	-- +strata description: add an email column
//	-- +strata up
//	ALTER TABLE users ADD COLUMN email TEXT;
//	-- +strata down
//	ALTER TABLE users DROP COLUMN email;
//
// -- +strata statement-begin and -- +strata statement-end enclose a
// statement to send as it is, unsplit. Also read are
// goose's files (-- +goose Up, -- +goose Down, StatementBegin/StatementEnd
// around a statement that must be sent whole, NO TRANSACTION), and
// golang-migrate's N_name.up.sql and N_name.down.sql pairs. The ID is the
// file name without .sql (and without .up/.down). A file without a
// requires directive depends on the file before it in version order.
//
// Each statement is sent on its own ([Split] finds where statements end),
// so a file of several statements runs on MySQL without multiStatements,
// and a failing statement is reported with its file and line
// ([StatementError]). The version table records each file's checksum
// ([migration.Checksummer]).
package sqlfile
