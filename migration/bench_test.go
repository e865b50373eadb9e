package migration_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/strata-go/strata/migration"
)

// createTable is a trivial migration: it creates one table and its Down
// drops it. Each depends on the one before it, as in a project's history.
func createTable(i int) migration.Migration {
	var deps []string
	if i > 0 {
		deps = []string{fmt.Sprintf("%05d_t", i-1)}
	}
	return migration.SQL(fmt.Sprintf("%05d_t", i),
		fmt.Sprintf(`CREATE TABLE t_%05d (id INTEGER PRIMARY KEY)`, i),
		fmt.Sprintf(`DROP TABLE t_%05d`, i), deps...)
}

// noop is a migration whose Up and Down do nothing, so that only the
// manager's own work is measured.
func noop(i int) migration.Migration {
	var deps []string
	if i > 0 {
		deps = []string{fmt.Sprintf("%05d_n", i-1)}
	}
	return &migration.Func{
		Name:     fmt.Sprintf("%05d_n", i),
		Requires: deps,
		UpFn:     func(context.Context, *migration.Tx) error { return nil },
		DownFn:   func(context.Context, *migration.Tx) error { return nil },
	}
}

func set(n int, mk func(int) migration.Migration) []migration.Migration {
	ms := make([]migration.Migration, n)
	for i := range ms {
		ms[i] = mk(i)
	}
	return ms
}

// BenchmarkUpToDate1000 measures the start-up check every application runs:
// Up on a SQLite file where all of 1,000 migrations are applied. It should
// cost one small read, whatever the number of migrations; raw is that read
// alone, for comparison.
func BenchmarkUpToDate1000(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	db := openDB(b)
	ms := set(n, createTable)
	// Apply in one transaction: setting up is not what is measured.
	if res, err := newManager(b, db, ms, migration.WithAtomic()).Up(ctx); err != nil || len(res) != n {
		b.Fatalf("set up: applied %d, error %v", len(res), err)
	}

	b.Run("Up", func(b *testing.B) {
		m := newManager(b, db, ms)
		for b.Loop() {
			res, err := m.Up(ctx)
			if err != nil || len(res) != 0 {
				b.Fatalf("Up applied %d, error %v", len(res), err)
			}
		}
	})
	// What a process start does after opening the database.
	b.Run("NewManager+Up", func(b *testing.B) {
		for b.Loop() {
			m, err := migration.NewManager(db, dialectFor(b), ms)
			if err != nil {
				b.Fatal(err)
			}
			if res, err := m.Up(ctx); err != nil || len(res) != 0 {
				b.Fatalf("Up applied %d, error %v", len(res), err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			var fp string
			var dirty bool
			if err := db.QueryRowContext(ctx, `SELECT fingerprint, dirty FROM strata_migrations ORDER BY seq DESC LIMIT 1`).Scan(&fp, &dirty); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkApply measures what one migration costs inside a run that
// applies many, on a SQLite file: ns/op is per migration. Runs apply at most
// 1,000 migrations to a fresh database each, so that the figure does not
// grow with b.N (SQLite's CREATE TABLE gets slower as the schema grows), and
// the run's fixed costs (lock, version table, reading the state) are spread
// over them.
//
//   - create-table: a trivial migration, CREATE TABLE, with its
//     transaction, foreign key check and version row;
//   - noop: the manager's bookkeeping alone (a migration that does nothing);
//   - atomic: create-table with WithAtomic, one transaction for the run;
//   - raw: the floor, the same CREATE TABLE and a one-column version row in
//     a transaction of its own, through database/sql.
func BenchmarkApply(b *testing.B) {
	const chunk = 1000
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		mk   func(int) migration.Migration
		opts []migration.Option
	}{
		{"create-table", createTable, nil},
		{"noop", noop, nil},
		{"atomic", createTable, []migration.Option{migration.WithAtomic()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for done := 0; done < b.N; done += chunk {
				n := min(chunk, b.N-done)
				b.StopTimer()
				m := newManager(b, openDB(b), set(n, bc.mk), bc.opts...)
				b.StartTimer()
				res, err := m.Up(ctx)
				if err != nil || len(res) != n {
					b.Fatalf("applied %d of %d, error %v", len(res), n, err)
				}
			}
		})
	}
	b.Run("raw", func(b *testing.B) {
		for done := 0; done < b.N; done += chunk {
			n := min(chunk, b.N-done)
			b.StopTimer()
			db := openDB(b)
			if _, err := db.ExecContext(ctx, `CREATE TABLE versions (version INTEGER NOT NULL PRIMARY KEY)`); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			for i := range n {
				if err := rawApply(ctx, db, i); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkRollBack measures what rolling one migration back costs inside a
// Reset of 1,000 (or fewer) on a SQLite file: ns/op is per migration. The
// in-memory bookkeeping of a roll-back should not grow with the number of
// applied migrations.
func BenchmarkRollBack(b *testing.B) {
	const chunk = 1000
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		opts []migration.Option
	}{
		{"drop-table", nil},
		{"atomic", []migration.Option{migration.WithAtomic()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for done := 0; done < b.N; done += chunk {
				n := min(chunk, b.N-done)
				b.StopTimer()
				db := openDB(b)
				ms := set(n, createTable)
				if _, err := newManager(b, db, ms, migration.WithAtomic()).Up(ctx); err != nil {
					b.Fatal(err)
				}
				m := newManager(b, db, ms, bc.opts...)
				b.StartTimer()
				res, err := m.Reset(ctx)
				if err != nil || len(res) != n {
					b.Fatalf("rolled back %d of %d, error %v", len(res), n, err)
				}
			}
		})
	}
}

func rawApply(ctx context.Context, db *sql.DB, i int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE t_%05d (id INTEGER PRIMARY KEY)`, i)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO versions (version) VALUES (?)`, i); err != nil {
		return err
	}
	return tx.Commit()
}

// BenchmarkOrderShapes10000 measures NewManager ordering 10,000 migrations
// in the two shapes real histories take, beside the random graph of
// BenchmarkOrder10000: one chain (each migration depends on the one
// before) and a flat set (no dependencies, ordered by ID alone).
func BenchmarkOrderShapes10000(b *testing.B) {
	const n = 10000
	db := openDB(b)
	for _, bc := range []struct {
		name string
		ms   []migration.Migration
	}{
		{"chain", set(n, noop)},
		{"flat", set(n, func(i int) migration.Migration { return node(fmt.Sprintf("%05d", i)) })},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := migration.NewManager(db, dialectFor(b), bc.ms); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOrderShapes1000 is BenchmarkOrderShapes10000 at the size of a
// long-lived project's history: building the graph is paid on every
// process start, so it should cost far less than the one-row read of
// BenchmarkUpToDate1000.
func BenchmarkOrderShapes1000(b *testing.B) {
	const n = 1000
	db := openDB(b)
	for _, bc := range []struct {
		name string
		ms   []migration.Migration
	}{
		{"chain", set(n, noop)},
		{"flat", set(n, func(i int) migration.Migration { return node(fmt.Sprintf("%05d", i)) })},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := migration.NewManager(db, dialectFor(b), bc.ms); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
