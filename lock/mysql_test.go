package lock_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/strata-go/strata/lock"
)

func TestMySQLLockName(t *testing.T) {
	long := strings.Repeat("x", 63)
	tests := []struct {
		name      string
		db, table string
		want      string // "" to check only the length
	}{
		{"short", "app", "strata_migrations", "strata:app:strata_migrations"},
		{"exactly 64", strings.Repeat("d", 64-len("strata::t")), "t", "strata:" + strings.Repeat("d", 64-len("strata::t")) + ":t"},
		{"long table", "app", long, ""},
		{"long database and table", long, long, ""},
		{"multibyte", strings.Repeat("é", 60), "t", ""},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lock.MySQLLockName(tt.db, tt.table)
			if n := utf8.RuneCountInString(got); n > lock.MySQLMaxLockName {
				t.Errorf("name %q has %d characters, want at most %d", got, n, lock.MySQLMaxLockName)
			}
			if !utf8.ValidString(got) {
				t.Errorf("name %q is not valid UTF-8", got)
			}
			if !strings.HasPrefix(got, "strata:") {
				t.Errorf("name %q does not start with strata:", got)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("name = %q, want %q", got, tt.want)
			}
			if again := lock.MySQLLockName(tt.db, tt.table); again != got {
				t.Errorf("not deterministic: %q then %q", got, again)
			}
			if prev, dup := seen[got]; dup {
				t.Errorf("name %q equals that of %s", got, prev)
			}
			seen[got] = tt.name
		})
	}
	// Long names that differ only past the cut stay distinct.
	if a, b := lock.MySQLLockName("app", long+"a"), lock.MySQLLockName("app", long+"b"); a == b {
		t.Errorf("distinct long tables share the name %q", a)
	}
}

func TestMySQLTablesLockIndependently(t *testing.T) {
	db := my.db(t)
	var cur string
	if err := db.QueryRowContext(t.Context(), `SELECT DATABASE()`).Scan(&cur); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("t", 64)
	testConflicts(t, db, func(table string, log *slog.Logger) lock.Locker {
		return lock.NewMySQL(table, log)
	}, []conflictCase{
		{"same table", "strata_migrations", "strata_migrations", true},
		{"qualified by the current database", "strata_migrations", cur + ".strata_migrations", true},
		{"long name", long, long, true},
		{"other table", "strata_migrations", "billing_migrations", false},
		{"same table in another database", "strata_migrations", "other_db.strata_migrations", false},
		{"long names differing at the end", long + "_a", long + "_b", false},
	})
}

func TestMySQLUnlockErrors(t *testing.T) {
	db := my.db(t)
	a, b := pin(t, db), pin(t, db)
	l := lock.NewMySQL("strata_migrations", nil)
	err := l.Unlock(t.Context(), a)
	if err == nil || !strings.Contains(err.Error(), "no lock named") {
		t.Errorf("unlock of a lock nobody holds: %v, want an error saying it does not exist", err)
	}
	mustLock(t, l, a)
	defer mustUnlock(t, l, a)
	err = l.Unlock(t.Context(), b)
	if err == nil || !strings.Contains(err.Error(), "another connection") {
		t.Errorf("unlock of a lock another connection holds: %v, want an error saying so", err)
	}
}

// myWaiting reports whether connection id waits for a named lock.
func myWaiting(ctx context.Context, db *sql.DB, id int64) (bool, error) {
	var state sql.NullString
	err := db.QueryRowContext(ctx, `SELECT STATE FROM information_schema.PROCESSLIST WHERE ID = ?`, id).Scan(&state)
	return state.String == "User lock", err
}

