package mysql_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/internal/testdb/mytest"
	"github.com/strata-go/strata/schema"
)

// schemaDDL has an object of every kind the model describes that MySQL and
// MariaDB both have (MariaDB has neither expression nor partial indexes).
// The statements are separated by ";\n\n", as the driver runs one at a
// time.
const schemaDDL = `CREATE TABLE users (
	id BIGINT AUTO_INCREMENT PRIMARY KEY,
	email VARCHAR(200) NOT NULL COLLATE utf8mb4_bin,
	name VARCHAR(100) NOT NULL DEFAULT '' COMMENT 'display name',
	rating DECIMAL(5,2) DEFAULT 0,
	updated_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
	email_domain VARCHAR(200) AS (SUBSTRING_INDEX(email, '@', -1)) VIRTUAL,
	CONSTRAINT users_email_key UNIQUE (email),
	CONSTRAINT users_name_check CHECK (name <> 'root')
) ENGINE=InnoDB;

CREATE TABLE posts (
	id INT AUTO_INCREMENT PRIMARY KEY,
	user_id BIGINT NOT NULL,
	title VARCHAR(200) NOT NULL,
	status VARCHAR(20) NOT NULL DEFAULT 'draft',
	CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT posts_user_title UNIQUE (user_id, title),
	CONSTRAINT posts_status_check CHECK (status IN ('draft', 'published'))
);

CREATE INDEX posts_user_idx ON posts (user_id, status DESC);

CREATE INDEX posts_title_prefix_idx ON posts (title(20));

CREATE FULLTEXT INDEX posts_title_ft ON posts (title);

CREATE TABLE tags (
	name VARCHAR(50) NOT NULL,
	post_id INT NOT NULL,
	PRIMARY KEY (name, post_id),
	FOREIGN KEY (post_id) REFERENCES posts (id)
);

CREATE VIEW published AS
	SELECT p.id, p.title, u.email FROM posts p JOIN users u ON u.id = p.user_id WHERE p.status = 'published';

CREATE TRIGGER posts_title_trim BEFORE INSERT ON posts FOR EACH ROW SET NEW.title = TRIM(NEW.title);

CREATE FUNCTION double_it(x INT) RETURNS INT DETERMINISTIC RETURN x * 2`

// build creates a database of its own from the statements and describes
// it.
func build(t *testing.T, ddl string) *schema.Schema {
	t.Helper()
	db, _ := mytest.New(t)
	return buildOn(t, db, ddl)
}

