package lock

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Postgres is a PostgreSQL session-level advisory lock on a 64-bit key
// derived from the database, the schema and the version table (see
// [PostgresKey]), so every migrator of one version table agrees on the key
// and migrators of different version tables never block each other. It is
// taken, awaited and released as the package documentation describes.
//
// Each wait in the server is a pg_advisory_lock under a lock_timeout of at
// most [PostgresWait], set for that statement alone (set_config with
// is_local). The lock_timeout and statement_timeout of the session are
// left as they were; a statement_timeout shorter than PostgresWait cuts the
// waits short. Lock must not be called inside a transaction on the
// connection: a wait that times out aborts it.
type Postgres struct {
	// Table is the version table the lock guards: "table", resolved in
	// current_schema(), or "schema.table".
	Table string
	// Logger receives a line every few seconds while waiting, naming the
	// session that holds the lock. Nil is silent.
	Logger *slog.Logger
	// Backoff paces the attempts that do not wait in the server: after a
	// wait the server cut short, or when less than a millisecond is left
	// before the context's deadline. The zero value means the default (see
	// [Backoff]).
	Backoff Backoff
	// AttemptTimeout bounds each statement Lock and Unlock run, which the
	// caller's context does not cancel (see the package documentation). A
	// wait in the server lasts at most half of it. Zero means
	// [DefaultAttemptTimeout].
	AttemptTimeout time.Duration

	held sessionHeld[int64]
	wait time.Duration // longest wait in the server; zero means PostgresWait
}

// PostgresWait is the longest time one statement of [Postgres.Lock] waits
// for the lock in the server; Lock repeats it until the lock is taken or
// its context is done.
const PostgresWait = 250 * time.Millisecond

var _ Locker = (*Postgres)(nil)

// NewPostgres returns the advisory lock that guards the version table table.
func NewPostgres(table string, log *slog.Logger) *Postgres {
	return &Postgres{Table: table, Logger: log}
}

