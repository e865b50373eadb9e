package backup

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/internal/testdb"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/internal/testdb/pgtest"
)

// serverSnapshot describes a server database's schema (tables and views,
// columns, indexes) and every row, for comparison before and after a
// restore. schemaExpr is the SQL expression naming the schema.
func serverSnapshot(t *testing.T, q queryer, schemaExpr string) string {
	t.Helper()
	var b strings.Builder
	for _, l := range rowsText(t, q, `SELECT table_name, table_type FROM information_schema.tables
		WHERE table_schema = `+schemaExpr+` ORDER BY table_name`) {
		b.WriteString("table " + l + "\n")
	}
	for _, l := range rowsText(t, q, `SELECT table_name, column_name, data_type, is_nullable, column_default
		FROM information_schema.columns WHERE table_schema = `+schemaExpr+` ORDER BY table_name, ordinal_position`) {
		b.WriteString("column " + l + "\n")
	}
	for _, l := range rowsText(t, q, `SELECT table_name, constraint_name, constraint_type
		FROM information_schema.table_constraints WHERE table_schema = `+schemaExpr+` AND constraint_type <> 'CHECK'
		ORDER BY table_name, constraint_name`) {
		b.WriteString("constraint " + l + "\n")
	}
	for _, name := range testdb.Strings(t, q, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = `+schemaExpr+` AND table_type = 'BASE TABLE' ORDER BY table_name`) {
		quoted := quoteDouble(name)
		if !strings.Contains(schemaExpr, "public") {
			quoted = quoteBack(name)
		}
		rows := rowsText(t, q, `SELECT * FROM `+quoted)
		slices.Sort(rows)
		fmt.Fprintf(&b, "rows of %s: %d\n", name, len(rows))
		for _, r := range rows {
			b.WriteString("  " + r + "\n")
		}
	}
	return b.String()
}

const (
	pgSchema = "'public'"
	mySchema = "DATABASE()"
)

// fakeTool writes an executable shell script named name into a new
// directory and returns its path.
func fakeTool(t *testing.T, name, script string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPostgresBackupRestore(t *testing.T) {
	tests := []struct {
		name   string
		damage []string
	}{
		{name: "drop column", damage: []string{`ALTER TABLE users DROP COLUMN legacy CASCADE`}},
		{name: "drop table", damage: []string{`DROP TABLE posts`, `UPDATE users SET name = 'changed'`}},
		{name: "new foreign key", damage: []string{`ALTER TABLE users ADD COLUMN fav bigint REFERENCES posts(id)`}},
		{name: "new table and rows", damage: []string{
			`CREATE TABLE extra (id serial PRIMARY KEY, users_id int REFERENCES users(id))`,
			`CREATE VIEW extra_v AS SELECT * FROM extra`,
			`INSERT INTO users (name) VALUES ('eve')`,
			`DELETE FROM posts`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, dsn := pgtest.New(t)
			c := conn(t, db)
			mustExec(t, c,
				`CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, legacy text, born date, data bytea)`,
				`CREATE TABLE posts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id int NOT NULL REFERENCES users(id), body text)`,
				`CREATE INDEX posts_user ON posts (user_id)`,
				`CREATE VIEW user_names AS SELECT name, legacy FROM users`,
				`INSERT INTO users (name, legacy, born, data) VALUES ('ada', 'x', '1815-12-10', '\x00ff'), ('bob', NULL, NULL, NULL), ('o''neil', 'q"uote', NULL, '')`,
				`INSERT INTO posts (user_id, body) VALUES (1, 'hello'), (2, 'world')`,
			)
			before := serverSnapshot(t, c, pgSchema)
			f, err := Create(t.Context(), NewPostgres(dsn), c, Options{Dir: t.TempDir(), Label: "0002_drop"})
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if !strings.HasSuffix(f.Path, ".dump") || !strings.Contains(filepath.Base(f.Path), "-0002_drop-") {
				t.Errorf("backup file %s", f.Path)
			}
			mustExec(t, c, tt.damage...)
			if serverSnapshot(t, c, pgSchema) == before {
				t.Fatal("damage changed nothing")
			}
			if err := Restore(t.Context(), NewPostgres(dsn), c, f.Path); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if after := serverSnapshot(t, c, pgSchema); after != before {
				t.Errorf("restored database differs\nbefore:\n%s\nafter:\n%s", before, after)
			}
			// Sequences were restored too: the next ids follow on.
			var uid, pid int
			if err := c.QueryRowContext(t.Context(), `INSERT INTO users (name) VALUES ('new') RETURNING id`).Scan(&uid); err != nil {
				t.Fatal(err)
			}
			if err := c.QueryRowContext(t.Context(), `INSERT INTO posts (user_id) VALUES (1) RETURNING id`).Scan(&pid); err != nil {
				t.Fatal(err)
			}
			if uid != 4 || pid != 3 {
				t.Errorf("new ids %d and %d after restore, want 4 and 3", uid, pid)
			}
		})
	}
}

func TestPostgresBadInput(t *testing.T) {
	oldDump := fakeTool(t, "pg_dump", `echo "pg_dump (PostgreSQL) 9.6.24"`)
	tests := []struct {
		name    string
		backup  func(t *testing.T, b *Postgres) // changes the backuper before Create
		spoil   func(t *testing.T, path string) // damages the backup before Restore
		wantErr error
		wantMsg []string
	}{
		{
			name:    "pg_dump not in PATH",
			backup:  func(t *testing.T, b *Postgres) { t.Setenv("PATH", t.TempDir()) },
			wantErr: exec.ErrNotFound,
			wantMsg: []string{"pg_dump not found in PATH", "postgresql-client"},
		},
		{
			name:    "pg_dump path does not exist",
			backup:  func(t *testing.T, b *Postgres) { b.PGDump = "/nonexistent/pg_dump" },
			wantErr: os.ErrNotExist,
			wantMsg: []string{"/nonexistent/pg_dump not found", "postgresql-client"},
		},
		{
			name:    "pg_dump older than the server",
			backup:  func(t *testing.T, b *Postgres) { b.PGDump = oldDump },
			wantMsg: []string{"older than the server", "9.6"},
		},
		{
			name:    "wrong checksum",
			spoil:   func(t *testing.T, p string) { flipByte(t, p, 200) },
			wantErr: ErrChecksum,
		},
		{
			name: "truncated, checksum updated",
			spoil: func(t *testing.T, p string) {
				fi, _ := os.Stat(p)
				truncate(t, p, fi.Size()*2/3)
				rewriteChecksum(t, p)
			},
			wantErr: ErrInvalid,
		},
		{
			name: "corrupted data, checksum updated",
			spoil: func(t *testing.T, p string) {
				fi, _ := os.Stat(p)
				for i := range int64(64) {
					flipByte(t, p, fi.Size()-200+i)
				}
				rewriteChecksum(t, p)
			},
			wantErr: ErrInvalid,
		},
		{
			name: "not an archive, checksum updated",
			spoil: func(t *testing.T, p string) {
				if err := os.WriteFile(p, []byte("CREATE TABLE x ();\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				rewriteChecksum(t, p)
			},
			wantErr: ErrInvalid,
			wantMsg: []string{"not a pg_dump custom-format archive"},
		},
		{
			name:    "pg_restore not in PATH",
			spoil:   func(t *testing.T, p string) { t.Setenv("PATH", t.TempDir()) },
			wantErr: exec.ErrNotFound,
			wantMsg: []string{"pg_restore not found in PATH", "postgresql-client"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, dsn := pgtest.New(t)
			c := conn(t, db)
			mustExec(t, c,
				`CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, legacy text)`,
				`INSERT INTO users (name, legacy) SELECT 'user' || i, repeat('x', 100) FROM generate_series(1, 2000) i`)
			b := NewPostgres(dsn)
			dir := t.TempDir()
			var err error
			if tt.backup != nil {
				tt.backup(t, b)
				_, err = Create(t.Context(), b, c, Options{Dir: dir})
				if got := dirNames(t, dir); len(got) != 0 {
					t.Errorf("a failed backup left files: %v", got)
				}
			} else {
				var f File
				if f, err = Create(t.Context(), b, c, Options{Dir: dir}); err != nil {
					t.Fatal(err)
				}
				mustExec(t, c, `ALTER TABLE users DROP COLUMN legacy`)
				want := serverSnapshot(t, c, pgSchema)
				tt.spoil(t, f.Path)
				err = Restore(t.Context(), b, c, f.Path)
				if got := serverSnapshot(t, c, pgSchema); got != want {
					t.Errorf("a failed restore changed the database\nwant:\n%s\ngot:\n%s", want, got)
				}
			}
			checkErr(t, err, tt.wantErr, tt.wantMsg...)
		})
	}
}

// TestPostgresRestoreAtomic: a restore that fails half way, after psql
// has run statements, leaves the database as it was. Backuper.Restore is
// called without the checks of Restore, which would refuse the file.
func TestPostgresRestoreAtomic(t *testing.T) {
	db, dsn := pgtest.New(t)
	c := conn(t, db)
	mustExec(t, c,
		`CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, legacy text)`,
		`CREATE TABLE big (id int PRIMARY KEY, pad text)`,
		`INSERT INTO users (name, legacy) VALUES ('ada', 'x')`,
		`INSERT INTO big SELECT i, md5(i::text) FROM generate_series(1, 50000) i`)
	b := NewPostgres(dsn)
	f, err := Create(t.Context(), b, c, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, `ALTER TABLE users DROP COLUMN legacy`, `CREATE TABLE extra (x int)`,
		`CREATE SCHEMA reports`, `CREATE TABLE reports.daily (day date)`,
		`CREATE TYPE status AS ENUM ('new')`, `CREATE DOMAIN email AS text`,
		`CREATE FUNCTION shout(text) RETURNS text LANGUAGE sql AS 'SELECT upper($1)'`,
		`CREATE PROCEDURE forget() LANGUAGE sql AS 'DELETE FROM users'`)
	want, wantCatalog := serverSnapshot(t, c, pgSchema), pgCatalog(t, c)
	fi, err := os.Stat(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	truncate(t, f.Path, fi.Size()-100)
	err = b.Restore(t.Context(), c, f.Path)
	checkErr(t, err, nil, "pg_restore")
	if got := serverSnapshot(t, c, pgSchema); got != want {
		t.Errorf("a failed restore changed the database\nwant:\n%s\ngot:\n%s", want, got)
	}
	if got := pgCatalog(t, c); got != wantCatalog {
		t.Errorf("a failed restore changed the catalogue\nwant:\n%s\ngot:\n%s", wantCatalog, got)
	}
}

// checkErr checks that err is not nil, wraps want (if not nil) and says
// each of msgs.
func checkErr(t *testing.T, err, want error, msgs ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	t.Logf("error: %v", err)
	if want != nil && !errors.Is(err, want) {
		t.Errorf("error %v does not wrap %v", err, want)
	}
	for _, m := range msgs {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not say %q", err, m)
		}
	}
}

// TestPostgresPassword: the password reaches pg_dump in PGPASSWORD, never
// in its arguments.
func TestPostgresPassword(t *testing.T) {
	db, dsn := pgtest.New(t)
	c := conn(t, db)
	out := filepath.Join(t.TempDir(), "seen")
	dump := fakeTool(t, "pg_dump", `
