package cli

import "testing"

func TestGuessDialect(t *testing.T) {
	tests := []struct{ name, dsn, want string }{
		{"postgres url", "postgres://u:p@h:5432/db?sslmode=disable", Postgres},
		{"postgresql url", "postgresql://h/db", Postgres},
		{"postgres url upper case", "POSTGRES://h/db", Postgres},
		{"postgres keywords", "host=localhost user=app dbname=app sslmode=disable", Postgres},
		{"postgres keywords without host", "dbname=app", Postgres},
		{"mysql tcp", "root:pw@tcp(127.0.0.1:3306)/test", MySQL},
		{"mysql tcp without user", "tcp(127.0.0.1:3306)/test", MySQL},
		{"mysql unix", "app@unix(/run/mysqld/mysqld.sock)/app", MySQL},
		{"mysql default address", "root@/test", MySQL},
		{"mysql url", "mysql://root@h/test", MySQL},
		{"mariadb url", "mariadb://root@h/test", MySQL},
		{"sqlite file", "app.db", SQLite},
		{"sqlite path", "/var/lib/app/data.sqlite3", SQLite},
		{"sqlite relative path without extension", "./data/app", SQLite},
		{"sqlite file uri", "file:app.db?cache=shared", SQLite},
		{"sqlite url", "sqlite://app.db", SQLite},
		{"sqlite memory", ":memory:", SQLite},
		{"sqlite path with spaces", "my data/app.db", SQLite},
		{"unknown scheme", "sqlserver://h/db", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GuessDialect(tt.dsn); got != tt.want {
				t.Errorf("GuessDialect(%q) = %q, want %q", tt.dsn, got, tt.want)
			}
		})
	}
}

func TestSQLitePath(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "app.db", "app.db"},
		{"file", "file:app.db", "app.db"},
		{"file with parameters", "file:app.db?cache=shared", "app.db"},
		{"file url", "file:///var/app.db", "/var/app.db"},
		{"sqlite url", "sqlite://data/app.db", "data/app.db"},
		{"sqlite3 url", "SQLITE3:///tmp/x.db", "/tmp/x.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sqlitePath(tt.in); got != tt.want {
				t.Errorf("sqlitePath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
