package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/schema"
)

// schemaDDL has an object of every kind the model describes.
const schemaDDL = `
CREATE TABLE users (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	email TEXT NOT NULL COLLATE NOCASE,
	name TEXT NOT NULL DEFAULT '',
	score REAL DEFAULT 0,
	email_domain TEXT GENERATED ALWAYS AS (substr(email, instr(email, '@') + 1)) VIRTUAL,
	CONSTRAINT users_email_key UNIQUE (email),
	CONSTRAINT users_score_check CHECK (score >= 0)
);
CREATE TABLE posts (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL CONSTRAINT posts_user_fk REFERENCES users (id) ON DELETE CASCADE,
	title TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
	UNIQUE (user_id, title)
);
CREATE INDEX posts_user_idx ON posts (user_id, status DESC);
CREATE INDEX posts_lower_title_idx ON posts (lower(title));
CREATE INDEX posts_published_idx ON posts (user_id) WHERE status = 'published';
CREATE TABLE tags (
	name TEXT NOT NULL,
	post_id INTEGER NOT NULL REFERENCES posts,
	PRIMARY KEY (name, post_id)
) WITHOUT ROWID;
CREATE VIEW published AS
	SELECT p.id, p.title, u.email FROM posts p JOIN users u ON u.id = p.user_id WHERE p.status = 'published';
CREATE TRIGGER posts_title_trim AFTER INSERT ON posts BEGIN
	UPDATE posts SET title = trim(title) WHERE id = NEW.id;
END;
`

// build creates a database from the statements and describes it.
func build(t *testing.T, ddl ...string) *schema.Schema {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "schema.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return buildOn(t, db, ddl...)
}

