package sqlite_test

import (
	"context"
	"errors"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/internal/sqlitefile"
)

func TestMemory(t *testing.T) {
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	file, err := sqlitefile.Main(t.Context(), db)
	if err != nil || file != "" {
		t.Fatalf("main database file = %q, %v; want empty for memory", file, err)
	}
	l := sqlite.New().Locker(dialect.LockOptions{Table: "t"})
	c1 := conn(t, db)
	if err := l.Lock(t.Context(), c1); err != nil {
		t.Fatal(err)
	}
	// The in-process lock is not reentrant: a second Lock waits.
	ctx, cancel := context.WithTimeout(t.Context(), 20e6)
	defer cancel()
	if err := l.Lock(ctx, c1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock = %v, want DeadlineExceeded", err)
	}
	if err := l.Unlock(t.Context(), c1); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(t.Context(), c1); err == nil {
		t.Fatal("second Unlock succeeded")
	}
}
