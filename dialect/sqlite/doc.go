// Package sqlite is the SQLite dialect, on github.com/mattn/go-sqlite3
// (cgo). Importing it registers the "sqlite3" driver and the "sqlite"
// dialect.
//
// [Open] opens a database file set up for migrated applications: owner-only
// permissions, WAL, foreign keys on, a busy timeout, one connection.
//
// The migration lock is an OS file lock beside the database file
// ("<file>.lock"), released by the OS if the process dies; an in-memory
// database uses an in-process lock.
//
// Because PRAGMA foreign_keys cannot change inside a transaction, the
// dialect switches foreign key enforcement off on the locked connection
// before a run's first transaction, checks every key with PRAGMA
// foreign_key_check before each commit (a migration that leaves a dangling
// reference fails, naming the rows), and switches enforcement back on after
// the run. This is what makes table rebuilds ([DropColumn], [RebuildTable])
// safe inside migrations.
package sqlite
