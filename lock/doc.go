// Package lock serialises migrators across goroutines, processes and hosts.
//
// The built-in lockers are
//
//   - [Postgres]: a session-level advisory lock (pg_advisory_lock);
//   - [MySQL]: a named lock (GET_LOCK);
//   - [File]: an OS file lock beside a SQLite database file;
//   - [Process]: an in-process lock for in-memory databases.
//
// # Taking, waiting, giving up and releasing
//
// This is the protocol every built-in locker follows; their own
// documentation adds only what is particular to them.
//
// A [Locker] is taken on the one *sql.Conn the manager pins for a run and
// released on the same connection. The [Postgres] and [MySQL] locks belong
// to that connection's server session, and a session that ends (a killed
// process, a closed connection) releases them, as the OS releases the
// [File] lock of a process that dies: a dead migrator blocks nobody.
//
// [Postgres] and [MySQL] wait inside the server, so that it hands the lock
// to the next waiter the moment it is released, but in bounded waits
// ([PostgresWait], [MySQLWait]) repeated until the lock is taken. A wait
// never outlasts the context's deadline, and a context that is done is
// noticed when the wait in flight ends. Where a wait in the server is not
// possible (too little time is left before the deadline) or the server cut
// it short (a statement time limit set on the session, a killed query),
// they try without waiting and pause between tries as their [Backoff]
// says, which is how [File] always waits. None of them spins hot.
//
// Every statement a database locker runs to take or release the lock is
// not cancelled with the caller's context but bounded by the locker's
// AttemptTimeout ([DefaultAttemptTimeout]): its answer is always read, so
// that a lock granted just as the caller gave up never stays behind
// unknown, and a cancelled caller does not break the connection. So once
// the context is done, Lock returns as soon as the statement in flight
// answers, or after AttemptTimeout if the server does not; and Unlock
// releases the lock even under a cancelled context.
//
// Lock gives up when its context is done, holds nothing, and returns an
// error wrapping context.Cause(ctx). Bound a wait with
//
//	ctx, cancel := context.WithTimeoutCause(ctx, d, lock.ErrTimeout)
//
// and the error wraps [ErrTimeout] when it expires. Unlocking a connection
// that does not hold the lock is an error.
//
// While [Postgres], [MySQL] and [File] wait they log to their Logger every
// [LogEvery], naming who holds the lock where the database can say.
//
// This package imports no database driver.
package lock
