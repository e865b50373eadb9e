package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/internal/testdb"
)

// driverName is pgx's database/sql driver. The helpers import drivers, not
// dialects, so that the packages the dialects import (backup) can use them
// in their tests.
const driverName = "pgx"

// New creates a database with a random name on the server of
// STRATA_TEST_POSTGRES_DSN and returns a handle to it and its DSN (for
// child processes). When the test ends the handle is closed and the
// database dropped, with any sessions still connected to it. Without a
// server the test is skipped or failed as package testdb says.
func New(t testing.TB) (*sql.DB, string) {
	t.Helper()
	base := testdb.DSN(t, testdb.PostgresEnv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	admin, err := sql.Open(driverName, base)
	if err != nil {
		testdb.Unreachable(t, testdb.PostgresEnv, err)
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		testdb.Unreachable(t, testdb.PostgresEnv, err)
	}
	name := testdb.RandomName()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+dialect.QuoteDouble(name)); err != nil {
		admin.Close()
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	dsn, err := WithDatabase(base, name)
	if err != nil {
		drop(admin, name)
		admin.Close()
		t.Fatalf("pgtest: %v", err)
	}
	db, err := sql.Open(driverName, dsn)
	if err == nil {
		err = db.PingContext(ctx)
	}
	t.Cleanup(func() {
		if db != nil {
			db.Close()
		}
		if err := drop(admin, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
		admin.Close()
	})
	if err != nil {
		t.Fatalf("pgtest: connect to database %s: %v", name, err)
	}
	return db, dsn
}

// drop drops the database, terminating its remaining sessions.
func drop(admin *sql.DB, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := dialect.QuoteDouble(name)
	_, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+q+` WITH (FORCE)`)
	if err == nil {
		return nil
	}
	// Before PostgreSQL 13 there is no FORCE: end the sessions by hand.
	_, err2 := admin.ExecContext(ctx,
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
	if err2 == nil {
		_, err2 = admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+q)
	}
	if err2 != nil {
		return fmt.Errorf("drop database %s: %w (with FORCE: %v)", name, err2, err)
	}
	return nil
}

// WithDatabase returns dsn with its database replaced by name. dsn may be a
// URL (postgres://user@host:port/db?sslmode=disable) or a keyword/value
// string (host=... user=... dbname=...).
func WithDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN: %w", err)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	// In keyword/value form the last of repeated keywords wins.
	return strings.TrimSpace(dsn) + " dbname='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(name) + "'", nil
}

// Address returns the host:port of the server dsn names, which must be a
// single TCP host.
func Address(dsn string) (string, error) {
	_, old, err := withAddress(dsn, "127.0.0.1:0")
	return old, err
}

// WithAddress returns dsn with its server address replaced by addr
// (host:port), to connect through a [testdb.Proxy].
func WithAddress(dsn, addr string) (string, error) {
	s, _, err := withAddress(dsn, addr)
	return s, err
}

func withAddress(dsn, addr string) (newDSN, old string, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", err
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", fmt.Errorf("parse DSN: %w", err)
		}
		if u.Hostname() == "" || strings.Contains(u.Host, ",") {
			return "", "", fmt.Errorf("DSN names no single TCP host")
		}
		old = u.Host
		if u.Port() == "" {
			old = net.JoinHostPort(u.Hostname(), "5432")
		}
		u.Host = addr
		return u.String(), old, nil
	}
	oldHost, oldPort := "", "5432"
	for _, kv := range strings.Fields(dsn) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "host":
			oldHost = strings.Trim(v, "'")
		case "port":
			oldPort = strings.Trim(v, "'")
		}
	}
	if oldHost == "" || strings.HasPrefix(oldHost, "/") || strings.Contains(oldHost, ",") {
		return "", "", fmt.Errorf("DSN names no single TCP host")
	}
	return strings.TrimSpace(dsn) + " host=" + host + " port=" + port, net.JoinHostPort(oldHost, oldPort), nil
}
