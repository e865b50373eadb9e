package postgres_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/internal/testdb/pgtest"
	"github.com/strata-go/strata/schema"
)

// schemaDDL has an object of every kind the model describes.
const schemaDDL = `
CREATE TYPE post_status AS ENUM ('draft', 'published');
CREATE DOMAIN score AS numeric(5,2) CHECK (VALUE >= 0);
CREATE SEQUENCE invoice_numbers START 1000;
CREATE TABLE users (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email text NOT NULL COLLATE "C",
	name text NOT NULL DEFAULT '',
	rating score DEFAULT 0,
	email_domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED,
	CONSTRAINT users_email_key UNIQUE (email),
	CONSTRAINT users_name_check CHECK (name <> 'root')
);
COMMENT ON COLUMN users.name IS 'display name';
CREATE TABLE posts (
	id serial PRIMARY KEY,
	user_id bigint NOT NULL,
	title varchar(200) NOT NULL,
	status post_status NOT NULL DEFAULT 'draft',
	CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
	UNIQUE (user_id, title)
);
CREATE INDEX posts_user_idx ON posts (user_id, status DESC);
CREATE INDEX posts_lower_title_idx ON posts (lower(title));
CREATE INDEX posts_published_idx ON posts (user_id) WHERE status = 'published';
CREATE TABLE tags (
	name text NOT NULL,
	post_id integer NOT NULL REFERENCES posts,
	PRIMARY KEY (name, post_id)
);
CREATE VIEW published AS
	SELECT p.id, p.title, u.email FROM posts p JOIN users u ON u.id = p.user_id WHERE p.status = 'published';
CREATE FUNCTION posts_title_trim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.title := trim(NEW.title); RETURN NEW; END
$$;
CREATE TRIGGER posts_title_trim BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION posts_title_trim();
`

// build creates a database of its own from the statements and describes
// it.
func build(t *testing.T, ddl ...string) *schema.Schema {
	t.Helper()
	db, _ := pgtest.New(t)
	return buildOn(t, db, ddl...)
}

