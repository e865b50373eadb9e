// Package lock serialises migrators across goroutines, processes and hosts.
//
// A [Locker] is taken on the one *sql.Conn the manager pins for a run and
// released on the same connection. The built-in lockers are
//
//   - [Postgres]: a session-level advisory lock (pg_try_advisory_lock, polled);
//   - [MySQL]: a named lock (GET_LOCK with a zero timeout, polled);
//   - [File]: an OS file lock beside a SQLite database file;
//   - [Process]: an in-process lock for in-memory databases.
//
// All of them wait by polling with jittered backoff ([Poll]), so they honour
// the context, never hold a server-side wait that cannot be cancelled, and
// log who they wait for. Bound a wait with
//
//	ctx, cancel := context.WithTimeoutCause(ctx, d, lock.ErrTimeout)
//
// and the error wraps [ErrTimeout] when it expires.
//
// This package imports no database driver.
package lock
