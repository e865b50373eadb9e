package mytest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/strata-go/strata/internal/testdb"
)

// New creates a database with a random name on the server of
// STRATA_TEST_MYSQL_DSN and returns a handle to it and its DSN (for child
// processes). The DSN keeps every setting of the base one but the
// database. When the test ends the handle is closed and the database
// dropped. Without a server the test is skipped or failed as package testdb
// says.
func New(t testing.TB) (*sql.DB, string) {
	t.Helper()
	base := testdb.DSN(t, testdb.MySQLEnv)
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("mytest: parse %s: %v", testdb.MySQLEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The base DSN's database may not exist; administer without one.
	adminCfg := cfg.Clone()
	adminCfg.DBName = ""
	admin, err := sql.Open("mysql", adminCfg.FormatDSN())
	if err != nil {
		testdb.Unreachable(t, testdb.MySQLEnv, err)
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		testdb.Unreachable(t, testdb.MySQLEnv, err)
	}
	name := testdb.RandomName()
	quoted := "`" + name + "`" // a random name of letters, digits and '_'
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+quoted+` CHARACTER SET utf8mb4`); err != nil {
		admin.Close()
		t.Fatalf("mytest: create database %s: %v", name, err)
	}
	cfg.DBName = name
	dsn := cfg.FormatDSN()
	db, err := sql.Open("mysql", dsn)
	if err == nil {
		err = db.PingContext(ctx)
	}
	t.Cleanup(func() {
		if db != nil {
			db.Close()
		}
		if err := drop(admin, quoted); err != nil {
			t.Errorf("mytest: drop database %s: %v", name, err)
		}
		admin.Close()
	})
	if err != nil {
		t.Fatalf("mytest: connect to database %s: %v", name, err)
	}
	return db, dsn
}

// drop drops the database, waiting at most a while for metadata locks that
// lingering sessions hold on its tables.
func drop(admin *sql.DB, quoted string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET SESSION lock_wait_timeout = 30`); err != nil {
		return fmt.Errorf("set lock_wait_timeout: %w", err)
	}
	_, err = conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+quoted)
	return err
}

// Address returns the host:port of the server dsn names, which must
// connect over TCP.
func Address(dsn string) (string, error) {
	cfg, err := tcpConfig(dsn)
	if err != nil {
		return "", err
	}
	return cfg.Addr, nil
}

// WithAddress returns dsn with its server address replaced by addr
// (host:port), to connect through a [testdb.Proxy].
func WithAddress(dsn, addr string) (string, error) {
	cfg, err := tcpConfig(dsn)
	if err != nil {
		return "", err
	}
	cfg.Addr = addr
	return cfg.FormatDSN(), nil
}

func tcpConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.Net != "tcp" {
		return nil, fmt.Errorf("DSN does not connect over TCP (net %q)", cfg.Net)
	}
	return cfg, nil
}
