package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/migrationtest"
	"github.com/strata-go/strata/schema"
)

// testReversible proves, with migrationtest.Run, that every migration of a
// realistic history (catalog) is reversible on the target: each Down
// restores exactly the schema its Up started from, as the dialect's
// schema.Inspector describes it, and Up again makes exactly what the first
// Up made. It needs the inspector: the built-in dialects must have one; a
// custom dialect without one is told so in the log, and the test passes.
func testReversible(t *testing.T, tgt Target) {
	if _, ok := tgt.Dialect.(schema.Inspector); !ok {
		if builtIn(tgt.Dialect.Name()) {
			t.Fatalf("built-in dialect %s does not implement schema.Inspector", tgt.Dialect.Name())
		}
		t.Logf("dialect %s does not implement schema.Inspector: not proving migrations reversible, which needs it", tgt.Dialect.Name())
		return
	}
	d := tgt.open(t)
	ms := catalog(tgt.Dialect.Name())
	opts := []migrationtest.Option{migrationtest.WithData("0006_authors_display_name", displayNameData())}
	if slices.ContainsFunc(ms, func(m migration.Migration) bool { return m.ID() == "0007_book_audit" }) {
		opts = append(opts, migrationtest.WithData("0007_book_audit", bookAuditData()))
	}
	migrationtest.Run(t, d.DB, tgt.Dialect, ms, opts...)
	if t.Failed() {
		return
	}
	wantIDs(t, "applied after migrationtest.Run", applied(t, d.manager(ms)), migrationIDs(ms))
}

func builtIn(name string) bool {
	return name == sqliteName || name == postgresName || name == mysqlName
}

// catalog is the schema history of a small book catalogue, as an
// application's would be: tables with primary keys, UNIQUE and CHECK
// constraints, defaults and a foreign key; indexes, one of them built
// outside a transaction (CONCURRENTLY on PostgreSQL); columns added and
// dropped with tx.DropColumn; a branch and a merge; a view; a data
// migration; and, on the built-in dialects, a trigger (with its function
// on PostgreSQL), whose SQL differs between databases. The rest is SQL
// PostgreSQL, MySQL/MariaDB and SQLite all accept.
//
//	0001_authors ── 0002_books ── 0003_books_published ──┬── 0005_author_books ── 0006_authors_display_name ── 0007_book_audit
//	      └──────── 0004_authors_name_index ─────────────┘
func catalog(dialectName string) []migration.Migration {
	concurrently := ""
	if dialectName == postgresName {
		concurrently = "CONCURRENTLY "
	}
	ms := []migration.Migration{
		migration.SQL("0001_authors", `CREATE TABLE authors (
			id    INTEGER      PRIMARY KEY,
			name  VARCHAR(100) NOT NULL,
			email VARCHAR(200) NULL,
			CONSTRAINT authors_email_key UNIQUE (email)
		)`, `DROP TABLE authors`),
		&migration.Func{
			Name: "0002_books", Desc: "create books", Requires: []string{"0001_authors"},
			UpFn: execAll(`CREATE TABLE books (
				id        INTEGER      PRIMARY KEY,
				author_id INTEGER      NOT NULL,
				title     VARCHAR(200) NOT NULL,
				price     INTEGER      NOT NULL DEFAULT 0,
				CONSTRAINT books_author_fk FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE,
				CONSTRAINT books_price_check CHECK (price >= 0)
			)`, `CREATE INDEX books_author_title ON books (author_id, title)`),
			DownFn: execAll(`DROP TABLE books`),
		},
		&migration.Func{
			Name: "0003_books_published", Desc: "add books.published", Requires: []string{"0002_books"},
			UpFn: execAll(`ALTER TABLE books ADD COLUMN published DATE NULL`),
			DownFn: func(ctx context.Context, tx *migration.Tx) error {
				return tx.DropColumn(ctx, "books", "published")
			},
		},
		&migration.Func{
			Name: "0004_authors_name_index", Desc: "index authors by name", Requires: []string{"0001_authors"}, NoTx: true,
			UpFn:   execAll(`CREATE INDEX ` + concurrently + `authors_name_idx ON authors (name)`),
			DownFn: execAll(dropIndex(dialectName, concurrently, "authors", "authors_name_idx")),
		},
		migration.SQL("0005_author_books",
			`CREATE VIEW author_books AS SELECT a.name AS author, b.title AS title FROM authors a JOIN books b ON b.author_id = a.id`,
			`DROP VIEW author_books`, "0003_books_published", "0004_authors_name_index"),
		&migration.Func{
			Name: "0006_authors_display_name", Desc: "add authors.display_name, filled from name", Requires: []string{"0005_author_books"},
			UpFn: execAll(`ALTER TABLE authors ADD COLUMN display_name VARCHAR(100) NULL`,
				`UPDATE authors SET display_name = UPPER(name) WHERE display_name IS NULL`),
			DownFn: func(ctx context.Context, tx *migration.Tx) error {
				return tx.DropColumn(ctx, "authors", "display_name")
			},
		},
	}
	if audit := bookAudit(dialectName); audit != nil {
		ms = append(ms, audit)
	}
	return ms
}

