// Package sqlitefile reads which databases a SQLite connection has
// attached, and their files, from PRAGMA database_list. It is plain SQL
// over database/sql and imports no driver, so that the backup package,
// which must not need cgo, and the SQLite dialect share one reader.
package sqlitefile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Queryer is what the functions here query through: a *sql.DB, *sql.Conn
// or *sql.Tx, or a dialect.Execer.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Database is one row of PRAGMA database_list.
type Database struct {
	Name string // "main", "temp" or the name given to ATTACH
	File string // the path of its file; "" in memory or temporary
}

// List returns the databases attached to the connection q queries on, in
// the order SQLite lists them: main first.
func List(ctx context.Context, q Queryer) ([]Database, error) {
	rows, err := q.QueryContext(ctx, `PRAGMA database_list`)
	if err != nil {
		return nil, fmt.Errorf("read database_list: %w", err)
	}
	defer rows.Close()
	var dbs []Database
	for rows.Next() {
		var seq int
		var d Database
		var file sql.NullString
		if err := rows.Scan(&seq, &d.Name, &file); err != nil {
			return nil, fmt.Errorf("read database_list: %w", err)
		}
		d.File = file.String
		dbs = append(dbs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read database_list: %w", err)
	}
	return dbs, nil
}

// Of returns the path of the file of the database attached as schema, ""
// for one in memory. ok is false when no database has that name.
func Of(ctx context.Context, q Queryer, schema string) (file string, ok bool, err error) {
	dbs, err := List(ctx, q)
	if err != nil {
		return "", false, err
	}
	for _, d := range dbs {
		if d.Name == schema {
			return d.File, true, nil
		}
	}
	return "", false, nil
}

// Main returns the path of the main database's file, or "" for an
// in-memory or temporary database.
func Main(ctx context.Context, q Queryer) (string, error) {
	file, ok, err := Of(ctx, q, "main")
	if err == nil && !ok {
		err = errors.New("read database_list: no main database")
	}
	return file, err
}
