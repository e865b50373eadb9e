// Package target opens the databases the benchmarks run against and makes
// fresh, empty ones: a new file for SQLite, a new database on the PostgreSQL
// and MySQL/MariaDB servers.
//
// Every migration tool of a benchmark opens its database through [Open], so
// that all of them see the same connection settings: for SQLite those of
// sqlite.Open (WAL, foreign_keys on, busy_timeout, BEGIN IMMEDIATE, one
// connection), for PostgreSQL pgx's database/sql driver without TLS, for
// MySQL go-sql-driver/mysql with multiStatements=true (golang-migrate needs
// it, and strata's and raw SQL migrations of several statements use it) and
// parseTime=true (goose's MySQL lock needs it).
package target

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"

	"github.com/strata-go/strata/bench/internal/countdb"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/dialect/sqlite"
)

// Dialect names, as strata's dialects name themselves.
const (
	SQLite   = sqlite.Name
	Postgres = postgres.Name
	MySQL    = mysql.Name
)

// Dialects returns the dialect names in the order reports show them.
func Dialects() []string { return []string{SQLite, Postgres, MySQL} }

// DB is one database to run against.
type DB struct {
	// Dialect is SQLite, Postgres or MySQL.
	Dialect string
	// DSN is the file path for SQLite, a connection string otherwise.
	DSN string
	// Name is the database's name on a server, or the file's base name.
	Name string
}

// Open opens db with the settings every tool shares.
func Open(db DB) (*sql.DB, error) {
	switch db.Dialect {
	case SQLite:
		return sqlite.Open(db.DSN)
	case Postgres:
		return sql.Open(postgres.DriverName, db.DSN)
	case MySQL:
		return sql.Open(mysql.DriverName, db.DSN)
	default:
		return nil, fmt.Errorf("target: unknown dialect %q", db.Dialect)
	}
}

// OpenCounting opens db like [Open], through a driver wrapper that counts
// statements and commits in c.
func OpenCounting(db DB, c *countdb.Counts) (*sql.DB, error) {
	switch db.Dialect {
	case SQLite:
		// The settings of sqlite.Open, which does not take a driver.
		abs, err := filepath.Abs(db.DSN)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
			return nil, err
		}
		params := url.Values{}
		params.Set("_busy_timeout", fmt.Sprint(sqlite.BusyTimeout.Milliseconds()))
		params.Set("_foreign_keys", "on")
		params.Set("_txlock", "immediate")
		params.Set("_journal_mode", "WAL")
		h := countdb.Open(&sqlite3.SQLiteDriver{}, "file:"+(&url.URL{Path: abs}).EscapedPath()+"?"+params.Encode(), c)
		h.SetMaxOpenConns(1)
		return h, nil
	case Postgres:
		return countdb.Open(stdlib.GetDefaultDriver(), db.DSN, c), nil
	case MySQL:
		return countdb.Open(&gomysql.MySQLDriver{}, db.DSN, c), nil
	}
	return nil, fmt.Errorf("target: unknown dialect %q", db.Dialect)
}

// Server makes fresh databases of one dialect.
type Server struct {
	Dialect string
	// AdminDSN connects to the server as a user who may create and drop
	// databases (unused for SQLite).
	AdminDSN string
	// Dir holds SQLite files.
	Dir string

	prefix  string
	created map[string]DB
}

