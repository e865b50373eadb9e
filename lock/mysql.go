package lock

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// MySQLMaxLockName is the longest name GET_LOCK accepts on MySQL 5.7 and
// newer, in characters.
const MySQLMaxLockName = 64

// MySQL is a MySQL/MariaDB named lock (GET_LOCK) whose name is derived from
// the database and the version table (see [MySQLLockName]), so every
// migrator of one version table agrees on it and migrators of different
// version tables never block each other. Named locks are server-wide, which
// is why the name includes the database.
//
// Lock polls GET_LOCK(name, 0) with jittered backoff ([Poll]); it never
// waits inside the server. The lock belongs to the server session of the
// connection: Unlock must be called with the same *sql.Conn, and a session
// that ends (a killed process, a closed connection) releases it.
type MySQL struct {
	// Table is the version table the lock guards: "table", in the
	// connection's current database (DATABASE()), or "database.table".
	Table string
	// Logger receives a line every few seconds while waiting, naming the
	// connection that holds the lock. Nil is silent.
	Logger *slog.Logger
	// Backoff between attempts; the zero value means [DefaultBackoff].
	Backoff Backoff
	// AttemptTimeout bounds each statement Lock and Unlock run; see
	// [Postgres.AttemptTimeout]. Zero means [DefaultAttemptTimeout].
	AttemptTimeout time.Duration

	held sessionHeld[string]
}

var _ Locker = (*MySQL)(nil)

// NewMySQL returns the named lock that guards the version table table.
func NewMySQL(table string, log *slog.Logger) *MySQL {
	return &MySQL{Table: table, Logger: log}
}

// MySQLLockName returns the GET_LOCK name [MySQL] uses for table in
// database: "strata:<database>:<table>" if that fits in
// [MySQLMaxLockName] characters, otherwise as much of it as fits before
// "~" and 24 hex digits of its SHA-256, so that distinct tables keep
// distinct names.
func MySQLLockName(database, table string) string {
	name := "strata:" + database + ":" + table
	if utf8.RuneCountInString(name) <= MySQLMaxLockName {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "~" + hex.EncodeToString(sum[:12])
	keep := MySQLMaxLockName - len(suffix)
	prefix := name
	for i := range name {
		if keep == 0 {
			prefix = name[:i]
			break
		}
		keep--
	}
	return prefix + suffix
}

func (m *MySQL) session() *sessionLock[string] {
	return &sessionLock[string]{
		held:           &m.held,
		what:           fmt.Sprintf("mysql named lock for %q", m.Table),
		backoff:        m.Backoff,
		logger:         m.Logger,
		attemptTimeout: m.AttemptTimeout,
		identify:       m.name,
		try:            m.try,
		release:        m.release,
		releaseIfHeld:  m.releaseIfHeld,
		holder:         m.holder,
	}
}

// Lock takes the named lock for conn's session, polling until it is free or
// ctx is done. On error nothing is held. Locking a connection that already
// holds the lock through m is an error: named locks stack, and a second lock
// would need a second unlock.
func (m *MySQL) Lock(ctx context.Context, conn *sql.Conn) error {
	return m.session().lock(ctx, conn)
}

// Unlock releases the named lock held by conn's session. It is an error if
// the session does not hold it. The release runs even if ctx is already
// cancelled (it is bounded by AttemptTimeout instead), so that a cancelled
// caller never leaves the lock held.
func (m *MySQL) Unlock(ctx context.Context, conn *sql.Conn) error {
	return m.session().unlock(ctx, conn)
}

// Holder describes the connection that holds the lock, as seen from conn:
// its connection id and, where information_schema.PROCESSLIST shows it
// (which needs the PROCESS privilege for other users' connections), user,
// host, database, command, state and for how long. It returns "" if nobody
// holds the lock or the server cannot say.
func (m *MySQL) Holder(ctx context.Context, conn *sql.Conn) string {
	return m.session().describe(ctx, conn)
}

// name resolves the lock name of m.Table on conn.
func (m *MySQL) name(ctx context.Context, conn *sql.Conn) (string, error) {
	if m.Table == "" {
		return "", errors.New("lock: mysql named lock without a table")
	}
	db, table, qualified := strings.Cut(m.Table, ".")
	if !qualified {
		var cur sql.NullString
		if err := conn.QueryRowContext(ctx, `SELECT DATABASE()`).Scan(&cur); err != nil {
			return "", fmt.Errorf("lock: read current database: %w", err)
		}
		if !cur.Valid {
			return "", fmt.Errorf("lock: table %q: no database selected (give one in the DSN or qualify the table)", m.Table)
		}
		db, table = cur.String, m.Table
	}
	return MySQLLockName(db, table), nil
}

func (m *MySQL) try(ctx context.Context, conn *sql.Conn, name string) (bool, error) {
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, 0)`, name).Scan(&got); err != nil {
		return false, fmt.Errorf("GET_LOCK(%q): %w", name, err)
	}
	if !got.Valid {
		return false, fmt.Errorf("GET_LOCK(%q) returned NULL (an error occurred in the server)", name)
	}
	return got.Int64 == 1, nil
}

func (m *MySQL) release(ctx context.Context, conn *sql.Conn, name string) error {
	var released sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT RELEASE_LOCK(?)`, name).Scan(&released); err != nil {
		return fmt.Errorf("RELEASE_LOCK: %w", err)
	}
	switch {
	case !released.Valid:
		return fmt.Errorf("not held (no lock named %q exists)", name)
	case released.Int64 != 1:
		return errors.New("held by another connection, not this one")
	}
	return nil
}

func (m *MySQL) releaseIfHeld(ctx context.Context, conn *sql.Conn, name string) {
	var released sql.NullInt64
	_ = conn.QueryRowContext(ctx,
		`SELECT CASE WHEN IS_USED_LOCK(?) = CONNECTION_ID() THEN RELEASE_LOCK(?) END`,
		name, name).Scan(&released)
}

func (m *MySQL) holder(ctx context.Context, conn *sql.Conn, name string) string {
	var id sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT IS_USED_LOCK(?)`, name).Scan(&id); err != nil || !id.Valid {
		return ""
	}
	var (
		user, host, db, command, state sql.NullString
		secs                           sql.NullInt64
	)
	err := conn.QueryRowContext(ctx, `SELECT USER, HOST, DB, COMMAND, STATE, TIME
		FROM information_schema.PROCESSLIST WHERE ID = ?`, id.Int64).
		Scan(&user, &host, &db, &command, &state, &secs)
	if err != nil {
		return fmt.Sprintf("connection id %d", id.Int64)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "connection id %d, user %s@%s", id.Int64, user.String, host.String)
	if db.Valid {
		fmt.Fprintf(&b, ", database %s", db.String)
	}
	if command.Valid {
		fmt.Fprintf(&b, ", %s", command.String)
		if state.String != "" {
			fmt.Fprintf(&b, " (%s)", state.String)
		}
		if secs.Valid {
			fmt.Fprintf(&b, " for %s", time.Duration(secs.Int64)*time.Second)
		}
	}
	return b.String()
}