if [ "$1" = --version ]; then echo "pg_dump (PostgreSQL) 99.0"; exit 0; fi
printf '%s\n' "$@" > `+out+`.args
printf '%s\n' "$PGPASSWORD" > `+out+`.env
exit 3`)
	const secret = "s3cr'et pass"
	tests := []struct {
		name string
		dsn  string
	}{
		{name: "url", dsn: "postgres://postgres:s3cr%27et%20pass@127.0.0.1:5432/" + dbName(t, c) + "?sslmode=disable&pool_max_conns=4"},
		{name: "keyword/value", dsn: `host=127.0.0.1 port=5432 user=postgres password='s3cr\'et pass' dbname=` + dbName(t, c) + ` sslmode=disable`},
	}
	_ = dsn
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewPostgres(tt.dsn)
			b.PGDump = dump
			_, err := Create(t.Context(), b, c, Options{Dir: t.TempDir()})
			checkErr(t, err, nil, "exit status 3")
			if strings.Contains(err.Error(), "s3cr") {
				t.Errorf("the error shows the password: %v", err)
			}
			args, _ := os.ReadFile(out + ".args")
			env, _ := os.ReadFile(out + ".env")
			if strings.Contains(string(args), "s3cr") || strings.Contains(string(args), "pool_max_conns") {
				t.Errorf("pg_dump arguments show the password or a pgx-only parameter:\n%s", args)
			}
			if !strings.Contains(string(args), "--format=custom") || !strings.Contains(string(args), "dbname=") {
				t.Errorf("pg_dump arguments:\n%s", args)
			}
			if got := strings.TrimSpace(string(env)); got != secret {
				t.Errorf("PGPASSWORD = %q, want %q", got, secret)
			}
		})
	}
}

func dbName(t *testing.T, c queryer) string {
	t.Helper()
	n := testdb.Strings(t, c, `SELECT current_database()`)
	return n[0]
}

func TestPostgresWrongDatabase(t *testing.T) {
	db, _ := pgtest.New(t)
	_, other := pgtest.New(t)
	c := conn(t, db)
	_, err := Create(t.Context(), NewPostgres(other), c, Options{Dir: t.TempDir()})
	checkErr(t, err, nil, "but the connection is to")
}

func TestMySQLBackupRestore(t *testing.T) {
	tests := []struct {
		name   string
		damage []string
	}{
		{name: "drop column", damage: []string{"ALTER TABLE users DROP COLUMN legacy"}},
		{name: "drop table", damage: []string{"DROP VIEW user_names", "DROP TABLE posts", "UPDATE users SET name = 'changed'"}},
		{name: "new table, routine and rows", damage: []string{
			"CREATE TABLE extra (id int PRIMARY KEY, user_id int, FOREIGN KEY (user_id) REFERENCES users(id))",
			"CREATE FUNCTION extra_f() RETURNS int DETERMINISTIC RETURN 2",
			"INSERT INTO users (name) VALUES ('eve')",
			"DELETE FROM posts",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, dsn := mytest.New(t)
			c := conn(t, db)
			mustExec(t, c,
				"CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL, legacy text, data blob) ENGINE=InnoDB",
				"CREATE TABLE posts (id int AUTO_INCREMENT PRIMARY KEY, user_id int NOT NULL, body text, FOREIGN KEY (user_id) REFERENCES users(id)) ENGINE=InnoDB",
				"CREATE VIEW user_names AS SELECT name, legacy FROM users",
				"CREATE FUNCTION answer() RETURNS int DETERMINISTIC RETURN 42",
				"CREATE TRIGGER users_bi BEFORE INSERT ON users FOR EACH ROW SET NEW.name = TRIM(NEW.name)",
				"INSERT INTO users (name, legacy, data) VALUES ('ada', 'x', x'00ff0a27'), ('bob', NULL, NULL), ('o''neil \\\\ \"q\"', 'é', '')",
				"INSERT INTO posts (user_id, body) VALUES (1, 'hello'), (2, 'world')",
			)
			before := serverSnapshot(t, c, mySchema)
			f, err := Create(t.Context(), NewMySQL(dsn), c, Options{Dir: t.TempDir(), Label: "0002_drop"})
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if !strings.HasSuffix(f.Path, ".sql") {
				t.Errorf("backup file %s", f.Path)
			}
			mustExec(t, c, tt.damage...)
			if serverSnapshot(t, c, mySchema) == before {
				t.Fatal("damage changed nothing")
			}
			if err := Restore(t.Context(), NewMySQL(dsn), c, f.Path); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if after := serverSnapshot(t, c, mySchema); after != before {
				t.Errorf("restored database differs\nbefore:\n%s\nafter:\n%s", before, after)
			}
			var answer int
			if err := c.QueryRowContext(t.Context(), "SELECT answer()").Scan(&answer); err != nil || answer != 42 {
				t.Errorf("restored function: %d, %v", answer, err)
			}
			if got := testdb.Strings(t, c, "SELECT routine_name FROM information_schema.routines WHERE routine_schema = DATABASE() ORDER BY 1"); !slices.Equal(got, []string{"answer"}) {
				t.Errorf("routines after restore: %v, want [answer]", got)
			}
			mustExec(t, c, "INSERT INTO users (name) VALUES ('  pad  ')")
			if got := testdb.Strings(t, c, "SELECT name FROM users WHERE id = LAST_INSERT_ID()"); len(got) != 1 || got[0] != "pad" {
				t.Errorf("trigger after restore: %q", got)
			}
			var fk int
			if err := c.QueryRowContext(t.Context(), "SELECT @@SESSION.foreign_key_checks").Scan(&fk); err != nil || fk != 1 {
				t.Errorf("foreign_key_checks = %d, %v on the connection after restore", fk, err)
			}
		})
	}
}

func TestMySQLBadInput(t *testing.T) {
	tests := []struct {
		name    string
		backup  func(t *testing.T, b *MySQL)
		spoil   func(t *testing.T, path string)
		wantErr error
		wantMsg []string
	}{
		{
			name:    "no dump tool in PATH",
			backup:  func(t *testing.T, b *MySQL) { t.Setenv("PATH", t.TempDir()) },
			wantErr: exec.ErrNotFound,
			wantMsg: []string{"mariadb-dump or mysqldump not found", "mariadb-client or default-mysql-client"},
		},
		{
			name:    "dump tool path does not exist",
			backup:  func(t *testing.T, b *MySQL) { b.Dump = "/nonexistent/mysqldump" },
			wantErr: os.ErrNotExist,
			wantMsg: []string{"/nonexistent/mysqldump not found"},
		},
		{
			name:    "wrong checksum",
			spoil:   func(t *testing.T, p string) { flipByte(t, p, 300) },
			wantErr: ErrChecksum,
		},
		{
			name:    "truncated, checksum updated",
			spoil:   func(t *testing.T, p string) { fi, _ := os.Stat(p); truncate(t, p, fi.Size()/2); rewriteChecksum(t, p) },
			wantErr: ErrInvalid,
			wantMsg: []string{"is truncated"},
		},
		{
			name: "not a dump, checksum updated",
			spoil: func(t *testing.T, p string) {
				if err := os.WriteFile(p, []byte("PGDMP\x01\x0e"), 0o600); err != nil {
					t.Fatal(err)
				}
				rewriteChecksum(t, p)
			},
			wantErr: ErrInvalid,
			wantMsg: []string{"not a mysqldump or mariadb-dump file"},
		},
		{
			name:    "client not in PATH",
			spoil:   func(t *testing.T, p string) { t.Setenv("PATH", t.TempDir()) },
			wantErr: exec.ErrNotFound,
			wantMsg: []string{"mariadb or mysql not found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, dsn := mytest.New(t)
			c := conn(t, db)
			mustExec(t, c,
				"CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL, legacy text)",
				"INSERT INTO users (name, legacy) VALUES ('ada', 'x'), ('bob', 'y')")
			b := NewMySQL(dsn)
			dir := t.TempDir()
			var err error
			if tt.backup != nil {
				tt.backup(t, b)
				_, err = Create(t.Context(), b, c, Options{Dir: dir})
				if got := dirNames(t, dir); len(got) != 0 {
					t.Errorf("a failed backup left files: %v", got)
				}
			} else {
				var f File
				if f, err = Create(t.Context(), b, c, Options{Dir: dir}); err != nil {
					t.Fatal(err)
				}
				mustExec(t, c, "ALTER TABLE users DROP COLUMN legacy")
				want := serverSnapshot(t, c, mySchema)
				tt.spoil(t, f.Path)
				err = Restore(t.Context(), b, c, f.Path)
				if got := serverSnapshot(t, c, mySchema); got != want {
					t.Errorf("a failed restore changed the database\nwant:\n%s\ngot:\n%s", want, got)
				}
			}
			checkErr(t, err, tt.wantErr, tt.wantMsg...)
		})
	}
}

// TestMySQLPassword: a user with an awkward password works, and the
// password is only ever in the option file, which the tools read from a
// pipe: it is never on disk.
func TestMySQLPassword(t *testing.T) {
	db, dsn := mytest.New(t)
	c := conn(t, db)
	cfg, err := parseMySQLDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	user := "strata_bk_" + strings.TrimPrefix(cfg.dbname, "strata_test_")[:8]
	const secret = `p"a\ss#w ;=@x`
	mustExec(t, c, "CREATE USER '"+user+"'@'%' IDENTIFIED BY 'p\"a\\\\ss#w ;=@x'",
		"GRANT ALL ON `"+cfg.dbname+"`.* TO '"+user+"'@'%'",
		"GRANT ALL ON `strata\\_restore\\_%`.* TO '"+user+"'@'%'")
	t.Cleanup(func() { db.Exec("DROP USER '" + user + "'@'%'") })
	mustExec(t, c, "CREATE TABLE t (x int)", "INSERT INTO t VALUES (1), (2)")
	userDSN := user + ":" + secret + "@tcp(" + cfg.host + ":" + cfg.port + ")/" + cfg.dbname

	t.Run("real tools", func(t *testing.T) {
		want := serverSnapshot(t, c, mySchema)
		f, err := Create(t.Context(), NewMySQL(userDSN), c, Options{Dir: t.TempDir()})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		mustExec(t, c, "DROP TABLE t")
		if err := Restore(t.Context(), NewMySQL(userDSN), c, f.Path); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		if got := serverSnapshot(t, c, mySchema); got != want {
			t.Errorf("restored\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("arguments", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "seen")
		dump := fakeTool(t, "mysqldump", `
printf '%s\n' "$@" > `+out+`.args
opt=$(printf '%s\n' "$1" | sed 's/^--defaults-extra-file=//')
stat -L -c %F "$opt" > `+out+`.mode
cat "$opt" > `+out+`.opt
echo "$opt" > `+out+`.path
exit 3`)
		b := NewMySQL(userDSN)
		b.Dump = dump
		_, err := Create(t.Context(), b, c, Options{Dir: t.TempDir()})
		checkErr(t, err, nil, "exit status 3")
		read := func(ext string) string {
			b, err := os.ReadFile(out + ext)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		if args := read(".args"); strings.Contains(args, "ss#w") || !strings.Contains(args, "--single-transaction") ||
			!strings.Contains(args, "--user="+user) || !strings.Contains(args, "--host="+cfg.host) {
			t.Errorf("arguments:\n%s", args)
		}
		if mode := strings.TrimSpace(read(".mode")); mode != "fifo" {
			t.Errorf("option file is a %s, want a pipe (fifo)", mode)
		}
		if opt := read(".opt"); !strings.Contains(opt, `password='p"a\\ss#w ;=@x'`) {
			t.Errorf("option file:\n%s", opt)
		}
		if p := strings.TrimSpace(read(".path")); p != "/dev/fd/3" {
			t.Errorf("option file %s, want /dev/fd/3", p)
		}
	})
}

func TestMySQLWrongDatabase(t *testing.T) {
	db, _ := mytest.New(t)
	_, other := mytest.New(t)
	c := conn(t, db)
	_, err := Create(t.Context(), NewMySQL(other), c, Options{Dir: t.TempDir()})
	checkErr(t, err, nil, "but the connection is to")
}

// keep sql imported for helpers shared with the SQLite tests.
var _ = sql.ErrNoRows
