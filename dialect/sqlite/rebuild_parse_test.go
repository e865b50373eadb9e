package sqlite

import (
	"slices"
	"testing"
)

func TestMentions(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want []string
	}{
		{"bare", `c > 0 AND "d" < 1`, []string{"c", "d"}},
		{"function and collation are not columns", `c(1) COLLATE d`, nil},
		{"strings are not columns", `'c' = "x"`, nil},
		{"sqlKeywords are not columns", `x DESC`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, err := sqlTokens(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := mentions(toks, []string{"c", "d", "desc"}); !slices.Equal(got, tt.want) {
				t.Errorf("mentions = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestColumnRefs(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`CAST(n AS TEXT) <> text`, []string{"n", "text"}},
		{`CAST(CAST(a AS VARCHAR(10)) AS INTEGER) + b`, []string{"a", "b"}},
		{`key <> '' AND value IS NOT NULL`, []string{"key", "value"}},
		{`a NOT LIKE b ESCAPE c`, []string{"a", "b", "c"}},
		{`like LIKE glob`, []string{"like", "glob"}},
		{`t1.b <> '' AND main.t1."c" > 0 AND "t1"."d"`, []string{"b", "c", "d"}},
		{`t.key + x.desc`, []string{"key", "desc"}},
		{`a COLLATE nocase = b COLLATE "binary"`, []string{"a", "b"}},
		{`lower(a) || replace(b, 'x', 'y')`, []string{"a", "b"}},
		{`CASE key WHEN 1 THEN value ELSE action END`, []string{"key", "value", "action"}},
		{`left < right AND "end" > 0`, []string{"left", "right", "end"}},
		{`CURRENT_TIMESTAMP > at`, []string{"at"}},
		{`a IN (1, 2) AND b BETWEEN c AND d`, []string{"a", "b", "c", "d"}},
		{`true OR false`, []string{"true", "false"}},
		{`'a' = "b" AND x'00' <> [c]`, []string{"b", "c"}},
		{`a DESC`, []string{"a"}},
		{`a ISNULL OR b NOTNULL`, []string{"a", "b"}},
	}
	for _, tt := range tests {
		toks, err := sqlTokens(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := columnRefs(toks); !slices.Equal(got, tt.want) {
			t.Errorf("columnRefs(%s) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestIndexMentions(t *testing.T) {
	tests := []struct {
		sql  string
		want []string
	}{
		{`CREATE INDEX i ON t ('b')`, []string{"b"}},
		{`CREATE INDEX i ON t (a, 'b' DESC)`, []string{"a", "b"}},
		{`CREATE INDEX i ON t (a || 'b')`, []string{"a"}},
		{`CREATE INDEX i ON t (CAST(a AS TEXT)) WHERE key > 0`, []string{"a", "key"}},
		{`CREATE INDEX main.i ON "t" ("b" COLLATE nocase ASC)`, []string{"b"}},
	}
	for _, tt := range tests {
		d, err := parseIndexSQL(tt.sql)
		if err != nil {
			t.Fatal(err)
		}
		if got := indexMentions(d, []string{"a", "b", "key", "text", "nocase"}); !slices.Equal(got, tt.want) {
			t.Errorf("indexMentions(%s) = %q, want %q", tt.sql, got, tt.want)
		}
	}
}

func TestUnqualify(t *testing.T) {
	tests := []struct{ body, want string }{
		{`(a, CHECK (t1.a > 0))`, `(a, CHECK (a > 0))`},
		{`(a, CHECK (main.t1.a > 0 AND "T1"."a" < 9))`, `(a, CHECK (a > 0 AND "a" < 9))`},
		{`(a, CHECK (t2.a > 0), b REFERENCES t1 (a))`, `(a, CHECK (t2.a > 0), b REFERENCES t1 (a))`},
		{`(a, CHECK ('t1.a' <> t1))`, `(a, CHECK ('t1.a' <> t1))`},
	}
	for _, tt := range tests {
		if got := unqualify(tt.body, "t1"); got != tt.want {
			t.Errorf("unqualify(%s) = %s, want %s", tt.body, got, tt.want)
		}
	}
}

func TestInMain(t *testing.T) {
	tests := []struct{ in, kind, want string }{
		{`CREATE INDEX i ON t (a)`, "INDEX", `CREATE INDEX main.i ON t (a)`},
		{`CREATE UNIQUE INDEX IF NOT EXISTS "i" ON t (a)`, "INDEX", `CREATE UNIQUE INDEX IF NOT EXISTS main."i" ON t (a)`},
		{`CREATE INDEX main.i ON t (a)`, "INDEX", `CREATE INDEX main.i ON t (a)`},
		{`CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END`, "TRIGGER", `CREATE TRIGGER main.tr AFTER INSERT ON t BEGIN SELECT 1; END`},
	}
	for _, tt := range tests {
		if got := inMain(tt.in, tt.kind); got != tt.want {
			t.Errorf("inMain(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	ons := []struct{ in, want string }{
		{`CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END`, `CREATE TRIGGER tr AFTER INSERT ON main.t BEGIN SELECT 1; END`},
		{`CREATE TRIGGER tr BEFORE UPDATE OF a, b ON "t" BEGIN SELECT 1; END`, `CREATE TRIGGER tr BEFORE UPDATE OF a, b ON main."t" BEGIN SELECT 1; END`},
		{`CREATE TRIGGER tr AFTER DELETE ON main.t BEGIN SELECT 1; END`, `CREATE TRIGGER tr AFTER DELETE ON main.t BEGIN SELECT 1; END`},
	}
	for _, tt := range ons {
		if got := triggerOnMain(tt.in); got != tt.want {
			t.Errorf("triggerOnMain(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
