package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-sqlite3" // also registers the "sqlite3" driver
)

// BusyTimeout is how long a connection opened by [Open] waits for another
// process's write lock before it reports SQLITE_BUSY.
const BusyTimeout = 10 * time.Second

// Open opens (creating if needed) the SQLite database file at path, set up
// the way a migrated application wants it:
//
//   - the parent directory is created with mode 0700 and the file with 0600,
//     so only its owner can read it (SQLite gives the -wal and -shm files the
//     same mode);
//   - busy_timeout is set first, then journal_mode=WAL, so the switch to WAL
//     itself waits for other processes instead of failing; where SQLite
//     reports the file busy at once rather than wait (several processes
//     switching a new file to WAL together), Open tries again until
//     [BusyTimeout] has passed;
//   - foreign_keys=ON;
//   - write transactions begin IMMEDIATE, so two processes never deadlock
//     upgrading a read lock;
//   - at most one open connection: SQLite has one writer at a time, and one
//     connection keeps "database is locked" out of the process.
//
// path ":memory:" opens a private in-memory database.
func Open(path string) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	params := url.Values{}
	params.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	params.Set("_foreign_keys", "on")
	params.Set("_txlock", "immediate")
	var dsn string
	if path == ":memory:" {
		dsn = "file::memory:?" + params.Encode()
	} else {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: create directory: %w", path, err)
		}
		f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		f.Close()
		params.Set("_journal_mode", "WAL")
		dsn = "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + params.Encode()
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := ping(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// ping opens db's connection. A connection that finds the file locked by
// another one's switch to WAL is refused at once, without the busy
// handler (waiting could deadlock), so ping tries again, with a short
// growing pause, for up to BusyTimeout.
func ping(db *sql.DB) error {
	deadline := time.Now().Add(BusyTimeout)
	pause := time.Millisecond
	for {
		err := db.Ping()
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || (se.Code != sqlite3.ErrBusy && se.Code != sqlite3.ErrLocked) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}