// PostgresKey returns the advisory lock key [Postgres] uses for the version
// table table in schema of database: the first 8 bytes of the SHA-256 of
// "strata\x00" + database + "\x00" + schema + "\x00" + table, big-endian, as
// an int64. In pg_locks the lock shows with locktype 'advisory', classid the
// key's high 32 bits, objid its low 32 bits and objsubid 1.
func PostgresKey(database, schema, table string) int64 {
	sum := sha256.Sum256([]byte("strata\x00" + database + "\x00" + schema + "\x00" + table))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// splitKey returns the classid and objid under which pg_locks shows the
// advisory lock on key.
func splitKey(key int64) (classid, objid int64) {
	u := uint64(key)
	return int64(u >> 32), int64(u & 0xffffffff)
}

func (p *Postgres) session() *sessionLock[int64] {
	return &sessionLock[int64]{
		held:           &p.held,
		what:           fmt.Sprintf("postgres advisory lock for %q", p.Table),
		backoff:        p.Backoff,
		logger:         p.Logger,
		attemptTimeout: p.AttemptTimeout,
		slice:          cmp.Or(p.wait, PostgresWait),
		unit:           time.Millisecond,
		identify:       p.key,
		try:            p.try,
		release:        p.release,
		releaseIfHeld:  p.releaseIfHeld,
		holder:         p.holder,
	}
}

// Lock takes the advisory lock for conn's session. Locking a connection
// that already holds the lock through p is an error: advisory locks stack,
// and a second lock would need a second unlock.
func (p *Postgres) Lock(ctx context.Context, conn *sql.Conn) error {
	return p.session().lock(ctx, conn)
}

// Unlock releases the advisory lock held by conn's session, even if ctx is
// cancelled. It is an error if the session does not hold it.
func (p *Postgres) Unlock(ctx context.Context, conn *sql.Conn) error {
	return p.session().unlock(ctx, conn)
}

// Holder describes the session that holds the lock, as seen from conn:
// its backend pid, application name, client address and since when it is
// connected and in its current state. It returns "" if nobody holds the lock
// or the server cannot say.
func (p *Postgres) Holder(ctx context.Context, conn *sql.Conn) string {
	return p.session().describe(ctx, conn)
}

// key resolves the lock key of p.Table on conn.
func (p *Postgres) key(ctx context.Context, conn *sql.Conn) (int64, error) {
	if p.Table == "" {
		return 0, errors.New("lock: postgres advisory lock without a table")
	}
	schema, table, qualified := strings.Cut(p.Table, ".")
	var db string
	var cur sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT current_database(), current_schema()`).Scan(&db, &cur); err != nil {
		return 0, fmt.Errorf("lock: read current database and schema: %w", err)
	}
	if !qualified {
		if !cur.Valid {
			return 0, fmt.Errorf("lock: table %q: no schema of search_path exists (current_schema() is null)", p.Table)
		}
		schema, table = cur.String, p.Table
	}
	return PostgresKey(db, schema, table), nil
}

// pgWait waits for the advisory lock on $1 under a lock_timeout of $2 set
// for this statement alone. The CASE makes the set_config run before
// pg_advisory_lock, which is strict: if set_config ever returned NULL, it
// would not lock, and the answer would be false.
const pgWait = `SELECT pg_advisory_lock(CASE WHEN set_config('lock_timeout', $2, true) IS NOT NULL THEN $1::bigint END) IS NOT NULL`

// pgLockNotAvailable is the SQLSTATE of a wait that ran out of lock_timeout.
const pgLockNotAvailable = "55P03"

func (p *Postgres) try(ctx context.Context, conn *sql.Conn, key int64, wait time.Duration) (bool, error) {
	var ok bool
	if wait <= 0 {
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
			return false, fmt.Errorf("pg_try_advisory_lock: %w", err)
		}
		return ok, nil
	}
	timeout := strconv.FormatInt(max(wait.Milliseconds(), 1), 10) + "ms" // 0 would mean no timeout
	err := conn.QueryRowContext(ctx, pgWait, key, timeout).Scan(&ok)
	switch {
	case sqlState(err) == pgLockNotAvailable:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("pg_advisory_lock: %w", err)
	case !ok:
		return false, errors.New("pg_advisory_lock: lock_timeout could not be set")
	}
	return true, nil
}

// sqlState returns the SQLSTATE of a PostgreSQL error, or "" if err does
// not report one by a SQLState method, as pgx's *pgconn.PgError does; so
// no driver is imported here. With a driver whose errors do not, a wait
// that runs out looks like one the server cut short: Lock still works, but
// pauses between waits.
func sqlState(err error) string {
	var e interface{ SQLState() string }
	if errors.As(err, &e) {
		return e.SQLState()
	}
	return ""
}

func (p *Postgres) release(ctx context.Context, conn *sql.Conn, key int64) error {
	var released bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, key).Scan(&released); err != nil {
		return fmt.Errorf("pg_advisory_unlock: %w", err)
	}
	if !released {
		return errors.New("not held by this connection's session")
	}
	return nil
}

func (p *Postgres) releaseIfHeld(ctx context.Context, conn *sql.Conn, key int64) {
	classid, objid := splitKey(key)
	var released sql.NullBool
	_ = conn.QueryRowContext(ctx, `SELECT bool_and(pg_advisory_unlock($1))
		FROM pg_catalog.pg_locks
		WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
		  AND classid::bigint = $2 AND objid::bigint = $3 AND objsubid = 1`,
		key, classid, objid).Scan(&released)
}

func (p *Postgres) holder(ctx context.Context, conn *sql.Conn, key int64) string {
	classid, objid := splitKey(key)
	var (
		pid                            int64
		app, client, state             sql.NullString
		backendStart, stateChange, qSt sql.NullTime
	)
	err := conn.QueryRowContext(ctx, `SELECT l.pid, a.application_name, coalesce(host(a.client_addr), 'local socket'),
			a.state, a.backend_start, a.state_change, a.query_start
		FROM pg_catalog.pg_locks l
		LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted
		  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
		  AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1
		LIMIT 1`, classid, objid).Scan(&pid, &app, &client, &state, &backendStart, &stateChange, &qSt)
	if err != nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pid %d", pid)
	if app.String != "" {
		fmt.Fprintf(&b, ", application %q", app.String)
	}
	if client.Valid {
		fmt.Fprintf(&b, ", client %s", client.String)
	}
	if backendStart.Valid {
		fmt.Fprintf(&b, ", connected since %s", backendStart.Time.UTC().Format(time.RFC3339))
	}
	if state.Valid {
		fmt.Fprintf(&b, ", %s", state.String)
		if stateChange.Valid {
			fmt.Fprintf(&b, " since %s", stateChange.Time.UTC().Format(time.RFC3339))
		}
	}
	if qSt.Valid {
		fmt.Fprintf(&b, ", last query started %s", qSt.Time.UTC().Format(time.RFC3339))
	}
	return b.String()
}
