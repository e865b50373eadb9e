package pgtest_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/internal/testdb/pgtest"
)

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
		want string
	}{
		{"url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "postgres://postgres@127.0.0.1:5432/strata_test_x?sslmode=disable"},
		{"url without database", "postgresql://u:p%40ss@h/?sslmode=disable", "postgresql://u:p%40ss@h/strata_test_x?sslmode=disable"},
		{"url without path", "postgres://h:5432", "postgres://h:5432/strata_test_x"},
		{"keywords", "host=h user=u dbname=postgres sslmode=disable", "host=h user=u dbname=postgres sslmode=disable dbname='strata_test_x'"},
		{"keywords without database", " host=h ", "host=h dbname='strata_test_x'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pgtest.WithDatabase(tt.dsn, "strata_test_x")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	var name string
	t.Run("create", func(t *testing.T) {
		db, dsn := pgtest.New(t)
		if err := db.QueryRowContext(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "strata_test_") {
			t.Errorf("database %q, want a strata_test_ name", name)
		}
		// The DSN reaches the same database, in both DSN forms.
		other, err := sql.Open(postgres.DriverName, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		var got string
		if err := other.QueryRowContext(t.Context(), `SELECT current_database()`).Scan(&got); err != nil || got != name {
			t.Errorf("DSN %q reaches %q (%v), want %q", dsn, got, err, name)
		}
		// A session left open must not keep the database from being dropped.
		if _, err := other.Conn(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
	if name == "" {
		return
	}
	admin, _ := pgtest.New(t)
	var n int
	if err := admin.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after its test ended", name)
	}
}
