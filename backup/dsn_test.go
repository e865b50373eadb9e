package backup

import (
	"strings"
	"testing"
)

func TestParsePostgresDSN(t *testing.T) {
	tests := []struct {
		name         string
		dsn          string
		wantConninfo string
		wantPassword string
		wantDB       string
		wantErr      string
	}{
		{
			name:         "url",
			dsn:          "postgres://postgres@127.0.0.1:5432/app?sslmode=disable",
			wantConninfo: "dbname='app' host='127.0.0.1' port='5432' sslmode='disable' user='postgres'",
			wantDB:       "app",
		},
		{
			name:         "url with password and pgx parameters",
			dsn:          "postgresql://u%40x:p%2Fa%27ss@db.example:6543/my%20db?pool_max_conns=10&application_name=strata&statement_cache_capacity=0",
			wantConninfo: `application_name='strata' dbname='my db' host='db.example' port='6543' user='u@x'`,
			wantPassword: "p/a'ss",
			wantDB:       "my db",
		},
		{
			name:         "password in the query",
			dsn:          "postgres://u@h/db?password=secret",
			wantConninfo: "dbname='db' host='h' user='u'",
			wantPassword: "secret",
			wantDB:       "db",
		},
		{
			name:         "several hosts",
			dsn:          "postgres://u@h1:5432,h2,h3:5433/db",
			wantConninfo: "dbname='db' host='h1,h2,h3' port='5432,5432,5433' user='u'",
			wantDB:       "db",
		},
		{
			name:         "ipv6",
			dsn:          "postgres://u@[::1]:5433/db",
			wantConninfo: "dbname='db' host='::1' port='5433' user='u'",
			wantDB:       "db",
		},
		{
			name:         "unix socket",
			dsn:          "postgres:///db?host=/var/run/postgresql",
			wantConninfo: "dbname='db' host='/var/run/postgresql'",
			wantDB:       "db",
		},
		{
			name:         "keyword/value",
			dsn:          `host=localhost port = 5432 user=app password='it\'s a secret' dbname=app sslmode=require pool_max_conns=3`,
			wantConninfo: `dbname='app' host='localhost' port='5432' sslmode='require' user='app'`,
			wantPassword: "it's a secret",
			wantDB:       "app",
		},
		{
			name:         "keyword/value escapes",
			dsn:          `user=a\ b dbname='x\\y'`,
			wantConninfo: `dbname='x\\y' user='a b'`,
			wantDB:       `x\y`,
		},
		{name: "missing =", dsn: "host localhost", wantErr: `missing "=" after "host"`},
		{name: "unterminated quote", dsn: "password='abc", wantErr: "unterminated"},
		{name: "bad url", dsn: "postgres://u:secret@h:notaport/db", wantErr: "parse PostgreSQL DSN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parsePostgresDSN(tt.dsn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.conninfo != tt.wantConninfo || c.password != tt.wantPassword || c.dbname != tt.wantDB {
				t.Errorf("got conninfo %q password %q db %q\nwant conninfo %q password %q db %q",
					c.conninfo, c.password, c.dbname, tt.wantConninfo, tt.wantPassword, tt.wantDB)
			}
		})
	}
}

func TestParseMySQLDSN(t *testing.T) {
	tests := []struct {
		name    string
		dsn     string
		want    myConn
		wantErr string
	}{
		{
			name: "root, no password",
			dsn:  "root@tcp(127.0.0.1:3306)/test",
			want: myConn{user: "root", network: "tcp", host: "127.0.0.1", port: "3306", dbname: "test"},
		},
		{
			name: "password with @ : and parameters",
			dsn:  "app:p@ss:w0rd@tcp(db.example:3307)/shop?parseTime=true&tls=skip-verify&timeout=30s",
			want: myConn{user: "app", password: "p@ss:w0rd", network: "tcp", host: "db.example", port: "3307", dbname: "shop", tls: "skip-verify", timeout: "30"},
		},
		{
			name: "defaults",
			dsn:  "/db",
			want: myConn{network: "tcp", host: "127.0.0.1", port: "3306", dbname: "db"},
		},
		{
			name: "unix socket",
			dsn:  "u:p@unix(/run/mysqld/mysqld.sock)/db",
			want: myConn{user: "u", password: "p", network: "unix", socket: "/run/mysqld/mysqld.sock", dbname: "db"},
		},
		{
			name: "ipv6 without port",
			dsn:  "u@tcp([::1])/db",
			want: myConn{user: "u", network: "tcp", host: "::1", port: "3306", dbname: "db"},
		},
		{name: "no database", dsn: "root@tcp(h:3306)/", wantErr: "no database name"},
		{name: "no slash", dsn: "root@tcp(h:3306)", wantErr: `no "/"`},
		{name: "custom tls config", dsn: "u:secret@tcp(h)/db?tls=mine", wantErr: "custom TLS config"},
		{name: "custom network", dsn: "u@cloudsql(project:region:instance)/db", wantErr: `network "cloudsql"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseMySQLDSN(tt.dsn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c != tt.want {
				t.Errorf("got  %+v\nwant %+v", c, tt.want)
			}
		})
	}
}
