package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/sqlite"
)

// openTest opens a fresh database file with sqlite.Open and runs setup.
func rbOpen(t *testing.T, setup ...string) *sql.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rbExec(t, db, setup...)
	return db
}

func rbExec(t *testing.T, ex dialect.Execer, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := ex.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// query returns the rows of q, each row formatted as one string.
func rbQuery(t *testing.T, ex dialect.Execer, q string, args ...any) []string {
	t.Helper()
	rows, err := ex.QueryContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprintf("%v", v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func rbOne(t *testing.T, ex dialect.Execer, q string, args ...any) string {
	t.Helper()
	rows := rbQuery(t, ex, q, args...)
	if len(rows) != 1 {
		t.Fatalf("%s: %d rows, want 1", q, len(rows))
	}
	return rows[0]
}

func rbTableSQL(t *testing.T, ex dialect.Execer, name string) string {
	t.Helper()
	return rbOne(t, ex, `SELECT sql FROM sqlite_schema WHERE name = ?`, name)
}

// inTx reports whether ex is inside a transaction, without changing that.
func rbInTx(t *testing.T, ex dialect.Execer) bool {
	t.Helper()
	_, err := ex.ExecContext(t.Context(), "BEGIN")
	if err != nil {
		if strings.Contains(err.Error(), "within a transaction") {
			return true
		}
		t.Fatal(err)
	}
	rbExec(t, ex, "ROLLBACK")
	return false
}

// dump describes the whole database: every schema object, every row of
// every table with its rowid, and the connection's foreign_keys and
// legacy_alter_table settings.
func rbDump(t *testing.T, ex dialect.Execer) string {
	t.Helper()
	var b strings.Builder
	for _, s := range []string{"main", "temp"} {
		for _, r := range rbQuery(t, ex, `SELECT type, name, tbl_name, sql FROM `+s+`.sqlite_schema ORDER BY type, name`) {
			fmt.Fprintf(&b, "%s: %s\n", s, r)
		}
	}
	for _, r := range rbQuery(t, ex, `SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' ORDER BY name`) {
		name, wr, _ := strings.Cut(r, "|")
		cols := "*"
		if wr == "0" {
			cols = "_rowid_, *"
		}
		for _, row := range rbQuery(t, ex, `SELECT `+cols+` FROM `+dialect.QuoteDouble(name)+` ORDER BY 1`) {
			fmt.Fprintf(&b, "%s: %s\n", name, row)
		}
	}
	fmt.Fprintf(&b, "foreign_keys=%s legacy_alter_table=%s\n", rbOne(t, ex, `PRAGMA foreign_keys`), rbOne(t, ex, `PRAGMA legacy_alter_table`))
	return b.String()
}

// healthy checks PRAGMA integrity_check and foreign_key_check.
func rbHealthy(t *testing.T, ex dialect.Execer) {
	t.Helper()
	if got := rbQuery(t, ex, `PRAGMA integrity_check`); len(got) != 1 || got[0] != "ok" {
		t.Errorf("integrity_check: %q", got)
	}
	if got := rbQuery(t, ex, `PRAGMA foreign_key_check`); len(got) != 0 {
		t.Errorf("foreign_key_check: %q", got)
	}
}

func rbNoScratch(t *testing.T, ex dialect.Execer) {
	t.Helper()
	if got := rbQuery(t, ex, `SELECT name FROM sqlite_schema WHERE name LIKE 'strata%'`); len(got) != 0 {
		t.Errorf("scratch objects left behind: %q", got)
	}
}

func rbEqual(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

func TestDropColumnIndexesAndConstraints(t *testing.T) {
	tests := []struct {
		name      string
		setup     []string
		table     string
		column    string
		wantSQL   string   // the table's CREATE TABLE afterwards
		wantIndex []string // name|sql of the table's indexes afterwards
		wantRows  []string // SELECT _rowid_, * FROM table ORDER BY 1
	}{
		{
			name: "index on the dropped column goes, the others stay",
			setup: []string{
				`CREATE TABLE t (a INT, b TEXT, c INT)`,
				`CREATE INDEX t_c ON t (c)`,
				`CREATE INDEX t_ac ON t (a, c)`,
				`CREATE INDEX t_expr ON t (lower(b) COLLATE NOCASE DESC)`,
				`CREATE UNIQUE INDEX t_part ON t (a) WHERE b IS NOT NULL`,
				`CREATE INDEX t_c_where ON t (a) WHERE c > 0`,
				`INSERT INTO t VALUES (1, 'x', 10), (2, NULL, 20), (3, 'Y', 30)`,
				`DELETE FROM t WHERE a = 2`,
			},
			table: "t", column: "c",
			wantSQL: `CREATE TABLE "t" (a INT, b TEXT)`,
			wantIndex: []string{
				`t_expr|CREATE INDEX t_expr ON t (lower(b) COLLATE NOCASE DESC)`,
				`t_part|CREATE UNIQUE INDEX t_part ON t (a) WHERE b IS NOT NULL`,
			},
			wantRows: []string{"1|1|x", "3|3|Y"},
		},
		{
			name: "constraints involving the column go with it",
			setup: []string{
				`CREATE TABLE p (id INTEGER PRIMARY KEY)`,
				`INSERT INTO p VALUES (1), (2)`,
				`CREATE TABLE x (y INT, z INT, UNIQUE (y, z))`,
				`INSERT INTO x VALUES (1, 1), (2, 2)`,
				`CREATE TABLE t (
	a INT CHECK (a > 0) CHECK (a = c),
	b INT CONSTRAINT b_ok CHECK (b < 100),
	c INT UNIQUE REFERENCES p (id),
	UNIQUE (a, c),
	CONSTRAINT pk PRIMARY KEY (b, c),
	CHECK (a + c > 0),
	FOREIGN KEY (a, c) REFERENCES x (y, z),
	FOREIGN KEY (a) REFERENCES p (id)
)`,
				`INSERT INTO t VALUES (1, 10, 1), (2, 20, 2)`,
			},
			table: "t", column: "c",
			wantSQL: `CREATE TABLE "t" (
	a INT CHECK (a > 0),
	b INT CONSTRAINT b_ok CHECK (b < 100),
	FOREIGN KEY (a) REFERENCES p (id)
)`,
			wantRows: []string{"1|1|10", "2|2|20"},
		},
		{
			name: "self-referencing foreign key on the dropped column goes",
			setup: []string{
				`CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT UNIQUE, parent TEXT REFERENCES t (code), up INT REFERENCES t (id))`,
				`INSERT INTO t VALUES (1, 'a', NULL, NULL), (2, 'b', 'a', 1)`,
			},
			table: "t", column: "code",
			wantSQL:  `CREATE TABLE "t" (id INTEGER PRIMARY KEY, parent TEXT, up INT REFERENCES t (id))`,
			wantRows: []string{"1|1|<nil>|<nil>", "2|2|a|1"},
		},
		{
			name: "dropping the INTEGER PRIMARY KEY keeps the rowids",
			setup: []string{
				`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`,
				`INSERT INTO t VALUES (5, 'five'), (9, 'nine')`,
			},
			table: "t", column: "id",
			wantSQL:  `CREATE TABLE "t" (v TEXT)`,
			wantRows: []string{"5|five", "9|nine"},
		},
		{
			name: "quoted identifiers and another case",
			setup: []string{
				`CREATE TABLE "My ""Table""" ("order" INT, [my col] TEXT, ` + "`select`" + ` INT)`,
				`CREATE INDEX "idx ""1""" ON "My ""Table""" ("my col")`,
				`CREATE INDEX "idx 2" ON "My ""Table""" ("order", "select")`,
				`INSERT INTO "My ""Table""" VALUES (1, 'a', 2)`,
			},
			table: `my "table"`, column: "SELECT",
			wantSQL:   `CREATE TABLE "My ""Table""" ("order" INT, [my col] TEXT)`,
			wantIndex: []string{`idx "1"|CREATE INDEX "idx ""1""" ON "My ""Table""" ("my col")`},
			wantRows:  []string{"1|1|a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := rbOpen(t, tt.setup...)
			if err := sqlite.DropColumn(t.Context(), db, tt.table, tt.column); err != nil {
				t.Fatal(err)
			}
			stored := rbOne(t, db, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE`, tt.table)
			if got := rbTableSQL(t, db, stored); got != tt.wantSQL {
				t.Errorf("CREATE TABLE:\ngot  %s\nwant %s", got, tt.wantSQL)
			}
			rbEqual(t, "indexes", rbQuery(t, db, `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`, stored), tt.wantIndex)
			rbEqual(t, "rows", rbQuery(t, db, `SELECT _rowid_, * FROM `+dialect.QuoteDouble(stored)+` ORDER BY 1`), tt.wantRows)
			rbHealthy(t, db)
			rbNoScratch(t, db)
		})
	}
}

// TestDropColumnBlocked checks that objects using the column stop the drop,
// are named, and that nothing changes.
func TestDropColumnBlocked(t *testing.T) {
	base := []string{
		`CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, c INT)`,
		`CREATE INDEX t_c ON t (c)`,
		`CREATE TABLE other (x INT)`,
		`INSERT INTO t VALUES (1, 'one', 10), (2, 'two', 20)`,
	}
	tests := []struct {
		name  string
		setup []string
		kind  string
		obj   string
	}{
		{"view", []string{`CREATE VIEW v AS SELECT id, c FROM t`}, "view", "v"},
		{"view on a view", []string{`CREATE VIEW v1 AS SELECT id, a FROM t`, `CREATE VIEW v2 AS SELECT c FROM t`, `CREATE VIEW v3 AS SELECT * FROM v2`}, "view", "v2"},
		{"trigger on the table", []string{`CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO other VALUES (new.c); END`}, "trigger", "tr"},
		{"trigger UPDATE OF the column", []string{`CREATE TRIGGER tr AFTER UPDATE OF c ON t BEGIN SELECT 1; END`}, "trigger", "tr"},
		{"trigger elsewhere writing the column", []string{`CREATE TRIGGER tr AFTER INSERT ON other BEGIN INSERT INTO t (a, c) VALUES ('x', new.x); END`}, "trigger", "tr"},
		{"trigger elsewhere reading the column", []string{
			`CREATE TRIGGER ok AFTER DELETE ON other BEGIN DELETE FROM t WHERE a = 'x'; END`,
			`CREATE TRIGGER tr AFTER DELETE ON other BEGIN DELETE FROM t WHERE c = old.x; END`,
		}, "trigger", "tr"},
		{"generated column", []string{`CREATE TABLE g (a INT, c INT, twice INT AS (c * 2))`}, "generated column", "twice"},
		{"foreign key of another table", []string{`CREATE UNIQUE INDEX t_cu ON t (c)`, `CREATE TABLE child (y INT REFERENCES t (c))`}, "foreign key", "child"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := rbOpen(t, append(base, tt.setup...)...)
			table := "t"
			if tt.kind == "generated column" {
				table = "g"
			}
			before := rbDump(t, db)
			err := sqlite.DropColumn(t.Context(), db, table, "c")
			var de *sqlite.DependencyError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a DependencyError", err)
			}
			if de.Kind != tt.kind || de.Name != tt.obj {
				t.Errorf("blocked by %s %q, want %s %q (%v)", de.Kind, de.Name, tt.kind, tt.obj, err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.obj)) {
				t.Errorf("error %q does not name %q", err, tt.obj)
			}
			if after := rbDump(t, db); after != before {
				t.Errorf("database changed:\nbefore\n%s\nafter\n%s", before, after)
			}
			if rbInTx(t, db) {
				t.Error("left a transaction open")
			}
		})
	}
}

func TestDropColumnKeepsDependents(t *testing.T) {
	tests := []struct {
		name string
		drop func(ctx context.Context, db *sql.DB) error
	}{
		{"native drop", func(ctx context.Context, db *sql.DB) error { return sqlite.DropColumn(ctx, db, "t", "c") }},
		// a change that is not a removal forces the 12-step rebuild
		{"rebuild", func(ctx context.Context, db *sql.DB) error {
			return sqlite.RebuildTable(ctx, db, "t", sqlite.RemoveColumn("c"), sqlite.AlterColumn("a"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := rbOpen(t,
				`CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, c INT)`,
				`CREATE TABLE other (x INT)`,
				`CREATE TABLE log (msg TEXT)`,
				`CREATE VIEW v1 AS SELECT id, a FROM t`,
				`CREATE VIEW v2 AS SELECT a FROM v1 WHERE id > 0`,
				`CREATE TRIGGER on_other AFTER INSERT ON other BEGIN INSERT INTO t (a) VALUES ('from ' || new.x); END`,
				`CREATE TRIGGER on_t AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.a); END`,
				`CREATE TRIGGER on_t_upd AFTER UPDATE OF a ON t BEGIN INSERT INTO log VALUES ('upd ' || new.a); END`,
				`INSERT INTO t (a, c) VALUES ('one', 1)`,
			)
			objects := `SELECT type, name, sql FROM sqlite_schema WHERE type IN ('view', 'trigger') ORDER BY name`
			before := rbQuery(t, db, objects)
			if err := tt.drop(t.Context(), db); err != nil {
				t.Fatal(err)
			}
			rbEqual(t, "views and triggers", rbQuery(t, db, objects), before)
			rbEqual(t, "columns", rbQuery(t, db, `SELECT name FROM pragma_table_info('t')`), []string{"id", "a"})
			rbExec(t, db, `INSERT INTO other VALUES (7)`, `UPDATE t SET a = 'uno' WHERE id = 1`)
			rbEqual(t, "v2", rbQuery(t, db, `SELECT * FROM v2 ORDER BY 1`), []string{"from 7", "uno"})
			rbEqual(t, "log", rbQuery(t, db, `SELECT msg FROM log ORDER BY rowid`), []string{"one", "from 7", "upd uno"})
			rbHealthy(t, db)
			rbNoScratch(t, db)
		})
	}
}

func TestRebuildPreserves(t *testing.T) {
	tests := []struct {
		name    string
		setup   []string
		after   []string // statements run after the rebuild, to see the table still behaves
		table   string
		drop    string
		wantSQL string
		check   map[string][]string // query -> rows
	}{
		{
			name: "rowids of a table without INTEGER PRIMARY KEY",
			setup: []string{
				`CREATE TABLE t (a TEXT, b INT UNIQUE)`,
				`INSERT INTO t (rowid, a, b) VALUES (3, 'x', 1), (17, 'y', 2), (1000, 'z', 3)`,
			},
			table: "t", drop: "b",
			wantSQL: `CREATE TABLE "t" (a TEXT)`,
			check:   map[string][]string{`SELECT rowid, a FROM t ORDER BY rowid`: {"3|x", "17|y", "1000|z"}},
		},
		{
			name: "AUTOINCREMENT high-water mark",
			setup: []string{
				`CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT, b INT UNIQUE)`,
				`INSERT INTO t (a, b) VALUES ('x', 1), ('y', 2), ('z', 3)`,
				`DELETE FROM t WHERE id = 3`,
			},
			after: []string{`INSERT INTO t (a) VALUES ('new')`},
			table: "t", drop: "b",
			wantSQL: `CREATE TABLE "t" (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT)`,
			check: map[string][]string{
				`SELECT id, a FROM t ORDER BY id`:                       {"1|x", "2|y", "4|new"},
				`SELECT seq FROM sqlite_sequence WHERE name = 't'`:      {"4"},
				`SELECT count(*) FROM sqlite_sequence WHERE name = 't'`: {"1"},
			},
		},
		{
			name: "WITHOUT ROWID and STRICT",
			setup: []string{
				`CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL, junk ANY, UNIQUE (v, junk)) WITHOUT ROWID, STRICT`,
				`INSERT INTO t VALUES ('b', 2, 'x'), ('a', 1, 1.5)`,
			},
			table: "t", drop: "junk",
			wantSQL: `CREATE TABLE "t" (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID, STRICT`,
			check: map[string][]string{
				`SELECT * FROM t ORDER BY k`:                                {"a|1", "b|2"},
				`SELECT wr, strict FROM pragma_table_list WHERE name = 't'`: {"1|1"},
			},
		},
		{
			name: "collations, expression defaults, checks and generated columns",
			setup: []string{
				`CREATE TABLE t (
	id INTEGER PRIMARY KEY,
	name TEXT COLLATE NOCASE NOT NULL DEFAULT (lower('ANON')),
	made TEXT DEFAULT (strftime('%Y', 'now')),
	price INT CONSTRAINT price_ok CHECK (price >= 0),
	junk BLOB,
	doubled INT GENERATED ALWAYS AS (price * 2) VIRTUAL,
	tripled INT AS (price * 3) STORED,
	CHECK (length(name) < 50)
)`,
				`CREATE INDEX t_junk ON t (junk, name)`,
				`INSERT INTO t (name, price, junk) VALUES ('Bob', 2, x'00')`,
			},
			after: []string{`INSERT INTO t (price) VALUES (5)`},
			table: "t", drop: "junk",
			wantSQL: `CREATE TABLE "t" (
	id INTEGER PRIMARY KEY,
	name TEXT COLLATE NOCASE NOT NULL DEFAULT (lower('ANON')),
	made TEXT DEFAULT (strftime('%Y', 'now')),
	price INT CONSTRAINT price_ok CHECK (price >= 0),
	doubled INT GENERATED ALWAYS AS (price * 2) VIRTUAL,
	tripled INT AS (price * 3) STORED,
	CHECK (length(name) < 50)
)`,
			check: map[string][]string{
				`SELECT id, name, price, doubled, tripled FROM t ORDER BY id`: {"1|Bob|2|4|6", "2|anon|5|10|15"},
				`SELECT count(*) FROM t WHERE name = 'BOB'`:                   {"1"},
			},
		},
		{
			name: "foreign keys to and from the table, and self-references",
			setup: []string{
				`CREATE TABLE owner (id INTEGER PRIMARY KEY)`,
				`CREATE TABLE node (id INTEGER PRIMARY KEY, owner INT REFERENCES owner (id) ON DELETE CASCADE, parent INT REFERENCES node (id) ON DELETE CASCADE, junk TEXT, junk2 TEXT, UNIQUE (junk, junk2))`,
				`CREATE TABLE leaf (id INTEGER PRIMARY KEY, node INT NOT NULL REFERENCES node (id) ON DELETE CASCADE)`,
				`INSERT INTO owner VALUES (1)`,
				`INSERT INTO node VALUES (1, 1, NULL, 'a', 'b'), (2, 1, 1, 'c', 'd')`,
				`INSERT INTO leaf VALUES (10, 1), (20, 2)`,
			},
			after: []string{`DELETE FROM node WHERE id = 2`},
			table: "node", drop: "junk",
			wantSQL: `CREATE TABLE "node" (id INTEGER PRIMARY KEY, owner INT REFERENCES owner (id) ON DELETE CASCADE, parent INT REFERENCES node (id) ON DELETE CASCADE, junk2 TEXT)`,
			check: map[string][]string{
				`SELECT id, node FROM leaf ORDER BY id`:                          {"10|1"},
				`SELECT "table" FROM pragma_foreign_key_list('node') ORDER BY 1`: {"node", "owner"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := rbOpen(t, tt.setup...)
			if err := sqlite.DropColumn(t.Context(), db, tt.table, tt.drop); err != nil {
				t.Fatal(err)
			}
			if got := rbTableSQL(t, db, tt.table); got != tt.wantSQL {
				t.Errorf("CREATE TABLE:\ngot  %s\nwant %s", got, tt.wantSQL)
			}
			rbExec(t, db, tt.after...)
			for q, want := range tt.check {
				rbEqual(t, q, rbQuery(t, db, q), want)
			}
			rbHealthy(t, db)
			rbNoScratch(t, db)
		})
	}
}

func TestRebuildTableChanges(t *testing.T) {
	const setup = `CREATE TABLE t (
	id INTEGER PRIMARY KEY,
	name TEXT,
	price TEXT DEFAULT '0',
	owner INT,
	CONSTRAINT name_len CHECK (length(name) < 20),
	UNIQUE (name, owner)
)`
	tests := []struct {
		name    string
		changes []sqlite.Change
		wantSQL string
		rows    []string // SELECT * FROM t ORDER BY id
	}{
		{
			name:    "rename a column",
			changes: []sqlite.Change{sqlite.RenameColumn("name", "title")},
			wantSQL: `CREATE TABLE "t" (
	id INTEGER PRIMARY KEY,
	"title" TEXT,
	price TEXT DEFAULT '0',
	owner INT,
	CONSTRAINT name_len CHECK (length("title") < 20),
	UNIQUE ("title", owner)
)`,
			rows: []string{"1|apple|10|1", "2|<nil>|2.5|<nil>"},
		},
		{
			name:    "swap two column names",
			changes: []sqlite.Change{sqlite.RenameColumn("name", "tmp"), sqlite.RenameColumn("price", "name"), sqlite.RenameColumn("tmp", "price")},
			rows:    []string{"1|apple|10|1", "2|<nil>|2.5|<nil>"},
		},
		{
			name: "retype with USING, NOT NULL and DEFAULT",
			changes: []sqlite.Change{sqlite.AlterColumn("price",
				sqlite.SetType("INTEGER"), sqlite.Using("CAST(price * 100 AS INTEGER)"), sqlite.SetNotNull(), sqlite.SetDefault("-1"))},
			wantSQL: `CREATE TABLE "t" (
	id INTEGER PRIMARY KEY,
	name TEXT,
	price INTEGER DEFAULT -1 NOT NULL,
	owner INT,
	CONSTRAINT name_len CHECK (length(name) < 20),
	UNIQUE (name, owner)
)`,
			rows: []string{"1|apple|1000|1", "2|<nil>|250|<nil>"},
		},
		{
			name:    "NOT NULL set, then dropped",
			changes: []sqlite.Change{sqlite.AlterColumn("price", sqlite.SetNotNull()), sqlite.AlterColumn("price", sqlite.DropNotNull())},
			wantSQL: `CREATE TABLE "t" (
	id INTEGER PRIMARY KEY,
	name TEXT,
	price TEXT DEFAULT '0',
	owner INT,
	CONSTRAINT name_len CHECK (length(name) < 20),
	UNIQUE (name, owner)
)`,
			rows: []string{"1|apple|10|1", "2|<nil>|2.5|<nil>"},
		},
		{
			name:    "expression default is parenthesised, then dropped",
			changes: []sqlite.Change{sqlite.AlterColumn("price", sqlite.SetDefault("datetime('now')")), sqlite.AlterColumn("price", sqlite.DropDefault())},
			wantSQL: `CREATE TABLE "t" (
	id INTEGER PRIMARY KEY,
	name TEXT,
	price TEXT,
	owner INT,
	CONSTRAINT name_len CHECK (length(name) < 20),
	UNIQUE (name, owner)
)`,
			rows: []string{"1|apple|10|1", "2|<nil>|2.5|<nil>"},
		},
		{
			name: "drop named, unique and check constraints; add check and foreign key",
			changes: []sqlite.Change{
				sqlite.DropConstraint("name_len"),
				sqlite.DropUnique("owner", "name"),
				sqlite.AddConstraint("CHECK (price <> 'free')"),
				sqlite.AddConstraint("CONSTRAINT owner_fk FOREIGN KEY (owner) REFERENCES t (id)"),
			},
			wantSQL: `CREATE TABLE "t" (
	id INTEGER PRIMARY KEY,
	name TEXT,
	price TEXT DEFAULT '0',
	owner INT,
	CHECK (price <> 'free'),
	CONSTRAINT owner_fk FOREIGN KEY (owner) REFERENCES t (id)
)`,
			rows: []string{"1|apple|10|1", "2|<nil>|2.5|<nil>"},
		},
		{
			name: "undo added constraints",
			changes: []sqlite.Change{
				sqlite.AddConstraint("CHECK (price<>'free')"),
				sqlite.AddConstraint("FOREIGN KEY (owner) REFERENCES t (id)"),
				sqlite.DropCheck("PRICE <> 'free'"),
				sqlite.DropForeignKey("owner"),
				sqlite.DropCheck("(length(name) < 20)"),
			},
			wantSQL: `CREATE TABLE "t" (
	id INTEGER PRIMARY KEY,
	name TEXT,
	price TEXT DEFAULT '0',
	owner INT,
	UNIQUE (name, owner)
)`,
			rows: []string{"1|apple|10|1", "2|<nil>|2.5|<nil>"},
		},
		{
			name:    "add a column with an expression default and NOT NULL",
			changes: []sqlite.Change{sqlite.AddColumn("created TEXT NOT NULL DEFAULT ('2024')"), sqlite.RenameColumn("created", "made")},
			rows:    []string{"1|apple|10|1|2024", "2|<nil>|2.5|<nil>|2024"},
		},
		{
			name: "redefine the whole table",
			changes: []sqlite.Change{
				sqlite.RenameColumn("name", "title"),
				sqlite.Redefine("(id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '', cents INTEGER) STRICT"),
				sqlite.AlterColumn("cents", sqlite.Using("CAST(price * 100 AS INTEGER)")),
				sqlite.AlterColumn("title", sqlite.Using("coalesce(title, '')")),
			},
			wantSQL: `CREATE TABLE "t" (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '', cents INTEGER) STRICT`,
			rows:    []string{"1|apple|1000", "2||250"},
		},
		{
			name:    "no changes",
			changes: nil,
			wantSQL: `CREATE TABLE "t" (
	id INTEGER PRIMARY KEY,
	name TEXT,
	price TEXT DEFAULT '0',
	owner INT,
	CONSTRAINT name_len CHECK (length(name) < 20),
	UNIQUE (name, owner)
)`,
			rows: []string{"1|apple|10|1", "2|<nil>|2.5|<nil>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := rbOpen(t, setup,
				`CREATE INDEX t_name ON t (name)`,
				`CREATE VIEW v AS SELECT id, name FROM t`,
				`INSERT INTO t VALUES (1, 'apple', '10', 1), (2, NULL, '2.5', NULL)`)
			if err := sqlite.RebuildTable(t.Context(), db, "T", tt.changes...); err != nil {
				t.Fatal(err)
			}
			if got := rbTableSQL(t, db, "t"); tt.wantSQL != "" && got != tt.wantSQL {
				t.Errorf("CREATE TABLE:\ngot  %s\nwant %s", got, tt.wantSQL)
			}
			rbEqual(t, "rows", rbQuery(t, db, `SELECT * FROM t ORDER BY id`), tt.rows)
			// the view and the index follow renamed columns
			rbQuery(t, db, `SELECT * FROM v`)
			if got := rbQuery(t, db, `SELECT count(*) FROM sqlite_schema WHERE name = 't_name'`); got[0] != "1" {
				t.Errorf("index t_name is gone")
			}
			rbHealthy(t, db)
			rbNoScratch(t, db)
		})
	}
}

// TestRebuildFailureChangesNothing checks atomicity: on every path a failed
// rebuild leaves schema, rows, pragmas and transaction state as they were.
func TestRebuildFailureChangesNothing(t *testing.T) {
	setup := []string{
		`CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, n INT)`,
		`CREATE TABLE c (id INTEGER PRIMARY KEY, p INT REFERENCES p (id) ON DELETE CASCADE)`,
		`CREATE INDEX p_name ON p (name)`,
		`CREATE TRIGGER p_ins AFTER INSERT ON p BEGIN SELECT 1; END`,
		`CREATE VIEW pv AS SELECT * FROM p`,
		`INSERT INTO p VALUES (1, 'a', 1), (2, NULL, -1)`,
		`INSERT INTO c VALUES (10, 1), (20, 2)`,
	}
	tests := []struct {
		name    string
		changes []sqlite.Change
		want    string // in the error
		is      error
	}{
		{"NULL rows under NOT NULL", []sqlite.Change{sqlite.AlterColumn("name", sqlite.SetNotNull())}, "NOT NULL constraint failed", nil},
		{"rows violating a new CHECK", []sqlite.Change{sqlite.AddConstraint("CHECK (n > 0)")}, "CHECK constraint failed", nil},
		{"rows violating a new UNIQUE", []sqlite.Change{sqlite.AlterColumn("n", sqlite.Using("0")), sqlite.AddConstraint("UNIQUE (n)")}, "UNIQUE constraint failed", nil},
		{"rows violating a new foreign key", []sqlite.Change{sqlite.AddConstraint("FOREIGN KEY (n) REFERENCES p (id)")}, "foreign key check failed", nil},
		{"unknown column", []sqlite.Change{sqlite.RemoveColumn("nope")}, `no column "nope"`, nil},
		{"bad type", []sqlite.Change{sqlite.AlterColumn("n", sqlite.SetType("INT, evil TEXT"))}, "comma", nil},
		{"index made impossible", []sqlite.Change{sqlite.RenameColumn("name", "title"), sqlite.AddConstraint("CHECK (nope > 0)")}, "no such column", nil},
		{"nil change", []sqlite.Change{nil}, "nil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"db", "conn", "migration tx", "tx with foreign keys on"} {
				t.Run(mode, func(t *testing.T) {
					db := rbOpen(t, setup...)
					conn, err := db.Conn(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					defer conn.Close()
					var ex dialect.Execer = conn
					switch mode {
					case "db":
						ex = db
						conn.Close()
					case "migration tx", "tx with foreign keys on":
						if mode == "migration tx" {
							rbExec(t, conn, `PRAGMA foreign_keys = OFF`)
						}
						tx, err := conn.BeginTx(t.Context(), nil)
						if err != nil {
							t.Fatal(err)
						}
						defer tx.Rollback()
						ex = tx
					}
					before := rbDump(t, ex)
					wasTx := rbInTx(t, ex)
					err = sqlite.RebuildTable(t.Context(), ex, "p", tt.changes...)
					if err == nil {
						t.Fatal("rebuild succeeded")
					}
					if !strings.Contains(err.Error(), tt.want) && !errors.Is(err, sqlite.ErrForeignKeysEnforced) {
						t.Errorf("err = %v, want it to say %q", err, tt.want)
					}
					if !strings.Contains(err.Error(), `"p"`) {
						t.Errorf("err = %v does not name the table", err)
					}
					if after := rbDump(t, ex); after != before {
						t.Errorf("database changed:\nbefore\n%s\nafter\n%s", before, after)
					}
					if got := rbInTx(t, ex); got != wasTx {
						t.Errorf("in transaction = %v, was %v", got, wasTx)
					}
					rbNoScratch(t, ex)
				})
			}
		})
	}
}

func TestRebuildForeignKeyProtocol(t *testing.T) {
	setup := []string{
		`CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT, junk TEXT, UNIQUE (name, junk))`,
		`CREATE TABLE child (id INTEGER PRIMARY KEY, parent INT REFERENCES parent (id) ON DELETE CASCADE)`,
		`INSERT INTO parent VALUES (1, 'a', 'x'), (2, 'b', 'y')`,
		`INSERT INTO child VALUES (10, 1), (11, 1), (20, 2)`,
	}
	children := []string{"10|1", "11|1", "20|2"}
	t.Run("directly on a connection with foreign keys on", func(t *testing.T) {
		db := rbOpen(t, setup...)
		if got := rbOne(t, db, `PRAGMA foreign_keys`); got != "1" {
			t.Fatalf("foreign_keys = %s, want sqlite.Open to switch them on", got)
		}
		if err := sqlite.DropColumn(t.Context(), db, "parent", "junk"); err != nil {
			t.Fatal(err)
		}
		rbEqual(t, "children", rbQuery(t, db, `SELECT * FROM child ORDER BY id`), children)
		if got := rbOne(t, db, `PRAGMA foreign_keys`); got != "1" {
			t.Errorf("foreign_keys = %s after the rebuild, want 1", got)
		}
		if rbInTx(t, db) {
			t.Error("left a transaction open")
		}
		// the cascade still works
		rbExec(t, db, `DELETE FROM parent WHERE id = 2`)
		rbEqual(t, "children", rbQuery(t, db, `SELECT * FROM child ORDER BY id`), children[:2])
		rbHealthy(t, db)
	})
	t.Run("in the caller's transaction with foreign keys on", func(t *testing.T) {
		db := rbOpen(t, setup...)
		conn, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tx, err := conn.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		before := rbDump(t, tx)
		err = sqlite.DropColumn(t.Context(), tx, "parent", "junk")
		if !errors.Is(err, sqlite.ErrForeignKeysEnforced) {
			t.Fatalf("err = %v, want ErrForeignKeysEnforced", err)
		}
		for _, hint := range []string{"migration", "foreign_keys=OFF", `"child"`} {
			if !strings.Contains(err.Error(), hint) {
				t.Errorf("error %q does not mention %s", err, hint)
			}
		}
		if after := rbDump(t, tx); after != before {
			t.Errorf("database changed:\nbefore\n%s\nafter\n%s", before, after)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		rbEqual(t, "children", rbQuery(t, conn, `SELECT * FROM child ORDER BY id`), children)
	})
	t.Run("inside a migration's transaction", func(t *testing.T) {
		// what the migration manager does: foreign keys off on the
		// pinned connection, a transaction, foreign_key_check, commit
		db := rbOpen(t, setup...)
		conn, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		restore, err := sqlite.New().PrepareConn(t.Context(), conn)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := conn.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := sqlite.RebuildTable(t.Context(), tx, "parent",
			sqlite.RemoveColumn("junk"), sqlite.AlterColumn("name", sqlite.SetNotNull())); err != nil {
			t.Fatal(err)
		}
		if !rbInTx(t, tx) {
			t.Error("the caller's transaction was ended")
		}
		if err := sqlite.New().BeforeCommit(t.Context(), tx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := restore(t.Context()); err != nil {
			t.Fatal(err)
		}
		rbEqual(t, "children", rbQuery(t, conn, `SELECT * FROM child ORDER BY id`), children)
		if got := rbOne(t, conn, `PRAGMA foreign_keys`); got != "1" {
			t.Errorf("foreign_keys = %s, want 1", got)
		}
		rbHealthy(t, conn)
	})
	t.Run("native drop in the caller's transaction with foreign keys on", func(t *testing.T) {
		db := rbOpen(t, setup...)
		rbExec(t, db, `ALTER TABLE parent ADD COLUMN note TEXT`)
		tx, err := db.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := sqlite.DropColumn(t.Context(), tx, "parent", "note"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		rbEqual(t, "children", rbQuery(t, db, `SELECT * FROM child ORDER BY id`), children)
	})
	t.Run("in the caller's transaction with foreign keys on, a table outside any foreign key", func(t *testing.T) {
		db := rbOpen(t, append(setup, `CREATE TABLE lone (a INT, b INT UNIQUE)`, `INSERT INTO lone VALUES (1, 2)`)...)
		tx, err := db.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := sqlite.DropColumn(t.Context(), tx, "lone", "b"); err != nil {
			t.Fatal(err)
		}
		if !rbInTx(t, tx) {
			t.Error("the caller's transaction was ended")
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		rbEqual(t, "lone", rbQuery(t, db, `SELECT rowid, * FROM lone`), []string{"1|1"})
		rbEqual(t, "children", rbQuery(t, db, `SELECT * FROM child ORDER BY id`), children)
		rbHealthy(t, db)
	})
	t.Run("a child's rows that violate the new parent fail the check", func(t *testing.T) {
		db := rbOpen(t, setup...)
		rbExec(t, db, `PRAGMA foreign_keys = OFF`, `INSERT INTO child VALUES (99, 42)`)
		before := rbDump(t, db)
		err := sqlite.DropColumn(t.Context(), db, "parent", "junk")
		var fe *sqlite.ForeignKeyError
		if !errors.As(err, &fe) || len(fe.Violations) != 1 || fe.Violations[0].RowID != 99 || fe.Violations[0].Table != "child" {
			t.Fatalf("err = %v, want a ForeignKeyError naming child row 99", err)
		}
		if after := rbDump(t, db); after != before {
			t.Errorf("database changed:\nbefore\n%s\nafter\n%s", before, after)
		}
	})
}

func TestRebuildRefuses(t *testing.T) {
	db := rbOpen(t,
		`CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a INT)`,
		`INSERT INTO t (a) VALUES (1)`,
		`CREATE VIEW v AS SELECT * FROM t`,
		`CREATE VIRTUAL TABLE docs USING fts4 (body)`,
		`CREATE VIRTUAL TABLE box USING rtree (id, x0, x1)`,
	)
	tests := []struct{ table, want string }{
		{"v", "is a view"},
		{"docs", "virtual table"},
		{"box", "virtual table"},
		{"docs_content", "shadow table"},
		{"box_node", "shadow table"},
		{"sqlite_sequence", "internal SQLite table"},
		{"nope", "no such table"},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			before := rbDump(t, db)
			err := sqlite.RebuildTable(t.Context(), db, tt.table)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.table) {
				t.Errorf("err = %v, want it to say %q and name %q", err, tt.want, tt.table)
			}
			if after := rbDump(t, db); after != before {
				t.Errorf("database changed")
			}
		})
	}
}

func TestRebuildScratchNameIsFree(t *testing.T) {
	db := rbOpen(t,
		`CREATE TABLE t (a INT, b INT)`,
		`CREATE TABLE strata_new_t (x)`,
		`CREATE INDEX "strata_new_t_2" ON strata_new_t (x)`,
		`INSERT INTO t VALUES (1, 2)`,
		`INSERT INTO strata_new_t VALUES ('keep')`,
	)
	if err := sqlite.RebuildTable(t.Context(), db, "t", sqlite.RemoveColumn("b"), sqlite.AlterColumn("a", sqlite.SetType("INTEGER"))); err != nil {
		t.Fatal(err)
	}
	rbEqual(t, "t", rbQuery(t, db, `SELECT * FROM t`), []string{"1"})
	rbEqual(t, "strata_new_t", rbQuery(t, db, `SELECT * FROM strata_new_t`), []string{"keep"})
	rbEqual(t, "tables", rbQuery(t, db, `SELECT name FROM sqlite_schema ORDER BY name`), []string{"strata_new_t", "strata_new_t_2", "t"})
	rbHealthy(t, db)
}

func TestRebuildTempTriggerAndLegacyPragma(t *testing.T) {
	db := rbOpen(t,
		`CREATE TABLE t (a INT, b INT)`,
		`CREATE TABLE log (x)`,
	)
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rbExec(t, conn,
		`CREATE TEMP TRIGGER tt AFTER INSERT ON main.t BEGIN INSERT INTO log VALUES (new.a); END`,
		`PRAGMA legacy_alter_table = ON`)
	if err := sqlite.RebuildTable(t.Context(), conn, "t", sqlite.RemoveColumn("b"), sqlite.RenameColumn("a", "z")); err != nil {
		t.Fatal(err)
	}
	rbExec(t, conn, `INSERT INTO t VALUES (5)`)
	rbEqual(t, "log", rbQuery(t, conn, `SELECT x FROM log`), []string{"5"})
	if got := rbOne(t, conn, `PRAGMA legacy_alter_table`); got != "1" {
		t.Errorf("legacy_alter_table = %s, want it restored to 1", got)
	}
	rbHealthy(t, conn)
}

func TestDialectDropColumnUsesRebuild(t *testing.T) {
	db := rbOpen(t, `CREATE TABLE t (a INT, b INT UNIQUE)`, `INSERT INTO t VALUES (1, 2)`)
	if err := dialect.DropColumn(t.Context(), sqlite.New(), db, "t", "b"); err != nil {
		t.Fatal(err)
	}
	if got := rbTableSQL(t, db, "t"); got != `CREATE TABLE "t" (a INT)` {
		t.Errorf("CREATE TABLE = %s", got)
	}
}

func TestRebuildCancelled(t *testing.T) {
	db := rbOpen(t, `CREATE TABLE t (a INT, b INT UNIQUE)`, `INSERT INTO t VALUES (1, 2)`)
	before := rbDump(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := sqlite.DropColumn(ctx, db, "t", "b"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if after := rbDump(t, db); after != before {
		t.Errorf("database changed")
	}
}
