package migration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/strata-go/strata/backup"
)

// backupConfig holds the backup options.
type backupConfig struct {
	backuper backup.Backuper
	dir      string
	keep     int
}

// WithBackuper sets how the database is backed up before each migration
// whose BackupRequired method returns true (before Up and before Down), and
// by [Manager.Backup].
//
// On SQLite it may be left out: the default is [backup.NewSQLite], writing
// to "<database file>.backups". PostgreSQL and MySQL need the DSN for their
// client tools: WithBackuper(backup.NewPostgres(dsn)) or
// WithBackuper(backup.NewMySQL(dsn)). Without one, a migration that asks
// for a backup fails before it starts.
func WithBackuper(b backup.Backuper) Option {
	return func(c *config) error {
		if b == nil {
			return errors.New("WithBackuper: nil backuper")
		}
		c.backup.backuper = b
		return nil
	}
}

// WithBackupDir sets the directory backups are written to, created with
// mode 0700 if missing (one that others can write to is refused). The
// default is the backuper's own: "<database file>.backups" for SQLite;
// PostgreSQL and MySQL have none, so they need this option.
func WithBackupDir(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return errors.New("WithBackupDir: empty directory")
		}
		c.backup.dir = dir
		return nil
	}
}

// WithBackupKeep keeps the newest n backups of the database in the backup
// directory: each new backup, once complete, removes older ones beyond n.
// Zero, the default, keeps all.
func WithBackupKeep(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("WithBackupKeep: negative count %d", n)
		}
		c.backup.keep = n
		return nil
	}
}

// DefaultBackuper is an optional interface for dialects that can back a
// database up with no configuration (SQLite: the database file is known
// from the connection). [WithBackuper] overrides it.
//
// It and [DSNBackuper] are declared here rather than with the other
// optional dialect interfaces in package dialect, because they return a
// [backup.Backuper] and package dialect does not import package backup.
type DefaultBackuper interface {
	Backuper() backup.Backuper
}

// DSNBackuper is an optional interface for dialects that can back a
// database up given the DSN it was opened with (PostgreSQL and MySQL:
// their client tools connect on their own). The manager does not know the
// DSN; those who open the database, such as the command line, pass the
// result to [WithBackuper].
type DSNBackuper interface {
	BackuperFor(dsn string) (backup.Backuper, error)
}

// backuper returns the configured backuper or the dialect's default.
func (m *Manager) backuper() (backup.Backuper, error) {
	if b := m.cfg.backup.backuper; b != nil {
		return b, nil
	}
	if d := m.caps.backuper; d != nil {
		return d.Backuper(), nil
	}
	if h := m.caps.backupHint; h != nil {
		return nil, fmt.Errorf("no backuper configured: pass migration.WithBackuper(%s) and migration.WithBackupDir(dir) to NewManager", h.BackupHint())
	}
	return nil, fmt.Errorf("no backuper configured for dialect %q: pass migration.WithBackuper with a backup.Backuper to NewManager", m.d.Name())
}

// backup backs the database up before step s, returning the file written.
// It runs on the locked connection: on SQLite the pool may have no other.
func (m *Manager) backup(ctx context.Context, conn *sql.Conn, s Step) (string, error) {
	label := s.ID
	if s.Direction == DirectionDown {
		label += "-down"
	}
	f, err := m.backupOn(ctx, conn, label)
	return f.Path, err
}

func (m *Manager) backupOn(ctx context.Context, conn *sql.Conn, label string) (backup.File, error) {
	b, err := m.backuper()
	if err != nil {
		return backup.File{}, err
	}
	f, err := backup.Create(ctx, b, conn, backup.Options{Dir: m.cfg.backup.dir, Label: label, Keep: m.cfg.backup.keep})
	if pe := (*backup.PruneError)(nil); errors.As(err, &pe) {
		// The backup is complete; failing the run would not help.
		m.cfg.log.WarnContext(ctx, "old backups not removed", "file", f.Path, "error", pe.Err)
		return f, nil
	}
	return f, err
}

// Backup backs the database up now, under the migration lock (so no
// migration is half way), and returns the file. label names the backup in
// the file name; empty means "manual".
func (m *Manager) Backup(ctx context.Context, label string) (f backup.File, err error) {
	defer recoverInto(&err)
	err = m.withLock(ctx, false, func(conn *sql.Conn, _ *state) error {
		var err error
		if f, err = m.backupOn(ctx, conn, label); err != nil {
			return stepErr("", StepBackup, err)
		}
		m.cfg.log.InfoContext(ctx, "database backed up", "file", f.Path)
		return nil
	})
	return f, err
}

// Backups lists the backups of this database in the backup directory,
// newest first, including those taken before migrations. It takes no lock.
func (m *Manager) Backups(ctx context.Context) (files []backup.File, err error) {
	defer recoverInto(&err)
	b, err := m.backuper()
	if err != nil {
		return nil, stepErr("", StepBackup, err)
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, stepErr("", StepBackup, fmt.Errorf("get connection: %w", err))
	}
	defer conn.Close()
	files, err = backup.ListDatabase(ctx, b, conn, m.cfg.backup.dir)
	if err != nil {
		return nil, stepErr("", StepBackup, err)
	}
	return files, nil
}

// Restore replaces the database with the backup at path, under the
// migration lock, so that no migrator runs meanwhile. The file must match
// the checksum beside it and pass the backuper's checks, or nothing
// changes. The version table is restored with the rest: migrations applied
// after the backup was taken are pending again.
//
// On SQLite and PostgreSQL the restore is one transaction. MySQL cannot
// roll DDL back: the dump is loaded into a scratch database first and its
// tables moved in only once all of it has loaded (see [backup.MySQL]), so
// a dump the server cannot load leaves the database as it was. The lock
// is held until the restore has finished or failed.
func (m *Manager) Restore(ctx context.Context, path string) (err error) {
	defer recoverInto(&err)
	b, err := m.backuper()
	if err != nil {
		return stepErr("", StepRestore, err)
	}
	return m.withLock(ctx, false, func(conn *sql.Conn, _ *state) error {
		if err := backup.Restore(ctx, b, conn, path); err != nil {
			return stepErr("", StepRestore, err)
		}
		m.cfg.log.InfoContext(ctx, "database restored", "file", path)
		return nil
	})
}
