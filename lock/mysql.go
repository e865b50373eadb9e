package lock

import (
	"cmp"
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
// is why the name includes the database. It is taken, awaited and released
// as the package documentation describes.
//
// Each wait in the server is a GET_LOCK(name, n) with n whole seconds, at
// most [MySQLWait]; when less than a second is left before the context's
// deadline, Lock tries GET_LOCK(name, 0) instead. A statement time limit
// set on the session (max_statement_time, max_execution_time) shorter than
// the wait cuts the waits short.
type MySQL struct {
	// Table is the version table the lock guards: "table", in the
	// connection's current database (DATABASE()), or "database.table".
	Table string
	// Logger receives a line every few seconds while waiting, naming the
	// connection that holds the lock. Nil is silent.
	Logger *slog.Logger
	// Backoff paces the attempts that do not wait in the server: after a
	// wait the server cut short, or when less than a second is left before
	// the context's deadline. The zero value means the default (see
	// [Backoff]).
	Backoff Backoff
	// AttemptTimeout bounds each statement Lock and Unlock run, which the
	// caller's context does not cancel (see the package documentation). A
	// wait in the server lasts at most half of it, in whole seconds: below
	// 2s, Lock only polls. Zero means [DefaultAttemptTimeout].
	AttemptTimeout time.Duration

	held sessionHeld[string]
	wait time.Duration // longest wait in the server; zero means MySQLWait
}

// MySQLWait is the longest time one statement of [MySQL.Lock] waits for
// the lock in the server; Lock repeats it until the lock is taken or its
// context is done. It is a whole number of seconds, because MySQL takes
// GET_LOCK's timeout as an integer (MariaDB would take a fraction).
const MySQLWait = time.Second

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
		slice:          cmp.Or(m.wait, MySQLWait),
		unit:           time.Second,
		identify:       m.name,
		try:            m.try,
		release:        m.release,
		releaseIfHeld:  m.releaseIfHeld,
		holder:         m.holder,
	}
}

// Lock takes the named lock for conn's session. Locking a connection that
// already holds the lock through m is an error: named locks stack, and a
// second lock would need a second unlock.
func (m *MySQL) Lock(ctx context.Context, conn *sql.Conn) error {
	return m.session().lock(ctx, conn)
}

// Unlock releases the named lock held by conn's session, even if ctx is
// cancelled. It is an error if the session does not hold it.
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

func (m *MySQL) try(ctx context.Context, conn *sql.Conn, name string, wait time.Duration) (bool, error) {
	var got sql.NullInt64
	secs := int64(wait / time.Second)
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, ?)`, name, secs).Scan(&got); err != nil {
		return false, fmt.Errorf("GET_LOCK(%q, %d): %w", name, secs, err)
	}
	if !got.Valid {
		// Also the answer to a wait that was interrupted (a killed
		// query, a statement time limit).
		return false, fmt.Errorf("GET_LOCK(%q, %d) returned NULL (an error occurred in the server, or the wait was interrupted)", name, secs)
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
