package sqlfile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing/fstest"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/sqlfile"
)

// A goose file, a golang-migrate pair and a Go migration in one graph.
func ExampleLoad() {
	files := fstest.MapFS{ // an embed.FS in an application
		"migrations/00001_users.sql": {Data: []byte(`-- +goose Up
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO users (name) VALUES ('root; the first');
-- +goose Down
DROP TABLE users;
`)},
		"migrations/2_posts.up.sql":   {Data: []byte("CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER);\n")},
		"migrations/2_posts.down.sql": {Data: []byte("DROP TABLE posts;\n")},
	}
	ms, err := sqlfile.Load(files, "migrations")
	if err != nil {
		fmt.Println(err)
		return
	}
	ms = append(ms, migration.SQL("3_posts_index", "CREATE INDEX posts_user ON posts (user_id)", "DROP INDEX posts_user", "2_posts"))

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(filepath.Join(dir, "app.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	m, err := migration.NewManager(db, sqlite.New(), ms)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := m.Up(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		fmt.Println("applied", r.ID)
	}
	fmt.Println("2_posts depends on", ms[1].Dependencies())
	// Output:
	// applied 00001_users
	// applied 2_posts
	// applied 3_posts_index
	// 2_posts depends on [00001_users]
}

func ExampleSplit() {
	stmts, _ := sqlfile.Split(`
CREATE TABLE t (note TEXT DEFAULT 'a;b');
CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
  UPDATE t SET note = note || ';' WHERE rowid = NEW.rowid;
END;`, sqlfile.Standard)
	for _, s := range stmts {
		fmt.Printf("line %d: %s\n", s.Line, s.SQL)
	}
	// Output:
	// line 2: CREATE TABLE t (note TEXT DEFAULT 'a;b')
	// line 3: CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
	//   UPDATE t SET note = note || ';' WHERE rowid = NEW.rowid;
	// END
}