// NewServer returns a Server for dialect. adminDSN is a URL for PostgreSQL
// ("postgres://user@host:port/db?sslmode=disable") and a go-sql-driver DSN
// for MySQL ("root@tcp(127.0.0.1:3306)/"); dir is where SQLite files go.
func NewServer(dialect, adminDSN, dir string) (*Server, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	s := &Server{Dialect: dialect, AdminDSN: adminDSN, Dir: dir, prefix: "strata_bench_" + hex.EncodeToString(b[:]), created: map[string]DB{}}
	switch dialect {
	case SQLite:
		if dir == "" {
			return nil, errors.New("target: sqlite needs a directory")
		}
	case Postgres:
		if _, err := s.postgresDSN("x"); err != nil {
			return nil, err
		}
	case MySQL:
		if _, err := s.mysqlDSN("x"); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("target: unknown dialect %q", dialect)
	}
	return s, nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// Fresh creates a new, empty database whose name includes label.
func (s *Server) Fresh(ctx context.Context, label string) (DB, error) {
	name := s.prefix + "_" + strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(label), "_"), "_")
	if len(name) > 63 {
		name = name[:63]
	}
	if _, dup := s.created[name]; dup {
		return DB{}, fmt.Errorf("target: database %s already made", name)
	}
	db := DB{Dialect: s.Dialect, Name: name}
	switch s.Dialect {
	case SQLite:
		db.DSN = filepath.Join(s.Dir, name+".db")
		removeSQLite(db.DSN)
	case Postgres:
		dsn, err := s.postgresDSN(name)
		if err != nil {
			return DB{}, err
		}
		db.DSN = dsn
		if err := s.admin(ctx, `CREATE DATABASE `+name); err != nil {
			return DB{}, err
		}
	case MySQL:
		dsn, err := s.mysqlDSN(name)
		if err != nil {
			return DB{}, err
		}
		db.DSN = dsn
		if err := s.admin(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
			return DB{}, err
		}
	}
	s.created[name] = db
	return db, nil
}

// Drop removes a database made by Fresh.
func (s *Server) Drop(ctx context.Context, db DB) error {
	delete(s.created, db.Name)
	switch s.Dialect {
	case SQLite:
		return removeSQLite(db.DSN)
	case Postgres:
		return s.admin(ctx, `DROP DATABASE IF EXISTS `+db.Name+` WITH (FORCE)`)
	case MySQL:
		return s.admin(ctx, "DROP DATABASE IF EXISTS `"+db.Name+"`")
	}
	return nil
}

// DropAll removes every database Fresh made and Drop did not remove.
func (s *Server) DropAll(ctx context.Context) error {
	var errs []error
	for _, db := range s.created {
		errs = append(errs, s.Drop(ctx, db))
	}
	return errors.Join(errs...)
}

// OtherClients returns how many client connections other than this one the
// PostgreSQL server has (0 for other dialects): a benchmark that starts 100
// processes needs 100 of its 100 default connection slots.
func (s *Server) OtherClients(ctx context.Context) (int, error) {
	if s.Dialect != Postgres {
		return 0, nil
	}
	db, err := sql.Open(postgres.DriverName, s.AdminDSN)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`).Scan(&n)
	return n, err
}

// WaitIdle waits up to max for the PostgreSQL server to have no client
// connections but its own, and returns how many others it saw last.
func (s *Server) WaitIdle(ctx context.Context, max time.Duration) int {
	deadline := time.Now().Add(max)
	for {
		n, err := s.OtherClients(ctx)
		if err != nil || n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Version returns the server's version string.
func (s *Server) Version(ctx context.Context) (string, error) {
	var (
		db  *sql.DB
		err error
		q   = `SELECT version()`
	)
	switch s.Dialect {
	case SQLite:
		db, err = sqlite.Open(":memory:")
		q = `SELECT 'SQLite ' || sqlite_version()`
	case Postgres:
		db, err = sql.Open(postgres.DriverName, s.AdminDSN)
	case MySQL:
		db, err = sql.Open(mysql.DriverName, s.AdminDSN)
	}
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	err = db.QueryRowContext(ctx, q).Scan(&v)
	return v, err
}

func (s *Server) admin(ctx context.Context, stmt string) error {
	driver := postgres.DriverName
	if s.Dialect == MySQL {
		driver = mysql.DriverName
	}
	db, err := sql.Open(driver, s.AdminDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

func (s *Server) postgresDSN(name string) (string, error) {
	u, err := url.Parse(s.AdminDSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("target: postgres DSN %q: want a URL such as postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", s.AdminDSN)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func (s *Server) mysqlDSN(name string) (string, error) {
	cfg, err := gomysql.ParseDSN(s.AdminDSN)
	if err != nil {
		return "", fmt.Errorf("target: mysql DSN %q: %w", s.AdminDSN, err)
	}
	cfg.DBName = name
	cfg.MultiStatements = true
	cfg.ParseTime = true // goose's MySQL table locker scans DATETIME into time.Time
	return cfg.FormatDSN(), nil
}

func removeSQLite(path string) error {
	var errs []error
	for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
