package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/internal/mysqlswap"
)

// sessionVars are the session variables a migration may change that
// Restore puts back. Each is read as @@SESSION.name.
var sessionVars = []string{
	"autocommit", "foreign_key_checks", "unique_checks", "sql_mode", "time_zone",
	"character_set_client", "character_set_connection", "character_set_results", "collation_connection",
	"sql_safe_updates",
}

// SaveSession reads the current database (or the one table names) and
// the session variables a migration may change.
//
// The manager calls it on the connection that holds the migration lock,
// so it is also where a restore of that database killed half way through
// (see [backup.MySQL]) is finished or undone before anything else runs;
// with nothing to do, that costs one query.
func (*Dialect) SaveSession(ctx context.Context, conn *sql.Conn, table string) (dialect.Session, error) {
	s := &session{}
	// in_transaction is MariaDB's; where the server lacks it, Restore
	// always sends COMMIT.
	var it sql.NullInt64
	s.hasInTx = conn.QueryRowContext(ctx, `SELECT @@SESSION.in_transaction`).Scan(&it) == nil
	db, vals, err := s.read(ctx, conn)
	if err != nil {
		return nil, err
	}
	s.db, s.vals = db, vals
	if schema, _, ok := dialect.SplitTable(table); ok {
		s.schema = schema
	} else if !db.Valid {
		return nil, fmt.Errorf("version table %q: no database selected (give one in the DSN or qualify the table)", table)
	} else {
		s.schema = db.String
	}
	if err := mysqlswap.Recover(ctx, conn, s.schema); err != nil {
		return nil, fmt.Errorf("a restore of database %q was interrupted, and finishing or undoing it failed: %w", s.schema, err)
	}
	return s, nil
}

// session is a MySQL session as saved.
type session struct {
	schema  string
	db      sql.NullString
	vals    []sql.NullString // of sessionVars
	hasInTx bool
}

func (s *session) Schema() string { return s.schema }

// Reusable is false: temporary tables, user variables, prepared
// statements and named locks a migration took outlive Restore.
func (s *session) Reusable() bool { return false }

// read returns DATABASE(), the values of sessionVars and, with hasInTx,
// @@in_transaction as the last value.
func (s *session) read(ctx context.Context, conn *sql.Conn) (sql.NullString, []sql.NullString, error) {
	var q strings.Builder
	q.WriteString("SELECT DATABASE()")
	for _, v := range sessionVars {
		q.WriteString(", @@SESSION." + v)
	}
	n := len(sessionVars)
	if s.hasInTx {
		q.WriteString(", @@SESSION.in_transaction")
		n++
	}
	var db sql.NullString
	vals := make([]sql.NullString, n)
	dest := []any{&db}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	if err := conn.QueryRowContext(ctx, q.String()).Scan(dest...); err != nil {
		return db, nil, fmt.Errorf("read session: %w", err)
	}
	return db, vals, nil
}

// Restore ends a transaction left open (see [dialect.Session]) before
// switching autocommit back on would commit it, sets the session
// variables a migration changed back and selects the saved database again.
func (s *session) Restore(ctx context.Context, conn *sql.Conn, commit bool) error {
	db, vals, err := s.read(ctx, conn)
	if err != nil {
		return err
	}
	if !s.hasInTx || vals[len(sessionVars)].String != "0" {
		end := "ROLLBACK"
		if commit {
			end = "COMMIT"
		}
		if _, err := conn.ExecContext(ctx, end); err != nil {
			return fmt.Errorf("%s the transaction left open: %w", strings.ToLower(end), err)
		}
	}
	var set []string
	for i, v := range sessionVars {
		if vals[i] == s.vals[i] {
			continue
		}
		lit := "NULL"
		if s.vals[i].Valid {
			l, err := literal(s.vals[i].String)
			if err != nil {
				return fmt.Errorf("restore %s: %w", v, err)
			}
			lit = l
		}
		set = append(set, "SESSION "+v+" = "+lit)
	}
	if len(set) > 0 {
		if _, err := conn.ExecContext(ctx, "SET "+strings.Join(set, ", ")); err != nil {
			return fmt.Errorf("restore session variables: %w", err)
		}
	}
	if s.db.Valid && db != s.db {
		if _, err := conn.ExecContext(ctx, "USE "+New().QuoteIdent(s.db.String)); err != nil {
			return fmt.Errorf("select database %q again: %w", s.db.String, err)
		}
	}
	return nil
}

// literal writes a session variable's value as a number, or else as a
// string literal. Values holding a backslash are refused: whether it
// escapes depends on sql_mode, which may be the very variable being
// restored.
func literal(v string) (string, error) {
	if v != "" && strings.Trim(v, "0123456789") == "" {
		return v, nil
	}
	if strings.ContainsRune(v, '\\') {
		return "", fmt.Errorf("value %q holds a backslash", v)
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'", nil
}