func buildOn(t *testing.T, db *sql.DB, ddl string) *schema.Schema {
	t.Helper()
	for _, stmt := range strings.Split(ddl, ";\n\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := db.ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s, err := schema.Inspect(t.Context(), mysql.New(), db, schema.Options{Exclude: []string{"strata_migrations"}})
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
	var indexes []string
	for _, ix := range posts.Indexes {
		indexes = append(indexes, ix.Name+" "+ix.String())
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"users.id identity", users.Column("id").Identity, "AUTO_INCREMENT"},
		{"users.email collation", users.Column("email").Collation, "utf8mb4_bin"},
		{"users.name comment", users.Column("name").Comment, "display name"},
		{"users.updated_at on update", users.Column("updated_at").OnUpdate != "", true},
		{"users.email_domain generated", users.Column("email_domain").Generated != "" && !users.Column("email_domain").Stored, true},
		{"users primary key", users.PrimaryKey.String(), "(id)"},
		{"users unique", users.Uniques[0].Name + " " + users.Uniques[0].String(), "users_email_key (email)"},
		{"users check", users.Checks[0].Name, "users_name_check"},
		{"posts unique", posts.Uniques[0].Name + " " + posts.Uniques[0].String(), "posts_user_title (user_id, title)"},
		{"posts foreign key", posts.ForeignKeys[0].Name + " " + strings.Join(posts.ForeignKeys[0].Columns, ",") + " " + posts.ForeignKeys[0].RefTable + " " + posts.ForeignKeys[0].OnDelete,
			"posts_user_fk user_id users CASCADE"},
		{"posts indexes", strings.Join(indexes, "; "),
			"posts_title_ft USING FULLTEXT (title); posts_title_prefix_idx (title(20)); posts_user_idx (user_id, status DESC)"},
		{"tags generated foreign key name", tags.ForeignKeys[0].Name, "tags_ibfk_1"},
		{"view without the database's name", s.Views[0].Definition,
			"select `p`.`id` AS `id`,`p`.`title` AS `title`,`u`.`email` AS `email` from (`posts` `p` join `users` `u` on(`u`.`id` = `p`.`user_id`)) where `p`.`status` = 'published'"},
		{"trigger", s.Triggers[0].Definition, "BEFORE INSERT FOR EACH ROW SET NEW.title = TRIM(NEW.title)"},
		{"function", s.Objects[0].Kind + " " + s.Objects[0].Name, "function double_it"},
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
		{"table added", "CREATE TABLE tags", "CREATE TABLE extra (id INT);\n\nCREATE TABLE tags", []string{"+ table extra: (id)"}},
		{"table removed", "CREATE VIEW", "DROP TABLE tags;\n\nCREATE VIEW", []string{"- table tags: (name, post_id)"}},
		{"column added", "rating DECIMAL(5,2) DEFAULT 0,", "rating DECIMAL(5,2) DEFAULT 0,\n\tbio TEXT,", []string{"+ column users.bio: text"}},
		{"column removed", "rating DECIMAL(5,2) DEFAULT 0,", "", []string{"- column users.rating: decimal(5,2)"}},
		{"column type", "title VARCHAR(200)", "title VARCHAR(300)", []string{"~ column posts.title: type: varchar(200) → varchar(300)"}},
		{"column nullability", "user_id BIGINT NOT NULL,", "user_id BIGINT,", []string{"~ column posts.user_id: nullable: NOT NULL → NULL"}},
		{"column default", "DEFAULT 'draft'", "DEFAULT 'published'", []string{"~ column posts.status: default: 'draft' → 'published'"}},
		{"column collation", "NOT NULL COLLATE utf8mb4_bin", "NOT NULL COLLATE utf8mb4_unicode_ci",
			[]string{"~ column users.email: collation: utf8mb4_bin → utf8mb4_unicode_ci"}},
		{"generated column", "-1)) VIRTUAL", "-1)) STORED", []string{"~ column users.email_domain: generated:", "VIRTUAL →", "STORED"}},
		{"auto increment", "id INT AUTO_INCREMENT PRIMARY KEY", "id INT PRIMARY KEY", []string{"~ column posts.id: identity: AUTO_INCREMENT → (none)"}},
		{"on update", " ON UPDATE CURRENT_TIMESTAMP", "", []string{"~ column users.updated_at: on update:"}},
		{"column comment", "'display name'", "'full name'", []string{"~ column users.name: comment: display name → full name"}},
		{"column order", "name VARCHAR(100) NOT NULL DEFAULT '' COMMENT 'display name',\n\trating DECIMAL(5,2) DEFAULT 0,",
			"rating DECIMAL(5,2) DEFAULT 0,\n\tname VARCHAR(100) NOT NULL DEFAULT '' COMMENT 'display name',",
			[]string{"~ table users: column order: (id, email, name, rating, updated_at, email_domain) → (id, email, rating, name, updated_at, email_domain)"}},
		{"primary key", "PRIMARY KEY (name, post_id)", "PRIMARY KEY (post_id, name)",
			[]string{"~ primary key on tags: columns: (name, post_id) → (post_id, name)"}},
		{"index columns", "(user_id, status DESC)", "(user_id, status)",
			[]string{"~ index posts_user_idx on posts: parts: (user_id, status DESC) → (user_id, status)"}},
		{"index unique", "CREATE INDEX posts_user_idx", "CREATE UNIQUE INDEX posts_user_idx",
			[]string{"- index posts_user_idx on posts: (user_id, status DESC)", "+ unique posts_user_idx on posts: (user_id, status DESC)"}},
		{"index prefix", "(title(20))", "(title(30))", []string{"~ index posts_title_prefix_idx on posts: parts: (title(20)) → (title(30))"}},
		{"index removed", "CREATE FULLTEXT INDEX posts_title_ft ON posts (title);\n\n", "",
			[]string{"- index posts_title_ft on posts: USING FULLTEXT (title)"}},
		{"foreign key action", "ON DELETE CASCADE", "ON DELETE NO ACTION",
			[]string{"~ foreign key posts_user_fk on posts: on delete: CASCADE → NO ACTION"}},
		{"foreign key target", "FOREIGN KEY (post_id) REFERENCES posts (id)", "FOREIGN KEY (post_id) REFERENCES posts (id) ON UPDATE CASCADE",
			[]string{"~ foreign key tags_ibfk_1 on tags: on update: RESTRICT → CASCADE"}},
		{"check", "name <> 'root'", "name <> 'admin'", []string{"~ check users_name_check on users: expression:"}},
		{"unique", "UNIQUE (user_id, title)", "UNIQUE (title, user_id)",
			[]string{"~ unique posts_user_title on posts: columns: (user_id, title) → (title, user_id)"}},
		{"table option", ") ENGINE=InnoDB;", ") ENGINE=InnoDB COMMENT 'people';", []string{"~ table users: comment: (none) → people"}},
		{"view", "WHERE p.status = 'published'", "WHERE p.status = 'draft'", []string{"~ view published:", "where `p`.`status` = 'draft'"}},
		{"trigger", "SET NEW.title = TRIM(NEW.title)", "SET NEW.title = LTRIM(NEW.title)",
			[]string{"~ trigger posts_title_trim on posts: definition: BEFORE INSERT FOR EACH ROW SET NEW.title = TRIM(NEW.title) → BEFORE INSERT FOR EACH ROW SET NEW.title = LTRIM(NEW.title)"}},
		{"routine", "RETURN x * 2", "RETURN x * 3", []string{"~ function double_it: definition: (x int(11)) RETURNS int(11) DETERMINISTIC RETURN x * 2 → (x int(11)) RETURNS int(11) DETERMINISTIC RETURN x * 3"}},
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

func TestInspectSchemaLeavesOut(t *testing.T) {
	s := build(t, schemaDDL+`;

CREATE TABLE strata_migrations (id VARCHAR(255) PRIMARY KEY, seq BIGINT UNIQUE);

CREATE TRIGGER strata_migrations_t BEFORE INSERT ON strata_migrations FOR EACH ROW SET NEW.seq = NEW.seq`)
	if s.Table("strata_migrations") != nil || len(s.Tables) != 3 {
		t.Errorf("tables: %d, version table described: %v", len(s.Tables), s.Table("strata_migrations") != nil)
	}
	if len(s.Triggers) != 1 {
		t.Errorf("triggers: %+v", s.Triggers)
	}
}
