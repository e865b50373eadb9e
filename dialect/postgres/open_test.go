package postgres_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/internal/testdb"
)

// TestOpenBadDSN checks that a DSN Open cannot use is an error that says
// which part is wrong and shows the DSN without its password.
func TestOpenBadDSN(t *testing.T) {
	const secret = "s3cr3t-pw"
	tests := []struct {
		name string
		dsn  string
		want []string // in the error text
	}{
		{"empty", "", []string{"postgres: open: empty DSN"}},
		{"url bad port", "postgres://bob:" + secret + "@db:port/app", []string{"postgres: open", "postgres://bob:xxxxx@db:port/app", "invalid port"}},
		{"url upper case scheme", "POSTGRES://bob:" + secret + "@db:port/app", []string{"postgres: open", "postgres://bob:xxxxx@db:port/app", "invalid port"}},
		{"url bad escape", "postgresql://bob:" + secret + "%zz@db/app", []string{"postgres: open", "postgresql://bob:xxxxx@db/app", "password"}},
		{"url bad sslmode", "postgres://bob:" + secret + "@db/app?sslmode=maybe", []string{"postgres: open", "sslmode=maybe", "sslmode is invalid"}},
		{"keywords bad port", "host=db user=bob password=" + secret + " port=x", []string{"postgres: open", "password=xxxxx", "invalid port"}},
		{"keywords quoted password", "host=db password='" + secret + " x' port=x", []string{"postgres: open", "invalid port"}},
		{"keywords spaced password", "host=db password = " + secret + " sslmode=maybe", []string{"postgres: open", "password = xxxxx", "sslmode is invalid"}},
		{"not a DSN", "bob:" + secret + "@db/app", []string{"postgres: open", "cannot parse"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := postgres.New().Open(tt.dsn)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.dsn)
			}
			msg := err.Error()
			if strings.Contains(msg, secret) {
				t.Errorf("error shows the password: %s", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			var pe *pgconn.ParseConfigError
			if tt.dsn != "" && !errors.As(err, &pe) {
				t.Errorf("errors.As(%T, *pgconn.ParseConfigError) = false", err)
			}
		})
	}
}

// TestOpen connects to the server of STRATA_TEST_POSTGRES_DSN.
func TestOpen(t *testing.T) {
	dsn := testdb.DSN(t, testdb.PostgresEnv)
	d, ok := dialect.Lookup(postgres.Name)
	if !ok {
		t.Fatal("postgres dialect not registered")
	}
	o, ok := d.(dialect.Opener)
	if !ok {
		t.Fatalf("%T does not implement dialect.Opener", d)
	}
	db, err := o.Open(dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRowContext(t.Context(), "SELECT 1").Scan(&one); err != nil {
		testdb.Unreachable(t, testdb.PostgresEnv, err)
	}
	if one != 1 {
		t.Errorf("SELECT 1 = %d", one)
	}
}

// TestOpenUnreachable checks that a connection error, which Open leaves
// to the first use, does not show the password either.
func TestOpenUnreachable(t *testing.T) {
	const secret = "s3cr3t-pw"
	for _, dsn := range []string{
		"postgres://bob:" + secret + "@127.0.0.1:1/app?connect_timeout=2",
		"host=127.0.0.1 port=1 user=bob password=" + secret + " connect_timeout=2",
	} {
		db, err := postgres.New().Open(dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		err = db.PingContext(t.Context())
		db.Close()
		if err == nil {
			t.Fatal("ping of port 1 succeeded")
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
