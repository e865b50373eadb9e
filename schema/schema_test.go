package schema_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/schema"
)

// sample returns a schema with one object of every kind.
func sample() *schema.Schema {
	return &schema.Schema{
		Tables: []*schema.Table{
			{
				Name: "users",
				Columns: []*schema.Column{
					{Name: "id", Type: "integer", Identity: "ALWAYS"},
					{Name: "email", Type: "text", Collation: `"C"`},
					{Name: "name", Type: "text", Default: "''"},
					{Name: "name_len", Type: "integer", Nullable: true, Generated: "length(name)", Stored: true},
				},
				PrimaryKey: &schema.PrimaryKey{Name: "users_pkey", Columns: []string{"id"}},
				Uniques:    []*schema.Unique{{Name: "users_email_key", Columns: []string{"email"}}},
				Indexes: []*schema.Index{
					{Name: "users_name_idx", Parts: []schema.IndexPart{{Column: "name"}}},
					{Name: "users_lower_email_idx", Unique: true, Parts: []schema.IndexPart{{Expr: "lower(email)", Desc: true}}, Where: "id > 0"},
				},
				Checks: []*schema.Check{{Expr: "id > 0"}, {Name: "users_name_check", Expr: "name <> 'root'"}},
			},
			{
				Name:    "posts",
				Columns: []*schema.Column{{Name: "id", Type: "integer"}, {Name: "user_id", Type: "integer", Nullable: true}},
				ForeignKeys: []*schema.ForeignKey{{Name: "posts_user_fk", Columns: []string{"user_id"}, RefTable: "users",
					RefColumns: []string{"id"}, OnUpdate: "NO ACTION", OnDelete: "CASCADE"}},
				Options: []string{"STRICT", "WITHOUT ROWID"},
			},
		},
		Views:    []*schema.View{{Name: "active_users", Definition: "SELECT id FROM users"}},
		Triggers: []*schema.Trigger{{Name: "users_touch", Table: "users", Definition: "BEFORE UPDATE ON users ..."}},
		Objects:  []*schema.Object{{Kind: "function", Name: "touch()", Definition: "BEGIN END"}},
	}
}

