package postgres

import (
	"database/sql"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/strata-go/strata/backup"
	"github.com/strata-go/strata/internal/redact"
)

// Open returns a handle to the PostgreSQL database dsn names, through
// pgx's database/sql driver. dsn is a URL
// (postgres://user:pass@host:5432/db?sslmode=disable, or postgresql://) or
// keyword/value settings ("host=db user=app dbname=app"), as pgx and libpq
// read them, including the PG* environment variables and the password
// file. The DSN is used as given: Open adds no settings.
//
// Like [sql.Open], Open only checks the DSN and does not connect; call
// PingContext to. An empty DSN is an error. Errors name the DSN with its
// password masked.
func (*Dialect) Open(dsn string) (*sql.DB, error) {
	if dsn == "" {
		return nil, errors.New("postgres: open: empty DSN")
	}
	// pgx knows URLs only by their lower-case schemes.
	for _, p := range []string{"postgres://", "postgresql://"} {
		if len(dsn) >= len(p) && strings.EqualFold(dsn[:len(p)], p) {
			dsn = p + dsn[len(p):]
		}
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, redact.Error("postgres: open: "+maskPasswords(err.Error(), dsn), err)
	}
	return stdlib.OpenDB(*cfg), nil
}

// BackuperFor returns the [backup.Postgres] backuper of the database dsn
// names (pg_dump and pg_restore connect with it).
func (*Dialect) BackuperFor(dsn string) (backup.Backuper, error) {
	return backup.NewPostgres(dsn), nil
}

// BackupHint returns how to build the backuper of [Dialect.BackuperFor].
func (*Dialect) BackupHint() string { return "backup.NewPostgres(dsn)" }

// maskPasswords replaces in msg every password dsn contains. pgx masks
// the password in the DSN it quotes already; this also covers the forms it
// misses, such as "password = secret".
func maskPasswords(msg, dsn string) string {
	_, secrets := redact.DSN(dsn)
	return redact.Secrets(msg, secrets)
}
