package migration_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/strata-go/strata/migration"
)

// noTx is table(id) run outside a transaction, the way every migration
// runs on MySQL: recorded dirty, run, recorded clean.
func noTx(id string, deps ...string) *migration.Func {
	f := table(id, deps...)
	f.NoTx = true
	return f
}

// noLock is a locker that fails the test if taken: Up on an up-to-date
// database must answer from the newest version row alone.
type noLock struct{ tb testing.TB }

func (l noLock) Lock(context.Context, *sql.Conn) error {
	l.tb.Error("the lock was taken: the newest version row does not say the database is up to date")
	return errors.New("noLock")
}
func (noLock) Unlock(context.Context, *sql.Conn) error { return nil }

// wantUpToDate checks that the version table is clean and that its newest
// row fingerprints exactly ms, so that the start-up check needs no lock.
func wantUpToDate(tb testing.TB, db *sql.DB, ms []migration.Migration) {
	tb.Helper()
	m := newManager(tb, db, ms, migration.WithLocker(noLock{tb}))
	st, err := m.Status(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range st {
		if s.State != migration.StateApplied {
			tb.Fatalf("%s is %s, want applied", s.ID, s.State)
		}
	}
	if res, err := m.Up(context.Background()); err != nil || res != nil {
		tb.Fatalf("Up when up to date = %v, %v", res, err)
	}
}

func wantStates(tb testing.TB, m *migration.Manager, want map[string]migration.State) {
	tb.Helper()
	st, err := m.Status(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range st {
		if w, ok := want[s.ID]; ok && s.State != w {
			tb.Errorf("%s is %s, want %s", s.ID, s.State, w)
		}
	}
}

// Outside transactions each migration's closing write waits for the next
// migration's opening one; these tests check that none is ever lost.
func TestNoTxRunRecordsEveryMigration(t *testing.T) {
	db := openDB(t)
	ms := []migration.Migration{noTx("a"), noTx("b", "a"), table("c", "b"), noTx("d", "c")}
	m := newManager(t, db, ms)
	res, err := m.Up(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "applied", resultIDs(res), []string{"a", "b", "c", "d"})
	wantUpToDate(t, db, ms)

	if _, err := m.DownTo(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "left", applied(t, m), []string{"a"})
	wantIDs(t, "tables", tables(t, db), []string{"t_a"})
	wantUpToDate(t, db, ms[:1])

	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "left after Reset", applied(t, m), nil)
	wantIDs(t, "tables after Reset", tables(t, db), nil)
}

func TestNoTxFailureKeepsEarlierMigrationsClean(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(*migration.Func)
		state   migration.State // of the failing migration afterwards
	}{
		{"Validate", func(f *migration.Func) {
			f.ValidateFn = func(context.Context, *migration.Tx) error { return errBoom }
		}, migration.StatePending},
		{"Up", func(f *migration.Func) {
			f.UpFn = func(context.Context, *migration.Tx) error { return errBoom }
		}, migration.StateDirty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			bad := noTx("bad", "b")
			tc.breakIt(bad)
			m := newManager(t, db, []migration.Migration{noTx("a"), noTx("b", "a"), bad})
			res, err := m.Up(t.Context())
			if !errors.Is(err, errBoom) {
				t.Fatalf("Up = %v, want errBoom", err)
			}
			if len(res) != 3 || res[0].Err != nil || res[1].Err != nil || !errors.Is(res[2].Err, errBoom) {
				t.Fatalf("results = %+v, want a and b applied, bad failed", res)
			}
			wantStates(t, m, map[string]migration.State{"a": migration.StateApplied, "b": migration.StateApplied, "bad": tc.state})
		})
	}
}

func TestNoTxDownFailureKeepsEarlierRollbacks(t *testing.T) {
	db := openDB(t)
	a, b, c := noTx("a"), noTx("b", "a"), noTx("c", "b")
	ms := []migration.Migration{a, b, c}
	m := newManager(t, db, ms)
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.DownFn = func(context.Context, *migration.Tx) error { return errBoom }
	if _, err := m.Reset(t.Context()); !errors.Is(err, errBoom) {
		t.Fatalf("Reset = %v, want errBoom", err)
	}
	wantIDs(t, "left", applied(t, m), []string{"a"})
	wantStates(t, m, map[string]migration.State{"a": migration.StateDirty, "b": migration.StatePending, "c": migration.StatePending})
	wantIDs(t, "tables", tables(t, db), []string{"t_a"})
}

