// Package lock serialises migrators across goroutines, processes and hosts.
//
// A [Locker] is taken on the one *sql.Conn the manager pins for a run and
// released on the same connection. The built-in lockers are
//
//   - [Postgres]: a session-level advisory lock (pg_advisory_lock);
//   - [MySQL]: a named lock (GET_LOCK);
//   - [File]: an OS file lock beside a SQLite database file;
//   - [Process]: an in-process lock for in-memory databases.
//
// [Postgres] and [MySQL] wait inside the server, so that it hands the lock
// to the next waiter the moment it is released, but in bounded waits
// ([PostgresWait], [MySQLWait]) repeated until the lock is taken, so they
// honour the context and never leave behind a wait in the server that
// cannot be cancelled. [File] polls with jittered backoff ([Poll]). All of
// them log who they wait for. Bound a wait with
//
//	ctx, cancel := context.WithTimeoutCause(ctx, d, lock.ErrTimeout)
//
// and the error wraps [ErrTimeout] when it expires.
//
// This package imports no database driver.
package lock