// clone deep-copies s through JSON, as the migration manager stores it.
func clone(t *testing.T, s *schema.Schema) *schema.Schema {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var c schema.Schema
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name   string
		opts   []schema.CompareOption
		change func(s *schema.Schema)
		want   []string // the diff's lines
	}{
		{"same", nil, func(*schema.Schema) {}, nil},
		{"table added", nil, func(s *schema.Schema) {
			s.Tables = append(s.Tables, &schema.Table{Name: "tags", Columns: []*schema.Column{{Name: "id", Type: "integer"}}})
		}, []string{"+ table tags: (id)"}},
		{"table removed", nil, func(s *schema.Schema) { s.Tables = s.Tables[:1] },
			[]string{"- table posts: (id, user_id)"}},
		{"column added", nil, func(s *schema.Schema) {
			s.Table("posts").Columns = append(s.Table("posts").Columns, &schema.Column{Name: "title", Type: "text", Nullable: true})
		}, []string{"+ column posts.title: text"}},
		{"column removed", nil, func(s *schema.Schema) { s.Table("posts").Columns = s.Table("posts").Columns[:1] },
			[]string{"- column posts.user_id: integer"}},
		{"column type", nil, func(s *schema.Schema) { s.Table("users").Column("id").Type = "bigint" },
			[]string{"~ column users.id: type: integer → bigint"}},
		{"column nullability", nil, func(s *schema.Schema) { s.Table("users").Column("email").Nullable = true },
			[]string{"~ column users.email: nullable: NOT NULL → NULL"}},
		{"column default", nil, func(s *schema.Schema) { s.Table("users").Column("name").Default = "'x'" },
			[]string{"~ column users.name: default: '' → 'x'"}},
		{"column default dropped", nil, func(s *schema.Schema) { s.Table("users").Column("name").Default = "" },
			[]string{"~ column users.name: default: '' → (none)"}},
		{"column collation", nil, func(s *schema.Schema) { s.Table("users").Column("email").Collation = "" },
			[]string{`~ column users.email: collation: "C" → (none)`}},
		{"column generated", nil, func(s *schema.Schema) { s.Table("users").Column("name_len").Stored = false },
			[]string{"~ column users.name_len: generated: length(name) STORED → length(name) VIRTUAL"}},
		{"column identity", nil, func(s *schema.Schema) { s.Table("users").Column("id").Identity = "BY DEFAULT" },
			[]string{"~ column users.id: identity: ALWAYS → BY DEFAULT"}},
		{"two fields of a column", nil, func(s *schema.Schema) {
			c := s.Table("users").Column("name")
			c.Type, c.Default = "varchar(10)", "'x'"
		}, []string{"~ column users.name: type: text → varchar(10); default: '' → 'x'"}},
		{"column order", nil, func(s *schema.Schema) {
			cs := s.Table("users").Columns
			cs[1], cs[2] = cs[2], cs[1]
		}, []string{"~ table users: column order: (id, email, name, name_len) → (id, name, email, name_len)"}},
		{"column order ignored", []schema.CompareOption{schema.IgnoreColumnOrder()}, func(s *schema.Schema) {
			cs := s.Table("users").Columns
			cs[1], cs[2] = cs[2], cs[1]
		}, nil},
		{"column dropped and added back last", nil, func(s *schema.Schema) {
			cs := s.Table("users").Columns
			s.Table("users").Columns = append([]*schema.Column{cs[0], cs[2], cs[3]}, cs[1])
		}, []string{"~ table users: column order: (id, email, name, name_len) → (id, name, name_len, email)"}},
		{"a column removed leaves the order of the rest alone", nil, func(s *schema.Schema) {
			cs := s.Table("users").Columns
			s.Table("users").Columns = append([]*schema.Column{cs[0]}, cs[2:]...)
		}, []string{`- column users.email: text COLLATE "C" NOT NULL`}},
		{"primary key columns", nil, func(s *schema.Schema) { s.Table("users").PrimaryKey.Columns = []string{"id", "email"} },
			[]string{"~ primary key users_pkey on users: columns: (id) → (id, email)"}},
		{"primary key removed", nil, func(s *schema.Schema) { s.Table("users").PrimaryKey = nil },
			[]string{"- primary key users_pkey on users: (id)"}},
		{"index added", nil, func(s *schema.Schema) {
			s.Table("posts").Indexes = append(s.Table("posts").Indexes, &schema.Index{Name: "posts_user_idx", Parts: []schema.IndexPart{{Column: "user_id"}}})
		}, []string{"+ index posts_user_idx on posts: (user_id)"}},
		{"index removed", nil, func(s *schema.Schema) { s.Table("users").Indexes = s.Table("users").Indexes[:1] },
			[]string{"- index users_lower_email_idx on users: UNIQUE ((lower(email)) DESC) WHERE id > 0"}},
		{"index columns", nil, func(s *schema.Schema) {
			s.Table("users").Indexes[0].Parts = append(s.Table("users").Indexes[0].Parts, schema.IndexPart{Column: "id"})
		}, []string{"~ index users_name_idx on users: parts: (name) → (name, id)"}},
		{"index unique", nil, func(s *schema.Schema) { s.Table("users").Indexes[0].Unique = true },
			[]string{"~ index users_name_idx on users: unique: not unique → unique"}},
		{"index predicate", nil, func(s *schema.Schema) { s.Table("users").Indexes[1].Where = "" },
			[]string{"~ index users_lower_email_idx on users: where: id > 0 → (none)"}},
		{"index expression", nil, func(s *schema.Schema) { s.Table("users").Indexes[1].Parts[0].Expr = "upper(email)" },
			[]string{"~ index users_lower_email_idx on users: parts: ((lower(email)) DESC) → ((upper(email)) DESC)"}},
		{"foreign key action", nil, func(s *schema.Schema) { s.Table("posts").ForeignKeys[0].OnDelete = "SET NULL" },
			[]string{"~ foreign key posts_user_fk on posts: on delete: CASCADE → SET NULL"}},
		{"foreign key target", nil, func(s *schema.Schema) { s.Table("posts").ForeignKeys[0].RefTable = "people" },
			[]string{"~ foreign key posts_user_fk on posts: references: REFERENCES users (id) → REFERENCES people (id)"}},
		{"foreign key removed", nil, func(s *schema.Schema) { s.Table("posts").ForeignKeys = nil },
			[]string{"- foreign key posts_user_fk on posts: (user_id) REFERENCES users (id) ON UPDATE NO ACTION ON DELETE CASCADE"}},
		{"named check", nil, func(s *schema.Schema) { s.Table("users").Checks[1].Expr = "name <> 'admin'" },
			[]string{"~ check users_name_check on users: expression: name <> 'root' → name <> 'admin'"}},
		{"unnamed check changed is one removed and one added", nil, func(s *schema.Schema) { s.Table("users").Checks[0].Expr = "id >= 0" },
			[]string{"- check id > 0 on users", "+ check id >= 0 on users"}},
		{"unique constraint", nil, func(s *schema.Schema) { s.Table("users").Uniques[0].Columns = []string{"email", "name"} },
			[]string{"~ unique users_email_key on users: columns: (email) → (email, name)"}},
		{"table options", nil, func(s *schema.Schema) { s.Table("posts").Options = []string{"STRICT"} },
			[]string{"~ table posts: options: STRICT, WITHOUT ROWID → STRICT"}},
		{"view definition", nil, func(s *schema.Schema) { s.Views[0].Definition = "SELECT id FROM users WHERE active" },
			[]string{"~ view active_users: definition: SELECT id FROM users → SELECT id FROM users WHERE active"}},
		{"view removed", nil, func(s *schema.Schema) { s.Views = nil },
			[]string{"- view active_users: SELECT id FROM users"}},
		{"trigger", nil, func(s *schema.Schema) { s.Triggers[0].Definition = "AFTER UPDATE ON users ..." },
			[]string{"~ trigger users_touch on users: definition: BEFORE UPDATE ON users ... → AFTER UPDATE ON users ..."}},
		{"other object", nil, func(s *schema.Schema) { s.Objects[0].Kind = "procedure" },
			[]string{`- function "touch()": BEGIN END`, `+ procedure "touch()": BEGIN END`}},
		{"odd names are quoted", nil, func(s *schema.Schema) {
			s.Tables = append(s.Tables, &schema.Table{Name: "my table"})
		}, []string{`+ table "my table": ()`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := sample()
			changed := clone(t, old)
			tt.change(changed)
			d := schema.Compare(old, changed, tt.opts...)
			var got []string
			if !d.Empty() {
				got = strings.Split(d.String(), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			old.Normalize()
			changed.Normalize()
			if same := old.Fingerprint() == changed.Fingerprint(); same != (len(tt.want) == 0 && tt.opts == nil) {
				t.Errorf("fingerprints equal = %v with diff %q", same, got)
			}
		})
	}
}

func TestDiffString(t *testing.T) {
	tests := []struct {
		name string
		d    schema.Diff
		want string
	}{
		{"empty", schema.Diff{}, "no changes"},
		{"long values on lines of their own", schema.Diff{Changes: []schema.Change{{
			Op: schema.Changed, Kind: schema.KindView, Name: "v",
			Fields: []schema.Field{{Name: "definition", Old: "SELECT a,\n  b FROM t", New: "SELECT a FROM t"}},
		}}}, "~ view v:\n    definition:\n      - SELECT a,\n          b FROM t\n      + SELECT a FROM t"},
		{"primary key without a name", schema.Diff{Changes: []schema.Change{{
			Op: schema.Added, Kind: schema.KindPrimaryKey, Table: "t", Definition: "(id)",
		}}}, "+ primary key on t: (id)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.String(); got != tt.want {
				t.Errorf("String() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestCompareNil(t *testing.T) {
	if d := schema.Compare(nil, &schema.Schema{}); !d.Empty() {
		t.Errorf("nil vs empty: %s", d)
	}
	d := schema.Compare(nil, sample())
	if len(d.Changes) != 5 || d.Changes[0].Op != schema.Added {
		t.Errorf("nil vs sample: %s", d)
	}
}

func TestNormalize(t *testing.T) {
	a := sample()
	b := sample()
	// The same schema listed in another order, with empty slices where a
	// has nil ones.
	b.Tables[0], b.Tables[1] = b.Tables[1], b.Tables[0]
	u := b.Table("users")
	u.Indexes[0], u.Indexes[1] = u.Indexes[1], u.Indexes[0]
	u.Checks[0], u.Checks[1] = u.Checks[1], u.Checks[0]
	p := b.Table("posts")
	p.Options[0], p.Options[1] = p.Options[1], p.Options[0]
	p.Checks = []*schema.Check{}
	b.Views = append(b.Views, nil)
	a.Normalize()
	b.Normalize()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("normalised schemas differ:\n%s\n%s", ja, jb)
	}
	if a.Fingerprint() != b.Fingerprint() || !strings.HasPrefix(a.Fingerprint(), schema.FingerprintPrefix) || len(a.Fingerprint()) != 67 {
		t.Errorf("fingerprints %s and %s", a.Fingerprint(), b.Fingerprint())
	}
	if got := a.Table("users").Columns[1].Name; got != "email" {
		t.Errorf("Normalize reordered columns: second is %s", got)
	}
}

func TestOptionsExcluded(t *testing.T) {
	tests := []struct {
		name           string
		exclude        []string
		current, table string
		fold, want     bool
	}{
		{"unqualified", []string{"strata_migrations"}, "public", "strata_migrations", false, true},
		{"other table", []string{"strata_migrations"}, "public", "users", false, false},
		{"qualified, this schema", []string{"app.strata_migrations"}, "app", "strata_migrations", false, true},
		{"qualified, another schema", []string{"app.strata_migrations"}, "public", "strata_migrations", false, false},
		{"case matters", []string{"Strata"}, "public", "strata", false, false},
		{"case folded", []string{"Strata"}, "main", "strata", true, true},
		{"nothing excluded", nil, "main", "strata", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (schema.Options{Exclude: tt.exclude}).Excluded(tt.current, tt.table, tt.fold); got != tt.want {
				t.Errorf("Excluded(%q, %q) = %v, want %v", tt.current, tt.table, got, tt.want)
			}
		})
	}
}

// plain is a dialect without an Inspector.
type plain struct{}

func (plain) Name() string                           { return "plain" }
func (plain) QuoteIdent(s string) string             { return dialect.QuoteDouble(s) }
func (plain) Placeholder(int) string                 { return "?" }
func (plain) TransactionalDDL() bool                 { return true }
func (plain) VersionTableDDL(string) []string        { return nil }
func (plain) Locker(dialect.LockOptions) lock.Locker { return nil }
func (plain) HasTable(context.Context, dialect.Execer, string) (bool, error) {
	return false, nil
}

// fixed is a dialect whose Inspector returns a fixed schema or error.
type fixed struct {
	plain
	s   *schema.Schema
	err error
}

func (f fixed) InspectSchema(context.Context, dialect.Execer, schema.Options) (*schema.Schema, error) {
	return f.s, f.err
}

func TestInspect(t *testing.T) {
	boom := errors.New("boom")
	unsorted := sample()
	unsorted.Tables[0], unsorted.Tables[1] = unsorted.Tables[1], unsorted.Tables[0]
	tests := []struct {
		name    string
		d       dialect.Dialect
		wantErr error
		tables  []string
	}{
		{"no inspector", plain{}, schema.ErrNotSupported, nil},
		{"inspector fails", fixed{err: boom}, boom, nil},
		{"nil schema is empty", fixed{}, nil, nil},
		{"result normalised", fixed{s: unsorted}, nil, []string{"posts", "users"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := schema.Inspect(t.Context(), tt.d, nil, schema.Options{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var names []string
			for _, tb := range s.Tables {
				names = append(names, tb.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.tables, ",") {
				t.Errorf("tables %q, want %q", names, tt.tables)
			}
		})
	}
}