// A run cancelled between two migrations still records the one that
// finished.
func TestNoTxCancelRecordsFinishedMigration(t *testing.T) {
	for _, dir := range []migration.Direction{migration.DirectionUp, migration.DirectionDown} {
		t.Run(string(dir), func(t *testing.T) {
			db := openDB(t)
			ms := []migration.Migration{noTx("a"), noTx("b", "a"), noTx("c", "b")}
			if dir == migration.DirectionDown {
				if _, err := newManager(t, db, ms).Up(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			m := newManager(t, db, ms, migration.WithProgress(func(migration.Result) { cancel() }))
			var err error
			if dir == migration.DirectionUp {
				_, err = m.Up(ctx)
			} else {
				_, err = m.Reset(ctx)
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("run = %v, want context.Canceled", err)
			}
			want := []string{"a"}
			if dir == migration.DirectionDown {
				want = []string{"a", "b"}
			}
			wantIDs(t, "applied", applied(t, m), want)
			wantUpToDate(t, db, ms[:len(want)])
		})
	}
}

// A backup taken before a migration sees the one before it recorded clean.
func TestNoTxBackupSeesEarlierMigrationRecorded(t *testing.T) {
	db, path := openDBPath(t)
	var seen string
	risky := noTx("risky", "a")
	risky.Backup = true
	m := newManager(t, db, []migration.Migration{noTx("a"), risky},
		migration.WithBackupDir(t.TempDir()),
		migration.WithProgress(func(r migration.Result) {
			if r.ID == "risky" && r.Backup != "" {
				seen = r.Backup
			}
		}))
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	if seen == "" {
		t.Fatal("no backup taken before risky")
	}
	bk := openDBAt(t, seen)
	var dirty bool
	if err := bk.QueryRow(`SELECT dirty FROM strata_migrations WHERE id = 'a'`).Scan(&dirty); err != nil {
		t.Fatal(err)
	}
	if dirty {
		t.Fatalf("backup of %s before risky records a as dirty", path)
	}
	var n int
	if err := bk.QueryRow(`SELECT count(*) FROM strata_migrations WHERE id = 'risky'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("backup holds %d rows of risky (%v), want none", n, err)
	}
}

// Status tells a migration another process is running from one left
// dirty by a failure.
func TestStatusRunning(t *testing.T) {
	db, path := openDBPath(t)
	started, release := make(chan struct{}), make(chan struct{})
	slow := noTx("slow", "a")
	slow.UpFn = func(ctx context.Context, tx *migration.Tx) error {
		close(started)
		<-release
		_, err := tx.ExecContext(ctx, `CREATE TABLE t_slow (id INTEGER PRIMARY KEY)`)
		return err
	}
	ms := []migration.Migration{noTx("a"), slow}
	done := make(chan error, 1)
	go func() {
		_, err := newManager(t, db, ms).Up(context.Background())
		done <- err
	}()
	<-started
	other := newManager(t, openDBAt(t, path), ms)
	// a was recorded clean together with slow's dirty row.
	wantStates(t, other, map[string]migration.State{"a": migration.StateApplied, "slow": migration.StateRunning})
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantStates(t, other, map[string]migration.State{"a": migration.StateApplied, "slow": migration.StateApplied})
}

// commitCounter counts the commits of the pool's one SQLite connection,
// autocommitted statements included.
func commitCounter(t *testing.T, db *sql.DB) *int {
	t.Helper()
	n := new(int)
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Raw(func(dc any) error {
		dc.(*sqlite3.SQLiteConn).RegisterCommitHook(func() int { *n++; return 0 })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Outside a transaction a migration costs two commits, its own statement's
// and one for its bookkeeping, applied or rolled back: the closing write
// of one migration commits with the opening write of the next.
func TestNoTxCommitsPerMigration(t *testing.T) {
	counts := func(n int) (up, down int) {
		db := openDB(t)
		ms := make([]migration.Migration, n)
		for i := range ms {
			f := &migration.Func{Name: fmt.Sprintf("m%d", i), NoTx: true,
				UpFn: func(ctx context.Context, tx *migration.Tx) error {
					_, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE x%d (id INTEGER)`, i))
					return err
				},
				DownFn: func(ctx context.Context, tx *migration.Tx) error {
					_, err := tx.ExecContext(ctx, fmt.Sprintf(`DROP TABLE x%d`, i))
					return err
				}}
			if i > 0 {
				f.Requires = []string{fmt.Sprintf("m%d", i-1)}
			}
			ms[i] = f
		}
		c := commitCounter(t, db)
		m := newManager(t, db, ms)
		if _, err := m.Up(t.Context()); err != nil {
			t.Fatal(err)
		}
		up = *c
		if _, err := m.Reset(t.Context()); err != nil {
			t.Fatal(err)
		}
		return up, *c - up
	}
	// The difference between runs of 2 and 6 leaves out what a run costs
	// once (the version table, the schema record, the last flush).
	up2, down2 := counts(2)
	up6, down6 := counts(6)
	if per := (up6 - up2) / 4; per != 2 || (up6-up2)%4 != 0 {
		t.Errorf("applying: %d commits for 2 migrations, %d for 6; want 2 a migration", up2, up6)
	}
	if per := (down6 - down2) / 4; per != 2 || (down6-down2)%4 != 0 {
		t.Errorf("rolling back: %d commits for 2 migrations, %d for 6; want 2 a migration", down2, down6)
	}
}

// TestNoTxPanickingProgressKeepsRecordClean: a progress callback that
// panics after a migration run outside a transaction succeeded must not
// leave it recorded dirty: its closing write was waiting for the next
// migration and must still be written as the panic unwinds.
func TestNoTxPanickingProgressKeepsRecordClean(t *testing.T) {
	db := openDB(t)
	ms := []migration.Migration{noTx("a"), noTx("b", "a")}
	m := newManager(t, db, ms, migration.WithProgress(func(migration.Result) { panic("progress") }))
	_, err := m.Up(t.Context())
	var pe *migration.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Up = %v, want the callback's panic", err)
	}
	// a ran and is recorded clean; b never started.
	wantStates(t, newManager(t, db, ms), map[string]migration.State{"a": migration.StateApplied, "b": migration.StatePending})
	if _, err := newManager(t, db, ms).Up(t.Context()); err != nil {
		t.Fatalf("Up after the panic: %v", err)
	}
	wantUpToDate(t, db, ms)
}
