package mytest_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/strata-go/strata/internal/testdb/mytest"
)

func TestNew(t *testing.T) {
	var name string
	t.Run("create", func(t *testing.T) {
		db, dsn := mytest.New(t)
		if err := db.QueryRowContext(t.Context(), `SELECT DATABASE()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "strata_test_") {
			t.Errorf("database %q, want a strata_test_ name", name)
		}
		other, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		var got string
		if err := other.QueryRowContext(t.Context(), `SELECT DATABASE()`).Scan(&got); err != nil || got != name {
			t.Errorf("DSN %q reaches %q (%v), want %q", dsn, got, err, name)
		}
	})
	if name == "" {
		return
	}
	admin, _ := mytest.New(t)
	var n int
	if err := admin.QueryRowContext(t.Context(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after its test ended", name)
	}
}