func buildOn(t *testing.T, db *sql.DB, ddl ...string) *schema.Schema {
	t.Helper()
	for _, stmt := range ddl {
		if _, err := db.ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s, err := schema.Inspect(t.Context(), sqlite.New(), db, schema.Options{Exclude: []string{"strata_migrations"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestInspectSchemaDescribesEveryKind(t *testing.T) {
	s := build(t, schemaDDL)
	users, posts, tags := s.Table("users"), s.Table("posts"), s.Table("tags")
	if users == nil || posts == nil || tags == nil || len(s.Tables) != 3 {
		t.Fatalf("tables: %+v", s.Tables)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"users.id identity", users.Column("id").Identity, "AUTOINCREMENT"},
		{"users.email collation", users.Column("email").Collation, "NOCASE"},
		{"users.email nullable", users.Column("email").Nullable, false},
		{"users.name default", users.Column("name").Default, "''"},
		{"users.email_domain generated", users.Column("email_domain").Generated, "substr(email, instr(email, '@') + 1)"},
		{"users.email_domain stored", users.Column("email_domain").Stored, false},
		{"users unique", users.Uniques[0].Name + " " + users.Uniques[0].String(), "users_email_key (email)"},
		{"users check", users.Checks[0].Name + " " + users.Checks[0].Expr, "users_score_check score >= 0"},
		{"posts unnamed unique", len(posts.Uniques) == 1 && posts.Uniques[0].Name == "", true},
		{"posts unnamed check", posts.Checks[0].Expr, "status IN ('draft', 'published')"},
		{"posts foreign key", posts.ForeignKeys[0].Name + " " + posts.ForeignKeys[0].String(),
			"posts_user_fk (user_id) REFERENCES users (id) ON UPDATE NO ACTION ON DELETE CASCADE"},
		{"posts indexes", len(posts.Indexes), 3},
		{"posts expression index", posts.Indexes[0].Name + " " + posts.Indexes[0].String(), "posts_lower_title_idx ((lower(title)))"},
		{"posts partial index", posts.Indexes[1].String(), "(user_id) WHERE status = 'published'"},
		{"posts index direction", posts.Indexes[2].String(), "(user_id, status DESC)"},
		{"tags primary key", tags.PrimaryKey.String(), "(name, post_id)"},
		{"tags implicit reference", tags.ForeignKeys[0].String(), "(post_id) REFERENCES posts (id) ON UPDATE NO ACTION ON DELETE NO ACTION"},
		{"tags options", strings.Join(tags.Options, ","), "WITHOUT ROWID"},
		{"view", s.Views[0].Name + " " + s.Views[0].Definition,
			"published AS SELECT p.id, p.title, u.email FROM posts p JOIN users u ON u.id = p.user_id WHERE p.status = 'published'"},
		{"trigger", s.Triggers[0].Table + " " + s.Triggers[0].Definition,
			"posts AFTER INSERT ON posts BEGIN UPDATE posts SET title = trim(title) WHERE id = NEW.id; END"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

func TestInspectSchemaRoundTrip(t *testing.T) {
	base := build(t, schemaDDL)
	if again := build(t, schemaDDL); !schema.Compare(base, again).Empty() || base.Fingerprint() != again.Fingerprint() {
		t.Fatalf("two databases built by the same DDL differ:\n%s", schema.Compare(base, again))
	}
	tests := []struct {
		name     string
		from, to string // the change to the DDL
		want     []string
	}{
		{"table added", "CREATE TABLE tags", "CREATE TABLE extra (id INTEGER);\nCREATE TABLE tags",
			[]string{"+ table extra: (id)"}},
		{"table removed", "CREATE VIEW", "DROP TABLE tags;\nCREATE VIEW", []string{"- table tags: (name, post_id)"}},
		{"column added", "score REAL DEFAULT 0,", "score REAL DEFAULT 0,\n\tbio TEXT,", []string{"+ column users.bio: TEXT"}},
		{"column removed", "name TEXT NOT NULL DEFAULT '',", "", []string{"- column users.name: TEXT NOT NULL DEFAULT ''"}},
		{"column type", "score REAL", "score NUMERIC", []string{"~ column users.score: type: REAL → NUMERIC"}},
		{"column nullability", "title TEXT NOT NULL,", "title TEXT,", []string{"~ column posts.title: nullable: NOT NULL → NULL"}},
		{"column default", "DEFAULT 'draft'", "DEFAULT 'published'", []string{"~ column posts.status: default: 'draft' → 'published'"}},
		{"column collation", "COLLATE NOCASE", "COLLATE RTRIM", []string{"~ column users.email: collation: NOCASE → RTRIM"}},
		{"generated column stored", "+ 1)) VIRTUAL", "+ 1)) STORED",
			[]string{"~ column users.email_domain: generated: substr(email, instr(email, '@') + 1) VIRTUAL → substr(email, instr(email, '@') + 1) STORED"}},
		{"generated column expression", "instr(email, '@') + 1", "instr(email, '@')",
			[]string{"~ column users.email_domain: generated: substr(email, instr(email, '@') + 1) VIRTUAL → substr(email, instr(email, '@')) VIRTUAL"}},
		{"column order", "name TEXT NOT NULL DEFAULT '',\n\tscore REAL DEFAULT 0,", "score REAL DEFAULT 0,\n\tname TEXT NOT NULL DEFAULT '',",
			[]string{"~ table users: column order: (id, email, name, score, email_domain) → (id, email, score, name, email_domain)"}},
		{"autoincrement", "PRIMARY KEY AUTOINCREMENT", "PRIMARY KEY", []string{"~ column users.id: identity: AUTOINCREMENT → (none)"}},
		{"primary key", "PRIMARY KEY (name, post_id)", "PRIMARY KEY (post_id, name)",
			[]string{"~ primary key on tags: columns: (name, post_id) → (post_id, name)"}},
		{"index columns", "(user_id, status DESC)", "(user_id, status)",
			[]string{"~ index posts_user_idx on posts: parts: (user_id, status DESC) → (user_id, status)"}},
		{"index unique", "CREATE INDEX posts_user_idx", "CREATE UNIQUE INDEX posts_user_idx",
			[]string{"~ index posts_user_idx on posts: unique: not unique → unique"}},
		{"index expression", "lower(title)", "upper(title)",
			[]string{"~ index posts_lower_title_idx on posts: parts: ((lower(title))) → ((upper(title)))"}},
		{"index predicate", "(user_id) WHERE status = 'published'", "(user_id) WHERE status = 'draft'",
			[]string{"~ index posts_published_idx on posts: where: status = 'published' → status = 'draft'"}},
		{"index removed", "CREATE INDEX posts_lower_title_idx ON posts (lower(title));", "",
			[]string{"- index posts_lower_title_idx on posts: ((lower(title)))"}},
		{"foreign key action", "ON DELETE CASCADE", "ON DELETE SET NULL",
			[]string{"~ foreign key posts_user_fk on posts: on delete: CASCADE → SET NULL"}},
		{"foreign key target", "REFERENCES posts,", "REFERENCES users,",
			[]string{"- foreign key (post_id) REFERENCES posts (id) ON UPDATE NO ACTION ON DELETE NO ACTION on tags",
				"+ foreign key (post_id) REFERENCES users (id) ON UPDATE NO ACTION ON DELETE NO ACTION on tags"}},
		{"named check", "CHECK (score >= 0)", "CHECK (score > 0)",
			[]string{"~ check users_score_check on users: expression: score >= 0 → score > 0"}},
		{"unnamed check", "'published'))", "'published', 'hidden'))",
			[]string{"- check status IN ('draft', 'published') on posts", "+ check status IN ('draft', 'published', 'hidden') on posts"}},
		{"unnamed unique", "UNIQUE (user_id, title)", "UNIQUE (title, user_id)",
			[]string{"+ unique (title, user_id) on posts", "- unique (user_id, title) on posts"}},
		{"unique renamed", "users_email_key", "users_email_uq",
			[]string{"- unique users_email_key on users: (email)", "+ unique users_email_uq on users: (email)"}},
		{"table option", ") WITHOUT ROWID;", ");", []string{"~ table tags: options: WITHOUT ROWID → (none)"}},
		{"view", "WHERE p.status = 'published'", "WHERE p.status = 'draft'", []string{"~ view published:", "+ AS SELECT p.id, p.title, u.email FROM posts p JOIN users u ON u.id = p.user_id WHERE p.status = 'draft'"}},
		{"trigger", "AFTER INSERT ON posts", "AFTER UPDATE ON posts", []string{"~ trigger posts_title_trim on posts:", "+ AFTER UPDATE ON posts BEGIN"}},
		{"trigger removed", "CREATE TRIGGER", "CREATE TRIGGER unused AFTER DELETE ON users BEGIN SELECT 1; END;\nCREATE TRIGGER",
			[]string{"+ trigger unused on users: AFTER DELETE ON users BEGIN SELECT 1; END"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ddl := strings.Replace(schemaDDL, tt.from, tt.to, 1)
			if ddl == schemaDDL {
				t.Fatalf("%q is not in the DDL", tt.from)
			}
			changed := build(t, ddl)
			d := schema.Compare(base, changed)
			if d.Empty() || base.Fingerprint() == changed.Fingerprint() {
				t.Fatalf("no difference found")
			}
			for _, w := range tt.want {
				if !strings.Contains(d.String(), w) {
					t.Errorf("diff does not say %q:\n%s", w, d)
				}
			}
		})
	}
}

// TestInspectSchemaNormalises builds the schema of schemaDDL in other ways
// that SQLite records differently, and expects the same description.
func TestInspectSchemaNormalises(t *testing.T) {
	base := build(t, schemaDDL)
	tests := []struct {
		name string
		ddl  []string
	}{
		{"white space, comments, quoting, case of types, implicit reference", []string{strings.NewReplacer(
			"CREATE TABLE users (", "create table \"users\"(  -- the users\n",
			"score REAL DEFAULT 0,", "\"score\" real   DEFAULT 0 /* a score */,",
			"REFERENCES users (id)", "REFERENCES [users]",
			"title TEXT NOT NULL,", "`title` text not null,",
			"SELECT p.id, p.title", "SELECT p.id,\n\t\tp.\"title\"",
		).Replace(schemaDDL)}},
		{"column added by ALTER TABLE", []string{
			strings.Replace(schemaDDL, "\temail_domain TEXT GENERATED ALWAYS AS (substr(email, instr(email, '@') + 1)) VIRTUAL,\n", "", 1),
			`ALTER TABLE users ADD COLUMN email_domain TEXT GENERATED ALWAYS AS (substr(email, instr(email, '@') + 1)) VIRTUAL`,
		}},
		{"tables renamed and back", []string{schemaDDL,
			`ALTER TABLE posts RENAME TO posts_old`, `ALTER TABLE posts_old RENAME TO posts`,
			`ALTER TABLE users RENAME TO "users old"`, `ALTER TABLE "users old" RENAME TO users`,
		}},
		{"column added and dropped", []string{schemaDDL, `ALTER TABLE users ADD COLUMN tmp TEXT`, `ALTER TABLE users DROP COLUMN tmp`}},
		{"DEFAULT NULL is no default", []string{strings.Replace(schemaDDL, "CREATE TABLE tags", "CREATE TABLE extra (a INTEGER DEFAULT NULL);\nCREATE TABLE tags", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := build(t, tt.ddl...)
			if tt.name == "DEFAULT NULL is no default" {
				if c := got.Table("extra").Column("a"); c.Default != "" {
					t.Fatalf("default %q", c.Default)
				}
				return
			}
			if d := schema.Compare(base, got); !d.Empty() {
				t.Errorf("differs from the schema built by schemaDDL:\n%s", d)
			}
		})
	}
}

func TestInspectSchemaLeavesOut(t *testing.T) {
	s := build(t, schemaDDL,
		`CREATE TABLE strata_migrations (id TEXT PRIMARY KEY, seq INTEGER UNIQUE)`,
		`CREATE INDEX strata_migrations_seq ON strata_migrations (seq)`,
		`CREATE TRIGGER strata_migrations_t AFTER INSERT ON strata_migrations BEGIN SELECT 1; END`,
		`INSERT INTO users (email) VALUES ('a@example.com')`, // fills sqlite_sequence
		`ANALYZE`, // creates sqlite_stat1
	)
	for _, tb := range s.Tables {
		if strings.HasPrefix(tb.Name, "sqlite_") || tb.Name == "strata_migrations" {
			t.Errorf("table %s described", tb.Name)
		}
		for _, ix := range tb.Indexes {
			if strings.HasPrefix(ix.Name, "sqlite_autoindex") {
				t.Errorf("index %s described", ix.Name)
			}
		}
	}
	for _, tr := range s.Triggers {
		if tr.Table == "strata_migrations" {
			t.Errorf("trigger %s described", tr.Name)
		}
	}
	if len(s.Tables) != 3 || len(s.Triggers) != 1 {
		t.Errorf("%d tables, %d triggers; want 3 and 1", len(s.Tables), len(s.Triggers))
	}
}

// BenchmarkInspectSchema describes a schema of 1,000 tables, each with an
// index and a foreign key: what the migration manager does once per run.
func BenchmarkInspectSchema(b *testing.B) {
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for i := range 1000 {
		t := fmt.Sprintf("t_%04d", i)
		if _, err := db.ExecContext(b.Context(), `CREATE TABLE `+t+` (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', ref INTEGER REFERENCES t_0000 (id), CHECK (id > 0));
			CREATE INDEX `+t+`_name ON `+t+` (name)`); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := schema.Inspect(b.Context(), sqlite.New(), db, schema.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// awkwardDDL uses the corners of SQLite's CREATE syntax.
var awkwardDDL = []string{
	`CREATE TABLE a (
		x INTEGER PRIMARY KEY DESC,
		y unsigned big int(10, 2) NOT NULL DEFAULT (1 + 2),
		z TEXT COLLATE nocase DEFAULT 'it''s' CHECK (z <> ''),
		w DEFAULT -1,
		"odd ""name""" INT UNIQUE ON CONFLICT IGNORE,
		v INT NULL DEFAULT NULL,
		CONSTRAINT u2 UNIQUE (y, z COLLATE BINARY)
	)`,
	`CREATE TABLE [b] (
		k1 TEXT, k2 INT, v INTEGER,
		PRIMARY KEY (k2 DESC, k1 COLLATE NOCASE) ON CONFLICT REPLACE,
		FOREIGN KEY (v) REFERENCES a ON UPDATE SET DEFAULT ON DELETE SET NULL MATCH SIMPLE DEFERRABLE INITIALLY DEFERRED
	) WITHOUT ROWID`,
	`CREATE TABLE c (
		id INTEGER NOT NULL CONSTRAINT c_pk PRIMARY KEY ON CONFLICT ABORT AUTOINCREMENT,
		b_k1 TEXT, b_k2 INT,
		a_x INTEGER REFERENCES a(x) NOT DEFERRABLE,
		g INT GENERATED ALWAYS AS (id * 2) STORED,
		FOREIGN KEY (B_K2, b_k1) REFERENCES b (k2, k1) ON DELETE CASCADE
	)`,
	`CREATE INDEX c_idx ON c (b_k1 COLLATE RTRIM DESC, B_K2, (a_x + 1), "id")`,
	`CREATE UNIQUE INDEX a_idx ON a (Z) WHERE y > 0`,
	`CREATE TABLE d AS SELECT x, y FROM a`,
	`ALTER TABLE d ADD COLUMN e TEXT NOT NULL DEFAULT 'e' REFERENCES a`,
}

// cornerDDL is what SQLite accepts but few write: table constraints without
// commas between them, ON INSERT (which does nothing), CONSTRAINT names that
// name nothing, a DEFERRABLE clause apart from its REFERENCES.
var cornerDDL = []string{
	`CREATE TABLE p (id INTEGER PRIMARY KEY, k TEXT UNIQUE)`,
	`CREATE TABLE e (
		a INT, b TEXT, c INT,
		UNIQUE (a) CHECK (a > 0) PRIMARY KEY (b, a) FOREIGN KEY (c) REFERENCES p ON INSERT CASCADE ON UPDATE SET NULL
	)`,
	`CREATE TABLE f (
		a INT CONSTRAINT x CONSTRAINT y NOT NULL CONSTRAINT z,
		b REFERENCES p (id) ON INSERT SET DEFAULT NOT NULL DEFERRABLE INITIALLY DEFERRED,
		c TEXT COLLATE NOCASE
	)`,
}

// TestInspectSchemaAgreesWithPragmas checks what InspectSchema reads from
// the stored statements against what SQLite's pragmas report.
func TestInspectSchemaAgreesWithPragmas(t *testing.T) {
	agreesWithPragmas(t, append([]string{schemaDDL}, awkwardDDL...))
}

func TestInspectSchemaReadsCorners(t *testing.T) {
	s := agreesWithPragmas(t, cornerDDL)
	e, f := s.Table("e"), s.Table("f")
	checks := []struct {
		name      string
		got, want any
	}{
		{"check after a constraint", len(e.Checks) == 1 && e.Checks[0].Expr == "a > 0", true},
		{"primary key after constraints", e.PrimaryKey.String(), "(b, a)"},
		{"ON INSERT does nothing", e.ForeignKeys[0].String(), "(c) REFERENCES p (id) ON UPDATE SET NULL ON DELETE NO ACTION"},
		{"a name that names nothing", f.Column("a").Nullable, false},
		{"after a DEFERRABLE clause apart", f.Column("c").Collation, "NOCASE"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

// TestInspectSchemaNormalisesExpressions expects expressions that differ
// only in white space, comments and quoting to read the same.
func TestInspectSchemaNormalisesExpressions(t *testing.T) {
	tests := []struct{ name, a, b, want string }{
		{"operators", `a<=b||'x'`, `a <= /* less */ b || 'x'`, "a <= b || 'x'"},
		{"characters of operators written together", `a=-1`, "a =-\n1", "a =- 1"},
		{"functions and keywords", `lower ("a") IN('x')`, `lower(a) IN ('x')`, "lower(a) IN ('x')"},
		{"a hexadecimal number and a sum", `a>0x1E+1`, `a > 0x1E + 1`, "a > 0x1E + 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, expr := range []string{tt.a, tt.b} {
				s := build(t, `CREATE TABLE t (a INT, b TEXT, CHECK (`+expr+`))`)
				got = append(got, s.Table("t").Checks[0].Expr)
			}
			if got[0] != tt.want || got[1] != tt.want {
				t.Errorf("CHECKs read %q, want %q", got, tt.want)
			}
		})
	}
}

// agreesWithPragmas builds a database from ddl and checks what
// InspectSchema reads from the stored statements against what SQLite's
// pragmas report.
func agreesWithPragmas(t *testing.T, ddl []string) *schema.Schema {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "schema.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := buildOn(t, db, ddl...)
	squash := func(v string) string { return strings.ToUpper(strings.Join(strings.Fields(v), "")) }
	query := func(q string, args ...any) [][]sql.NullString {
		t.Helper()
		rows, err := db.QueryContext(t.Context(), q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out [][]sql.NullString
		for rows.Next() {
			row := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range row {
				ptrs[i] = &row[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, row)
		}
		return out
	}
	for _, tb := range s.Tables {
		t.Run(tb.Name, func(t *testing.T) {
			// Columns: name, type, notnull, default, pk.
			var pk []string
			xinfo := query(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_xinfo(?) ORDER BY cid`, tb.Name)
			if len(xinfo) != len(tb.Columns) {
				t.Fatalf("%d columns, pragma says %d", len(tb.Columns), len(xinfo))
			}
			pkAt := map[string]string{}
			for i, r := range xinfo {
				c := tb.Columns[i]
				dflt := r[3].String
				if strings.EqualFold(dflt, "NULL") {
					dflt = ""
				}
				if c.Name != r[0].String || squash(c.Type) != squash(r[1].String) || c.Nullable != (r[2].String == "0") || squash(c.Default) != squash(dflt) {
					t.Errorf("column %d: %q %q nullable=%v default %q; pragma: %v", i, c.Name, c.Type, c.Nullable, c.Default, r)
				}
				if r[4].String != "0" {
					pkAt[r[4].String] = r[0].String
				}
			}
			for i := 1; pkAt[fmt.Sprint(i)] != ""; i++ {
				pk = append(pk, pkAt[fmt.Sprint(i)])
			}
			var got []string
			if tb.PrimaryKey != nil {
				got = tb.PrimaryKey.Columns
			}
			if strings.Join(got, ",") != strings.Join(pk, ",") {
				t.Errorf("primary key %q, pragma says %q", got, pk)
			}

			// Foreign keys: columns, parent, parent columns, actions.
			var fks []string
			for _, fk := range tb.ForeignKeys {
				for i, c := range fk.Columns {
					ref := ""
					if i < len(fk.RefColumns) {
						ref = fk.RefColumns[i]
					}
					fks = append(fks, strings.Join([]string{c, fk.RefTable, ref, fk.OnUpdate, fk.OnDelete}, " "))
				}
			}
			var want []string
			for _, r := range query(`SELECT f."from", f."table", coalesce(f."to", ''), f.on_update, f.on_delete FROM pragma_foreign_key_list(?) f ORDER BY f.id DESC, f.seq`, tb.Name) {
				to := r[2].String
				if to == "" { // the parent's primary key
					to = "?"
				}
				want = append(want, strings.Join([]string{r[0].String, r[1].String, to, r[3].String, r[4].String}, " "))
			}
			slices.Sort(fks)
			slices.Sort(want)
			for i := range min(len(fks), len(want)) {
				if strings.Fields(want[i])[2] == "?" {
					continue // resolved by InspectSchema, not by the pragma
				}
				if want[i] != fks[i] {
					t.Errorf("foreign key %q, pragma says %q", fks[i], want[i])
				}
			}
			if len(fks) != len(want) {
				t.Errorf("foreign keys %q, pragma says %q", fks, want)
			}

			// Indexes and unique constraints: names, key columns,
			// direction, collation.
			for _, ix := range tb.Indexes {
				info := query(`SELECT cid, coalesce(name, ''), "desc", coll FROM pragma_index_xinfo(?) WHERE key ORDER BY seqno`, ix.Name)
				if len(info) != len(ix.Parts) {
					t.Fatalf("index %s: %d parts, pragma says %d", ix.Name, len(ix.Parts), len(info))
				}
				for i, r := range info {
					p := ix.Parts[i]
					coll := strings.ToUpper(r[3].String)
					if coll == "BINARY" {
						coll = ""
					}
					isExpr := r[0].String == "-2"
					if isExpr != (p.Expr != "") || !isExpr && p.Column != r[1].String || p.Desc != (r[2].String == "1") || p.Collation != coll {
						t.Errorf("index %s part %d: %+v; pragma says %v", ix.Name, i, p, r)
					}
				}
			}
			var uniques, autoindexes []string
			for _, u := range tb.Uniques {
				uniques = append(uniques, strings.Join(u.Columns, ","))
			}
			for _, r := range query(`SELECT il.name FROM pragma_index_list(?) il WHERE il.origin = 'u'`, tb.Name) {
				var cols []string
				for _, c := range query(`SELECT name FROM pragma_index_xinfo(?) WHERE key ORDER BY seqno`, r[0].String) {
					cols = append(cols, c[0].String)
				}
				autoindexes = append(autoindexes, strings.Join(cols, ","))
			}
			slices.Sort(uniques)
			slices.Sort(autoindexes)
			if !slices.Equal(uniques, autoindexes) {
				t.Errorf("unique constraints %q, pragma says %q", uniques, autoindexes)
			}
		})
	}
	return s
}
