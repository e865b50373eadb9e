package migration

import (
	"context"
	"database/sql"
	"errors"
)

// backupConfig holds the backup options.
type backupConfig struct{}

// backup backs the database up before step s, returning the file written.
func (m *Manager) backup(ctx context.Context, conn *sql.Conn, s Step) (string, error) {
	return "", errors.New("the migration requires a backup and no backuper is configured")
}
