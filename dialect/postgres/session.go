package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/strata-go/strata/dialect"
)

// CheckTable refuses a version table in the session's temporary schema
// (pg_temp, or its pg_temp_N name): it would vanish with the connection,
// and the next run would apply every migration again.
func (*Dialect) CheckTable(name string) error {
	if schema, _, ok := dialect.SplitTable(name); ok && (schema == "pg_temp" || strings.HasPrefix(schema, "pg_temp_")) {
		return fmt.Errorf("version table %q: the temporary schema does not outlive the connection, so every run would apply everything again", name)
	}
	return nil
}

// SaveSession reads the schema unqualified names resolve to
// (current_schema(), or the schema table names) and the settings changed
// in the session so far, with its role.
func (*Dialect) SaveSession(ctx context.Context, conn *sql.Conn, table string) (dialect.Session, error) {
	s := &session{}
	var cur sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT current_schema(), current_setting('role')`).Scan(&cur, &s.role); err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	if schema, _, ok := dialect.SplitTable(table); ok {
		s.schema = schema
	} else if !cur.Valid {
		return nil, fmt.Errorf("version table %q: the search_path names no schema that exists; create one or qualify the table as \"schema.table\"", table)
	} else {
		s.schema = cur.String
	}
	// The transaction_* settings belong to a transaction, the role is
	// read above.
	rows, err := conn.QueryContext(ctx, `SELECT name, setting FROM pg_catalog.pg_settings
		WHERE source = 'session' AND name NOT LIKE 'transaction\_%' AND name NOT IN ('role', 'session_authorization', 'is_superuser')`)
	if err != nil {
		return nil, fmt.Errorf("read session settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kv [2]string
		if err := rows.Scan(&kv[0], &kv[1]); err != nil {
			return nil, fmt.Errorf("read session settings: %w", err)
		}
		s.settings = append(s.settings, kv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read session settings: %w", err)
	}
	return s, nil
}

// InTransaction reports whether the pgx connection rc reaches is in a
// transaction block, open or failed, from the status of its last message
// from the server.
func (*Dialect) InTransaction(rc dialect.RawConner) (bool, error) {
	status, err := txStatus(rc)
	return status != 'I', err
}

// txStatus returns the transaction status of the pgx connection rc
// reaches: 'I' idle, 'T' in a transaction, 'E' in a failed one.
func txStatus(rc dialect.RawConner) (byte, error) {
	var status byte = 'I'
	err := rc.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection %T is not pgx's", dc)
		}
		status = c.Conn().PgConn().TxStatus()
		return nil
	})
	return status, err
}

// session is a PostgreSQL session as saved.
type session struct {
	schema   string
	role     string
	settings [][2]string
}

func (s *session) Schema() string { return s.schema }

// Reusable is false: temporary tables, prepared statements, cursors WITH
// HOLD, LISTEN and advisory locks a migration took outlive RESET ALL.
func (s *session) Reusable() bool { return false }

// Restore ends a transaction left open (see [dialect.Session]), then resets
// every setting and the role to what the connection started with and sets
// again those the session had changed when saved.
func (s *session) Restore(ctx context.Context, conn *sql.Conn, commit bool) error {
	var errs []error
	switch status, _ := txStatus(conn); {
	case status == 'T' && commit:
		if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
			return fmt.Errorf("commit the transaction left open: %w", err)
		}
	case status == 'T' || status == 'E':
		if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
			return fmt.Errorf("roll back the transaction left open: %w", err)
		}
		if commit {
			errs = append(errs, errors.New("a transaction was left open after one of its statements failed: it was rolled back"))
		}
	}
	if _, err := conn.ExecContext(ctx, `RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL`); err != nil {
		return errors.Join(append(errs, fmt.Errorf("reset session: %w", err))...)
	}
	for _, kv := range s.settings {
		if _, err := conn.ExecContext(ctx, `SELECT pg_catalog.set_config($1, $2, false)`, kv[0], kv[1]); err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", kv[0], err))
		}
	}
	if s.role != "none" {
		if _, err := conn.ExecContext(ctx, `SELECT pg_catalog.set_config('role', $1, false)`, s.role); err != nil {
			errs = append(errs, fmt.Errorf("restore role: %w", err))
		}
	}
	return errors.Join(errs...)
}
