package mysql_test

import (
	"net/url"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/internal/testdb"
)

func TestDriverDSN(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"url", "mysql://bob:pw@db:3307/app?parseTime=true", "bob:pw@tcp(db:3307)/app?parseTime=true"},
		{"url default port", "mysql://bob@db/app", "bob@tcp(db:3306)/app"},
		{"url escaped password", "mysql://bob:p%40ss@db/app", "bob:p@ss@tcp(db:3306)/app"},
		{"url without host", "mysql://bob@/app", "bob@/app"},
		{"url without user", "mysql://db:3307/app", "tcp(db:3307)/app"},
		{"url ipv6 host", "mysql://bob@[::1]/app", "bob@tcp([::1]:3306)/app"},
		{"url upper case scheme", "MySQL://bob@db/app", "bob@tcp(db:3306)/app"},
		{"mariadb url", "mariadb://bob:pw@db/app", "bob:pw@tcp(db:3306)/app"},
		{"url query kept", "mysql://bob@db/app?tls=skip-verify&loc=Europe%2FParis", "bob@tcp(db:3306)/app?tls=skip-verify&loc=Europe%2FParis"},
		{"driver form unchanged", "bob:pw@tcp(db:3306)/app", "bob:pw@tcp(db:3306)/app"},
		{"driver unix form unchanged", "bob@unix(/run/mysqld.sock)/app", "bob@unix(/run/mysqld.sock)/app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mysql.DriverDSN(tt.in)
			if err != nil {
				t.Fatalf("DriverDSN(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("DriverDSN(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if _, err := gomysql.ParseDSN(got); err != nil {
				t.Errorf("the driver rejects DriverDSN(%q) = %q: %v", tt.in, got, err)
			}
			if b, err := mysql.New().BackuperFor(tt.in); err != nil || b == nil {
				t.Errorf("BackuperFor(%q) = %v, %v; want a backuper", tt.in, b, err)
			}
		})
	}
}

// TestOpenBadDSN checks that a DSN Open cannot use is an error that says
// which part is wrong and shows the DSN without its password.
func TestOpenBadDSN(t *testing.T) {
	const secret = "s3cr3t-pw"
	tests := []struct {
		name string
		dsn  string
		want []string // in the error text
	}{
		{"empty", "", []string{"mysql: open: empty DSN"}},
		{"url bad port", "mysql://bob:" + secret + "@db:port/app", []string{"mysql: parse URL", "mysql://bob:xxxxx@db:port/app", `invalid port ":port"`}},
		{"url bad escape", "mysql://bob:" + secret + "%zz@db/app", []string{"mysql: parse URL", "mysql://bob:xxxxx@db/app", "invalid URL escape"}},
		{"driver form without slash", "bob:" + secret + "@tcp(db:3306)", []string{"mysql: open bob:xxxxx@tcp(db:3306)", "missing the slash"}},
		{"driver form unterminated address", "bob:" + secret + "@tcp(db:3306/app", []string{"mysql: open", "bob:xxxxx@tcp(db:3306/app", "missing closing brace"}},
		{"bad parameter", "bob:" + secret + "@tcp(db:3306)/app?parseTime=maybe", []string{"mysql: open", "bob:xxxxx@tcp(db:3306)/app?parseTime=maybe", "invalid bool value: maybe"}},
		{"url bad parameter", "mysql://bob:" + secret + "@db/app?parseTime=maybe", []string{"mysql: open", "mysql://bob:xxxxx@db/app?parseTime=maybe", "invalid bool value: maybe"}},
		{"password with slash and at", "bob:" + secret + "/@x@tcp(db:3306)/app?parseTime=maybe", []string{"mysql: open bob:xxxxx@tcp(db:3306)/app?parseTime=maybe", "invalid bool value"}},
		{"url password with slash", "mysql://bob:" + secret + "%2F@db/app?parseTime=maybe", []string{"mysql: open mysql://bob:xxxxx@db/app?parseTime=maybe", "invalid bool value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := mysql.New().Open(tt.dsn)
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
		})
	}
}

// TestOpen connects to the server of STRATA_TEST_MYSQL_DSN with its DSN
// in the driver's form and, for a TCP address, as a mysql:// URL.
func TestOpen(t *testing.T) {
	base := testdb.DSN(t, testdb.MySQLEnv)
	cfg, err := gomysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("parse %s: %v", testdb.MySQLEnv, err)
	}
	d, ok := dialect.Lookup(mysql.Name)
	if !ok {
		t.Fatal("mysql dialect not registered")
	}
	o, ok := d.(dialect.Opener)
	if !ok {
		t.Fatalf("%T does not implement dialect.Opener", d)
	}
	tests := []struct{ name, dsn string }{{"driver form", base}}
	if cfg.Net == "tcp" { // a URL names no socket
		u := &url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + cfg.DBName, RawQuery: "timeout=10s"}
		if cfg.Passwd != "" {
			u.User = url.UserPassword(cfg.User, cfg.Passwd)
		} else if cfg.User != "" {
			u.User = url.User(cfg.User)
		}
		tests = append(tests, struct{ name, dsn string }{"url", u.String()})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := o.Open(tt.dsn)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			var one int
			if err := db.QueryRowContext(t.Context(), "SELECT 1").Scan(&one); err != nil {
				testdb.Unreachable(t, testdb.MySQLEnv, err)
			}
			if one != 1 {
				t.Errorf("SELECT 1 = %d", one)
			}
		})
	}
}

// TestOpenUnreachable checks that a connection error, which Open leaves
// to the first use, does not show the password either.
func TestOpenUnreachable(t *testing.T) {
	const secret = "s3cr3t-pw"
	db, err := mysql.New().Open("bob:" + secret + "@tcp(127.0.0.1:1)/app?timeout=2s")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	err = db.PingContext(t.Context())
	if err == nil {
		t.Fatal("ping of port 1 succeeded")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the password: %v", err)
	}
}
