// Package backup takes verified backups of a database before risky
// migrations, and restores them.
//
// A [Backuper] knows one kind of database: [SQLite] (VACUUM INTO through the
// connection, online and consistent while others write; restore in pure SQL
// in one transaction), [Postgres] (pg_dump in custom format, pg_restore in
// one transaction) and [MySQL] (mariadb-dump or mysqldump with
// --single-transaction, loaded with the mariadb or mysql client into a
// scratch database whose tables are then swapped in). The server
// backupers run the database's own client tools, which must be installed:
// a missing one is a *[MissingToolError] naming it and its Debian package.
// The tools run in a process group of their own, killed on cancellation
// and (on Linux) when the calling process dies. Passwords reach them
// through the environment (PGPASSWORD) or an option file read from a pipe,
// never the command line or the disk, and are masked in errors.
//
// [Create] and [Restore] do the file handling around a Backuper:
//
//   - the directory is created with mode 0700, and one that others can
//     write to is refused; files have mode 0600;
//   - names carry the database, a label (the migration ID) and the time in
//     UTC: app-0007_drop_legacy-20261121T104233Z.sqlite;
//   - a backup is written under a temporary name, synced, verified, and
//     renamed only when complete, with a SHA-256 checksum file beside it
//     (app-...Z.sqlite.sha256, checked by `sha256sum -c`);
//   - [Options.Keep] keeps the newest N backups of the database, pruning
//     older ones only once the new one is complete;
//   - [Restore] refuses a file without a checksum or that does not match
//     it ([ErrNoChecksum], [ErrChecksum]) and one that [Backuper.Verify]
//     rejects, before it touches the database.
//
// The migration manager calls [Create] before each migration whose
// BackupRequired method returns true (see migration.WithBackuper), and has
// Backup, Backups and Restore methods for operators. Used alone:
//
//	conn, err := db.Conn(ctx)
//	f, err := backup.Create(ctx, backup.NewSQLite(), conn, backup.Options{Label: "before-import", Keep: 5})
//	// ...
//	err = backup.Restore(ctx, backup.NewSQLite(), conn, f.Path)
//
// This package imports no database driver: the SQLite backuper works with
// the connection of whatever driver the application uses.
package backup
