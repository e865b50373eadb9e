package lock

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/gofrs/flock"
)

// File is an OS file lock (flock(2) on Unix, LockFileEx on Windows) on a
// lock file beside the database. The OS releases it when the holding process
// dies, so a killed migrator never blocks the next one. The lock file is
// created with mode 0600 if missing and never deleted: deleting it would let
// two processes lock two different files of the same name.
type File struct {
	// Path is the lock file, conventionally "<database file>.lock".
	Path string
	// Logger receives a line every few seconds while waiting. Nil is silent.
	Logger *slog.Logger
	// Backoff between attempts; the zero value means the default (see
	// [Backoff]).
	Backoff Backoff

	mu   sync.Mutex
	held map[*sql.Conn]*flock.Flock
}

var _ Locker = (*File)(nil)

// NewFile returns a file lock on path.
func NewFile(path string, log *slog.Logger) *File {
	return &File{Path: path, Logger: log}
}

// Lock takes the file lock on behalf of conn. conn is used only as the key
// that Unlock must present again.
func (f *File) Lock(ctx context.Context, conn *sql.Conn) error {
	if f.Path == "" {
		return errors.New("lock: file lock without a path")
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return fmt.Errorf("lock: create directory for %s: %w", f.Path, err)
	}
	// Create the file with restrictive permissions before flock opens it
	// (flock would create it 0600 as well, but be explicit about it).
	fd, err := os.OpenFile(f.Path, os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		return fmt.Errorf("lock: open %s: %w", f.Path, err)
	}
	fd.Close()

	fl := flock.New(f.Path, flock.SetFlag(os.O_CREATE|os.O_RDONLY), flock.SetPermissions(0o600))
	err = poll(ctx, f.Backoff, f.Logger, "file lock "+f.Path, func(context.Context) (bool, error) {
		return fl.TryLock()
	}, nil)
	if err != nil {
		fl.Close()
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held == nil {
		f.held = map[*sql.Conn]*flock.Flock{}
	}
	f.held[conn] = fl
	return nil
}

// Unlock releases the lock taken for conn.
func (f *File) Unlock(_ context.Context, conn *sql.Conn) error {
	f.mu.Lock()
	fl, ok := f.held[conn]
	delete(f.held, conn)
	f.mu.Unlock()
	if !ok {
		return fmt.Errorf("lock: unlock %s: not held", f.Path)
	}
	if err := fl.Unlock(); err != nil {
		fl.Close()
		return fmt.Errorf("lock: unlock %s: %w", f.Path, err)
	}
	return fl.Close()
}