// myQuestions returns how many statements conn's session has run.
func myQuestions(t *testing.T, conn *sql.Conn) int {
	t.Helper()
	var name string
	var n int
	if err := conn.QueryRowContext(t.Context(), `SHOW SESSION STATUS LIKE 'Questions'`).Scan(&name, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// myUser returns the connection id that holds the named lock of table, or
// 0 if nobody does.
func myUser(t *testing.T, conn *sql.Conn, table string) int64 {
	t.Helper()
	var db string
	if err := conn.QueryRowContext(t.Context(), `SELECT DATABASE()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	var id sql.NullInt64
	if err := conn.QueryRowContext(t.Context(), `SELECT IS_USED_LOCK(?)`, lock.MySQLLockName(db, table)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id.Int64
}

// TestMySQLHandOverInServer checks that a waiter waits inside the server,
// and that on release the server hands it the lock: a contended Lock runs
// no more statements than an uncontended one.
func TestMySQLHandOverInServer(t *testing.T) {
	db := my.db(t)
	a, b := pin(t, db), pin(t, db)
	id := my.session(t, b)
	// One wait spans the whole test, so that a new attempt would show.
	waiter := lock.NewMySQL("strata_migrations", nil)
	waiter.AttemptTimeout = time.Hour
	lock.SetWait(waiter, 10*time.Minute)

	q0 := myQuestions(t, b)
	mustLock(t, waiter, b)
	free := myQuestions(t, b) - q0
	mustUnlock(t, waiter, b)

	holder := lock.NewMySQL("strata_migrations", nil)
	mustLock(t, holder, a)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	q0 = myQuestions(t, b)
	done := lockAsync(ctx, waiter, b)
	waitUntil(t, "the waiter waits in the server", func(ctx context.Context) (bool, error) {
		return myWaiting(ctx, db, id)
	})
	mustUnlock(t, holder, a)
	if err := ended(t, done, 0); err != nil {
		t.Fatalf("waiter: %v", err)
	}
	defer mustUnlock(t, waiter, b)
	if contended := myQuestions(t, b) - q0; contended != free {
		t.Errorf("a Lock handed over after a wait ran %d statements, an uncontended one %d: want as many", contended, free)
	}
	if got := myUser(t, a, "strata_migrations"); got != id {
		t.Errorf("the lock is held by connection %d, want the waiter's %d", got, id)
	}
}

// TestMySQLCancelWaiter cancels a waiter while it waits in the server:
// Lock must end without waiting for the holder, hold nothing, and leave
// the connection usable.
func TestMySQLCancelWaiter(t *testing.T) {
	db := my.db(t)
	a, b := pin(t, db), pin(t, db)
	holderID, id := my.session(t, a), my.session(t, b)
	holder := lock.NewMySQL("strata_migrations", nil)
	mustLock(t, holder, a)
	held := true
	defer func() {
		if held {
			mustUnlock(t, holder, a)
		}
	}()

	waiter := lock.NewMySQL("strata_migrations", nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := lockAsync(ctx, waiter, b)
	waitUntil(t, "the waiter waits in the server", func(ctx context.Context) (bool, error) {
		return myWaiting(ctx, db, id)
	})
	cancel()
	err := ended(t, done, lock.MySQLWait)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("lock: %v, want context.Canceled", err)
	}
	if waiting, err := myWaiting(t.Context(), db, id); err != nil || waiting {
		t.Errorf("the cancelled waiter still waits (%v)", err)
	}
	if got := myUser(t, b, "strata_migrations"); got != holderID {
		t.Errorf("the lock is held by connection %d, want the holder's %d", got, holderID)
	}
	mustUnlock(t, holder, a)
	held = false
	if got := myUser(t, b, "strata_migrations"); got != 0 {
		t.Errorf("the lock is held by connection %d after the holder released it (the waiter is %d)", got, id)
	}
	if err := waiter.Unlock(t.Context(), b); err == nil {
		t.Error("unlock after a cancelled Lock: got nil, want an error")
	}
}

// TestMySQLSessionTimeouts checks that Lock works under a statement time
// limit the user set on the session, shorter than a wait, and leaves it
// and lock_wait_timeout as they were.
func TestMySQLSessionTimeouts(t *testing.T) {
	db := my.db(t)
	a, b := pin(t, db), pin(t, db)
	id := my.session(t, b)
	var version string
	if err := b.QueryRowContext(t.Context(), `SELECT VERSION()`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	limit, set := "@@max_execution_time", `SET SESSION max_execution_time = 20` // MySQL, in ms
	if strings.Contains(version, "MariaDB") {
		limit, set = "@@max_statement_time", `SET SESSION max_statement_time = 0.02`
	}
	if _, err := b.ExecContext(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ExecContext(t.Context(), `SET SESSION lock_wait_timeout = 7`); err != nil {
		t.Fatal(err)
	}
	settings := func() string {
		t.Helper()
		var v string
		if err := b.QueryRowContext(t.Context(), `SELECT CONCAT(`+limit+`, ' ', @@lock_wait_timeout)`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := settings()

	holder := lock.NewMySQL("strata_migrations", nil)
	mustLock(t, holder, a)
	var buf syncBuffer
	waiter := lock.NewMySQL("strata_migrations", slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	done := lockAsync(t.Context(), waiter, b)
	waitUntil(t, "a wait was cut short", func(context.Context) (bool, error) {
		return strings.Contains(buf.String(), "cut short"), nil
	})
	waitUntil(t, "the waiter waits in the server again", func(ctx context.Context) (bool, error) {
		return myWaiting(ctx, db, id)
	})
	mustUnlock(t, holder, a)
	if err := ended(t, done, lock.MySQLWait); err != nil {
		t.Fatalf("lock: %v", err)
	}
	if after := settings(); after != before {
		t.Errorf("after Lock, %s and @@lock_wait_timeout = %q, want %q", limit, after, before)
	}
	mustUnlock(t, waiter, b)
}