func buildOn(t *testing.T, db *sql.DB, ddl ...string) *schema.Schema {
	t.Helper()
	for _, stmt := range ddl {
		if _, err := db.ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s, err := schema.Inspect(t.Context(), postgres.New(), db, schema.Options{Exclude: []string{"strata_migrations"}})
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
	var objects []string
	for _, o := range s.Objects {
		objects = append(objects, o.Kind+" "+o.Name)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"users.id identity", users.Column("id").Identity, "ALWAYS"},
		{"users.email collation", users.Column("email").Collation, `"C"`},
		{"users.name default", users.Column("name").Default, "''::text"},
		{"users.name comment", users.Column("name").Comment, "display name"},
		{"users.rating type", users.Column("rating").Type, "score"},
		{"users.email_domain generated", users.Column("email_domain").Generated, "split_part(email, '@'::text, 2)"},
		{"users.email_domain stored", users.Column("email_domain").Stored, true},
		{"users primary key", users.PrimaryKey.Name + " " + users.PrimaryKey.String(), "users_pkey (id)"},
		{"users unique", users.Uniques[0].Name + " " + users.Uniques[0].String(), "users_email_key (email)"},
		{"users check", users.Checks[0].Name + " " + users.Checks[0].Expr, "users_name_check name <> 'root'::text"},
		{"posts serial", posts.Column("id").Default, "nextval('posts_id_seq'::regclass)"},
		{"posts unique", posts.Uniques[0].Name, "posts_user_id_title_key"},
		{"posts foreign key", posts.ForeignKeys[0].Name + " " + posts.ForeignKeys[0].String(),
			"posts_user_fk (user_id) REFERENCES users (id) ON UPDATE NO ACTION ON DELETE CASCADE"},
		{"posts indexes", len(posts.Indexes), 3},
		{"posts expression index", posts.Indexes[0].Name + " " + posts.Indexes[0].String(), "posts_lower_title_idx ((lower(title::text)))"},
		{"posts partial index", posts.Indexes[1].String(), "(user_id) WHERE status = 'published'::post_status"},
		{"posts index direction", posts.Indexes[2].String(), "(user_id, status DESC)"},
		{"tags primary key", tags.PrimaryKey.String(), "(name, post_id)"},
		{"tags implicit reference", tags.ForeignKeys[0].String(), "(post_id) REFERENCES posts (id) ON UPDATE NO ACTION ON DELETE NO ACTION"},
		{"view", s.Views[0].Name, "published"},
		{"trigger", s.Triggers[0].Definition, "CREATE TRIGGER posts_title_trim BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION posts_title_trim()"},
		{"objects", strings.Join(objects, ", "), "domain score, enum type post_status, function posts_title_trim(), sequence invoice_numbers"},
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
		{"table added", "CREATE TABLE tags", "CREATE TABLE extra (id int);\nCREATE TABLE tags", []string{"+ table extra: (id)"}},
		{"table removed", "CREATE VIEW", "DROP TABLE tags;\nCREATE VIEW", []string{"- table tags: (name, post_id)"}},
		{"column added", "rating score DEFAULT 0,", "rating score DEFAULT 0,\n\tbio text,", []string{"+ column users.bio: text"}},
		{"column removed", "rating score DEFAULT 0,", "", []string{"- column users.rating: score DEFAULT 0"}},
		{"column type", "title varchar(200)", "title varchar(300)",
			[]string{"~ column posts.title: type: character varying(200) → character varying(300)"}},
		{"column nullability", "user_id bigint NOT NULL,", "user_id bigint,", []string{"~ column posts.user_id: nullable: NOT NULL → NULL"}},
		{"column default", "DEFAULT 'draft'", "DEFAULT 'published'",
			[]string{"~ column posts.status: default: 'draft'::post_status → 'published'::post_status"}},
		{"column collation", `COLLATE "C"`, `COLLATE "POSIX"`, []string{`~ column users.email: collation: "C" → "POSIX"`}},
		{"generated column", "split_part(email, '@', 2)", "split_part(email, '@', 1)",
			[]string{"~ column users.email_domain: generated: split_part(email, '@'::text, 2) STORED → split_part(email, '@'::text, 1) STORED"}},
		{"identity", "GENERATED ALWAYS AS IDENTITY", "GENERATED BY DEFAULT AS IDENTITY", []string{"~ column users.id: identity: ALWAYS → BY DEFAULT"}},
		{"column comment", "'display name'", "'full name'", []string{"~ column users.name: comment: display name → full name"}},
		{"column order", "name text NOT NULL DEFAULT '',\n\trating score DEFAULT 0,", "rating score DEFAULT 0,\n\tname text NOT NULL DEFAULT '',",
			[]string{"~ table users: column order: (id, email, name, rating, email_domain) → (id, email, rating, name, email_domain)"}},
		{"primary key", "PRIMARY KEY (name, post_id)", "PRIMARY KEY (post_id, name)",
			[]string{"~ primary key tags_pkey on tags: columns: (name, post_id) → (post_id, name)"}},
		{"index columns", "(user_id, status DESC)", "(user_id, status)",
			[]string{"~ index posts_user_idx on posts: parts: (user_id, status DESC) → (user_id, status)"}},
		{"index unique", "CREATE INDEX posts_user_idx", "CREATE UNIQUE INDEX posts_user_idx",
			[]string{"~ index posts_user_idx on posts: unique: not unique → unique"}},
		{"index expression", "lower(title)", "upper(title)",
			[]string{"~ index posts_lower_title_idx on posts: parts: ((lower(title::text))) → ((upper(title::text)))"}},
		{"index method", "ON posts (lower(title))", "ON posts USING hash (lower(title))",
			[]string{"~ index posts_lower_title_idx on posts: method: (none) → hash"}},
		{"index predicate", "(user_id) WHERE status = 'published'", "(user_id) WHERE status = 'draft'",
			[]string{"~ index posts_published_idx on posts: where: status = 'published'::post_status → status = 'draft'::post_status"}},
		{"index removed", "CREATE INDEX posts_lower_title_idx ON posts (lower(title));", "",
			[]string{"- index posts_lower_title_idx on posts: ((lower(title::text)))"}},
		{"foreign key action", "ON DELETE CASCADE", "ON DELETE SET NULL",
			[]string{"~ foreign key posts_user_fk on posts: on delete: CASCADE → SET NULL"}},
		{"foreign key deferrable", "REFERENCES posts,", "REFERENCES posts DEFERRABLE,",
			[]string{"~ foreign key tags_post_id_fkey on tags: deferrable: (none) → DEFERRABLE INITIALLY IMMEDIATE"}},
		{"check", "name <> 'root'", "name <> 'admin'",
			[]string{"~ check users_name_check on users: expression: name <> 'root'::text → name <> 'admin'::text"}},
		{"unique", "UNIQUE (user_id, title)", "UNIQUE (title, user_id)",
			[]string{"+ unique posts_title_user_id_key on posts: (title, user_id)", "- unique posts_user_id_title_key on posts: (user_id, title)"}},
		{"table option", "CREATE TABLE tags", "CREATE UNLOGGED TABLE tags", []string{"~ table tags: options: (none) → UNLOGGED"}},
		{"view", "WHERE p.status = 'published'", "WHERE p.status = 'draft'", []string{"~ view published:", "WHERE p.status = 'draft'::post_status"}},
		{"trigger", "BEFORE INSERT ON posts", "BEFORE INSERT OR UPDATE ON posts",
			[]string{"~ trigger posts_title_trim on posts:", "+ CREATE TRIGGER posts_title_trim BEFORE INSERT OR UPDATE ON posts"}},
		{"function", "trim(NEW.title)", "btrim(NEW.title)", []string{`~ function "posts_title_trim()":`}},
		{"enum type", "('draft', 'published')", "('draft', 'published', 'hidden')",
			[]string{"~ enum type post_status: definition: ('draft', 'published') → ('draft', 'published', 'hidden')"}},
		{"domain", "CHECK (VALUE >= 0)", "CHECK (VALUE > 0)", []string{"~ domain score:", "+ numeric(5,2) CONSTRAINT score_check CHECK (VALUE > 0::numeric)"}},
		{"sequence", "START 1000", "START 2000", []string{"~ sequence invoice_numbers:", "START 2000 CACHE 1 NO CYCLE"}},
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
// that PostgreSQL records differently, and expects the same description.
func TestInspectSchemaNormalises(t *testing.T) {
	base := build(t, schemaDDL)
	tests := []struct {
		name string
		ddl  []string
	}{
		{"spelling", []string{strings.NewReplacer(
			"CREATE INDEX posts_user_idx ON posts (user_id, status DESC)", "create index posts_user_idx on posts(user_id,status desc)",
			"REFERENCES users (id)", "REFERENCES users",
			"WHERE p.status = 'published'", "where (p.status = 'published'::post_status)",
		).Replace(schemaDDL)}},
		{"columns added and dropped", []string{schemaDDL,
			`ALTER TABLE users ADD COLUMN tmp int`, `ALTER TABLE users DROP COLUMN tmp`,
			`ALTER TABLE posts DROP COLUMN title CASCADE`, `ALTER TABLE posts ADD COLUMN title varchar(200) NOT NULL`,
			`ALTER TABLE posts ADD COLUMN status2 post_status NOT NULL DEFAULT 'draft'`,
			`ALTER TABLE posts ALTER COLUMN status2 DROP DEFAULT`, `ALTER TABLE posts ALTER COLUMN status2 SET DEFAULT 'draft'`,
		}},
		{"objects in another schema are not described", []string{schemaDDL,
			`CREATE SCHEMA other`, `CREATE TABLE other.extra (id int)`, `CREATE VIEW other.v AS SELECT 1`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := base
			if tt.name == "columns added and dropped" {
				// The re-added columns come last, as a fresh build
				// with them last would have them.
				want = build(t, strings.NewReplacer(
					"\ttitle varchar(200) NOT NULL,\n", "",
					"UNIQUE (user_id, title)\n);", "title varchar(200) NOT NULL, status2 post_status NOT NULL DEFAULT 'draft'\n);",
					"CREATE INDEX posts_lower_title_idx ON posts (lower(title));\n", "",
					"CREATE VIEW published AS\n\tSELECT p.id, p.title, u.email FROM posts p JOIN users u ON u.id = p.user_id WHERE p.status = 'published';\n", "",
				).Replace(schemaDDL))
			}
			got := build(t, tt.ddl...)
			if d := schema.Compare(want, got); !d.Empty() {
				t.Errorf("differs from the schema built directly:\n%s", d)
			}
		})
	}
}

func TestInspectSchemaLeavesOut(t *testing.T) {
	s := build(t, schemaDDL,
		`CREATE TABLE strata_migrations (id text PRIMARY KEY, seq bigint UNIQUE)`,
		`CREATE INDEX strata_migrations_seq ON strata_migrations (seq)`,
		`CREATE TRIGGER strata_migrations_t BEFORE INSERT ON strata_migrations FOR EACH ROW EXECUTE FUNCTION posts_title_trim()`,
		`CREATE EXTENSION IF NOT EXISTS pg_trgm`, // its functions and types are the extension's
	)
	if s.Table("strata_migrations") != nil || len(s.Tables) != 3 {
		t.Errorf("tables: %d, version table described: %v", len(s.Tables), s.Table("strata_migrations") != nil)
	}
	if len(s.Triggers) != 1 {
		t.Errorf("triggers: %+v", s.Triggers)
	}
	var objects []string
	for _, o := range s.Objects {
		objects = append(objects, o.Kind+" "+o.Name)
	}
	if got := strings.Join(objects, ", "); got != "domain score, enum type post_status, extension pg_trgm, function posts_title_trim(), sequence invoice_numbers" {
		t.Errorf("objects: %s", got)
	}
}