// bookAudit is a table that a trigger on books fills, on the built-in
// dialects; nil on others, whose trigger syntax the suite cannot know.
func bookAudit(dialectName string) migration.Migration {
	const table = `CREATE TABLE book_audit (book_id INTEGER NOT NULL, title VARCHAR(200) NOT NULL)`
	var up, down []string
	switch dialectName {
	case postgresName:
		up = []string{table,
			`CREATE FUNCTION book_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				INSERT INTO book_audit (book_id, title) VALUES (NEW.id, NEW.title);
				RETURN NEW;
			END $$`,
			`CREATE TRIGGER books_audit AFTER INSERT ON books FOR EACH ROW EXECUTE FUNCTION book_audit_fn()`}
		down = []string{`DROP TRIGGER books_audit ON books`, `DROP FUNCTION book_audit_fn()`, `DROP TABLE book_audit`}
	case mysqlName:
		up = []string{table,
			`CREATE TRIGGER books_audit AFTER INSERT ON books FOR EACH ROW INSERT INTO book_audit (book_id, title) VALUES (NEW.id, NEW.title)`}
		down = []string{`DROP TRIGGER books_audit`, `DROP TABLE book_audit`}
	case sqliteName:
		up = []string{table,
			`CREATE TRIGGER books_audit AFTER INSERT ON books BEGIN
				INSERT INTO book_audit (book_id, title) VALUES (NEW.id, NEW.title);
			END`}
		down = []string{`DROP TRIGGER books_audit`, `DROP TABLE book_audit`}
	default:
		return nil
	}
	return &migration.Func{
		Name: "0007_book_audit", Desc: "audit new books with a trigger", Requires: []string{"0006_authors_display_name"},
		UpFn: execAll(up...), DownFn: execAll(down...),
	}
}

// execAll returns a migration function that runs stmts one at a time: the
// MySQL driver runs one statement per call.
func execAll(stmts ...string) func(context.Context, *migration.Tx) error {
	return func(ctx context.Context, tx *migration.Tx) error {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}
}

// dropIndex returns the statement that drops index name of table.
func dropIndex(dialectName, concurrently, table, name string) string {
	if dialectName == mysqlName {
		return `DROP INDEX ` + name + ` ON ` + table
	}
	return `DROP INDEX ` + concurrently + name
}

// displayNameData seeds authors and their books before
// 0006_authors_display_name, and checks that its Up fills display_name and
// that its Down, which drops a column of a table other tables reference,
// keeps every row.
func displayNameData() migrationtest.Data {
	return migrationtest.Data{
		Seed: func(ctx context.Context, db dialect.Execer) error {
			return execRows(ctx, db,
				`INSERT INTO authors (id, name, email) VALUES (1, 'Ann', 'ann@example.com'), (2, 'bob', NULL)`,
				`INSERT INTO books (id, author_id, title, price) VALUES (1, 1, 'First', 10), (2, 1, 'Second', 0), (3, 2, 'Third', 5)`)
		},
		CheckUp: func(ctx context.Context, db dialect.Execer) error {
			return wantRows(ctx, db, `SELECT id, name, display_name FROM authors ORDER BY id`, "1 Ann ANN", "2 bob BOB")
		},
		CheckDown: func(ctx context.Context, db dialect.Execer) error {
			if err := wantRows(ctx, db, `SELECT id, name FROM authors ORDER BY id`, "1 Ann", "2 bob"); err != nil {
				return err
			}
			return wantRows(ctx, db, `SELECT author, title FROM author_books ORDER BY title`, "Ann First", "Ann Second", "bob Third")
		},
	}
}

// bookAuditData checks, after each Up of 0007_book_audit, that its
// trigger records a new book.
func bookAuditData() migrationtest.Data {
	return migrationtest.Data{
		CheckUp: func(ctx context.Context, db dialect.Execer) error {
			var id int
			if err := db.QueryRowContext(ctx, `SELECT MAX(id) + 1 FROM books`).Scan(&id); err != nil {
				return err
			}
			if err := execRows(ctx, db, fmt.Sprintf(`INSERT INTO books (id, author_id, title) VALUES (%d, 2, 'Audited')`, id)); err != nil {
				return err
			}
			return wantRows(ctx, db, `SELECT book_id, title FROM book_audit`, fmt.Sprintf("%d Audited", id))
		},
	}
}

func execRows(ctx context.Context, db dialect.Execer, stmts ...string) error {
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// wantRows checks that query returns the rows want, each as its columns
// joined by spaces.
func wantRows(ctx context.Context, db dialect.Execer, query string, want ...string) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("%s: %w", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("%s: %w", query, err)
	}
	var got []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("%s: %w", query, err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprint(v)
		}
		got = append(got, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", query, err)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("%s = %q, want %q", query, got, want)
	}
	return nil
}
