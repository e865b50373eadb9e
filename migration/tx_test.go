package migration_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/migration"
)

// sqlcDBTX is the interface sqlc generates in db.go for database/sql
// (sql_package "database/sql", the default): New(db DBTX) *Queries.
type sqlcDBTX interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	PrepareContext(context.Context, string) (*sql.Stmt, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// What code generators take, checked at compile time: sqlc's DBTX (also
// what emit_prepared_queries' Prepare(ctx, db) takes), and the three
// methods of dialect.Execer.
var (
	_ sqlcDBTX       = (*migration.Tx)(nil)
	_ dialect.Execer = (*migration.Tx)(nil)
)

// queries is what sqlc generates for two queries, written out by hand.
type queries struct{ db sqlcDBTX }

func (q *queries) insertItems(ctx context.Context, ph func(int) string, names ...string) error {
	stmt, err := q.db.PrepareContext(ctx, `INSERT INTO items (name) VALUES (`+ph(1)+`)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, n := range names {
		if _, err := stmt.ExecContext(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (q *queries) countItems(ctx context.Context) (n int, err error) {
	err = q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items`).Scan(&n)
	return n, err
}

// preparedMigrations: 0001 creates the table; 0002 fills it through a
// prepared statement inside its transaction, or on the locked connection
// where there is none (MySQL); 0003 does the same outside a transaction
// on purpose (NoTransaction); 0004 fails after inserting through a
// prepared statement, so that its rows must roll back with it.
func preparedMigrations(fail bool) []migration.Migration {
	insert := func(names ...string) func(context.Context, *migration.Tx) error {
		return func(ctx context.Context, tx *migration.Tx) error {
			return (&queries{db: tx}).insertItems(ctx, tx.Dialect().Placeholder, names...)
		}
	}
	ms := []migration.Migration{
		migration.SQL("0001_items", `CREATE TABLE items (name VARCHAR(20) NOT NULL)`, `DROP TABLE items`),
		&migration.Func{Name: "0002_fill", Requires: []string{"0001_items"}, UpFn: insert("a", "b"),
			DownFn: func(ctx context.Context, tx *migration.Tx) error {
				_, err := tx.ExecContext(ctx, `DELETE FROM items`)
				return err
			}},
		&migration.Func{Name: "0003_fill_no_tx", Requires: []string{"0002_fill"}, UpFn: insert("c"), NoTx: true,
			DownFn: func(context.Context, *migration.Tx) error { return nil }},
	}
	if fail {
		ms = append(ms, &migration.Func{Name: "0004_fails", Requires: []string{"0003_fill_no_tx"},
			UpFn: func(ctx context.Context, tx *migration.Tx) error {
				if err := insert("d", "e")(ctx, tx); err != nil {
					return err
				}
				return fmt.Errorf("on purpose")
			},
			DownFn: func(context.Context, *migration.Tx) error { return nil }})
	}
	return ms
}

// TestTxPrepareContext: a prepared statement, as generated code uses one,
// works inside a migration on every dialect, in a transaction and outside
// one, and what it wrote rolls back with a failed migration where DDL is
// transactional.
func TestTxPrepareContext(t *testing.T) {
	type target struct {
		name string
		db   func(t *testing.T) (*sql.DB, dialect.Dialect)
	}
	targets := []target{
		{"sqlite", func(t *testing.T) (*sql.DB, dialect.Dialect) { return openDB(t), dialectFor(t) }},
		{"postgres", func(t *testing.T) (*sql.DB, dialect.Dialect) { db, _ := pgtest.New(t); return db, postgres.New() }},
		{"mysql", func(t *testing.T) (*sql.DB, dialect.Dialect) { db, _ := mytest.New(t); return db, mysql.New() }},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			db, d := tg.db(t)
			m, err := migration.NewManager(db, d, preparedMigrations(true))
			if err != nil {
				t.Fatal(err)
			}
			res, err := m.UpTo(t.Context(), "0003_fill_no_tx")
			if err != nil {
				t.Fatalf("up: %v (results %+v)", err, res)
			}
			q := &queries{db: db}
			if n, err := q.countItems(t.Context()); err != nil || n != 3 {
				t.Fatalf("after up: %d items, %v; want 3", n, err)
			}
			_, err = m.Up(t.Context())
			if err == nil {
				t.Fatal("0004_fails succeeded")
			}
			want := 3
			if !d.TransactionalDDL() {
				want = 5 // MySQL: no transaction around the migration
			}
			if n, err := q.countItems(t.Context()); err != nil || n != want {
				t.Errorf("after the failed migration: %d items, %v; want %d", n, err, want)
			}
		})
	}
}
