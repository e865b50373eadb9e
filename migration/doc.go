// Package migration applies and rolls back schema migrations written as Go
// types.
//
// A [Migration] has an ID, Up and Down, preconditions (Validate), the IDs it
// depends on, and whether it wants a backup first. [NewManager] checks the
// set (duplicate and invalid IDs, unknown dependencies, cycles) and orders
// it topologically, ties broken by ID, so every machine agrees on the order.
//
//	db, err := sqlite.Open("app.db")
//	m, err := migration.NewManager(db, sqlite.New(), []migration.Migration{
//		migration.SQL("0001_users", `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`, `DROP TABLE users`),
//		migration.SQL("0002_posts", `CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id))`,
//			`DROP TABLE posts`, "0001_users"),
//	})
//	results, err := m.Up(ctx)
//
// # A run
//
// [Manager.Up] first reads the newest row of the version table, without any
// lock: it carries a fingerprint of the whole applied set, with the
// checksums of SQL migrations' text ([Checksummer]), so when nothing is
// pending and no applied text changed the start-up check costs one small
// query whatever the number of migrations. Otherwise the manager pins one connection, takes the database's
// migration lock on it (an advisory lock on PostgreSQL and MySQL, a file lock
// beside a SQLite file), creates the version table if needed, reads it again
// (another process may have migrated meanwhile) and runs each pending
// migration: Validate, then Up, then its row in the version table, in one
// transaction where DDL is transactional. On MySQL, and for migrations that
// implement [NonTransactional], the row is written dirty first and marked
// clean after; a failure leaves it dirty and every later run stops with
// [ErrDirty] until [Manager.Repair]. The lock is released on the same
// connection on every path, including panics and cancelled contexts.
//
// Every failure is an *[Error] naming the migration and the step, and
// wrapping the cause, so errors.Is and errors.As reach what Up returned or
// the driver's own error.
package migration
