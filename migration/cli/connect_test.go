package cli

import "testing"

func TestGuessDialect(t *testing.T) {
	tests := []struct{ name, dsn, want string }{
		{"postgres url", "postgres://u:p@h:5432/db?sslmode=disable", dialectPostgres},
		{"postgresql url", "postgresql://h/db", dialectPostgres},
		{"postgres url upper case", "POSTGRES://h/db", dialectPostgres},
		{"postgres keywords", "host=localhost user=app dbname=app sslmode=disable", dialectPostgres},
		{"postgres keywords without host", "dbname=app", dialectPostgres},
		{"mysql tcp", "root:pw@tcp(127.0.0.1:3306)/test", dialectMySQL},
		{"mysql tcp without user", "tcp(127.0.0.1:3306)/test", dialectMySQL},
		{"mysql unix", "app@unix(/run/mysqld/mysqld.sock)/app", dialectMySQL},
		{"mysql default address", "root@/test", dialectMySQL},
		{"mysql url", "mysql://root@h/test", dialectMySQL},
		{"mariadb url", "mariadb://root@h/test", dialectMySQL},
		{"sqlite file", "app.db", dialectSQLite},
		{"sqlite path", "/var/lib/app/data.sqlite3", dialectSQLite},
		{"sqlite relative path without extension", "./data/app", dialectSQLite},
		{"sqlite file uri", "file:app.db?cache=shared", dialectSQLite},
		{"sqlite url", "sqlite://app.db", dialectSQLite},
		{"sqlite memory", ":memory:", dialectSQLite},
		{"sqlite path with spaces", "my data/app.db", dialectSQLite},
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
