package sqlite

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCreateTableRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		sql     string
		columns []string
		cons    int // table constraints
		wr, st  bool
	}{
		{name: "plain", sql: `CREATE TABLE t(a, b)`, columns: []string{"a", "b"}},
		{
			name: "quoting and comments",
			sql: "CREATE TABLE \"we\"\"ird\" (\n  \"order\" INTEGER PRIMARY KEY, -- the key\n  `my col` TEXT COLLATE NOCASE DEFAULT 'it''s',\n" +
				"  [x y] VARCHAR(10, 2) /* a (comment) */ CHECK ([x y] <> ')'),\n  'q' DEFAULT -1\n)",
			columns: []string{"order", "my col", "x y", "q"},
		},
		{
			name:    "constraints and options",
			sql:     `CREATE TABLE t(a INT NOT NULL ON CONFLICT FAIL, b AS (a * (2 + 1)) STORED, c REFERENCES p(id) ON DELETE SET NULL NOT DEFERRABLE, CONSTRAINT pk PRIMARY KEY (a DESC, c), UNIQUE(b) CHECK (a > 0), FOREIGN KEY (c) REFERENCES p) WITHOUT ROWID, STRICT`,
			columns: []string{"a", "b", "c"},
			cons:    4, // UNIQUE and CHECK share an element: SQLite lets the comma be left out
			wr:      true,
			st:      true,
		},
		{
			name:    "defaults",
			sql:     `CREATE TABLE t(a DEFAULT CURRENT_TIMESTAMP, b DEFAULT (strftime('%s', 'now')) NOT NULL, c DEFAULT x'00ff', d GENERATED ALWAYS AS (a || ',' || b) VIRTUAL)`,
			columns: []string{"a", "b", "c", "d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseCreateTable(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range d.columns() {
				names = append(names, c.name)
			}
			if !slices.Equal(names, tt.columns) {
				t.Errorf("columns = %q, want %q", names, tt.columns)
			}
			n := 0
			for _, e := range d.elems {
				n += len(e.cons)
			}
			if n != tt.cons {
				t.Errorf("table constraints = %d, want %d", n, tt.cons)
			}
			if d.withoutRowid != tt.wr || d.strict != tt.st {
				t.Errorf("without rowid, strict = %v, %v; want %v, %v", d.withoutRowid, d.strict, tt.wr, tt.st)
			}
			i := strings.Index(tt.sql, d.gap+"(")
			if got, want := d.body(), tt.sql[i:]; got != want {
				t.Errorf("body() =\n%s\nwant\n%s", got, want)
			}
			for _, e := range d.elems {
				e.dirty = true
			}
			if _, err := parseCreateTable("CREATE TABLE x" + d.body()); err != nil {
				t.Errorf("regenerated text does not parse: %v\n%s", err, d.body())
			}
		})
	}
}

func TestParseCreateTableErrors(t *testing.T) {
	tests := []struct{ name, sql string }{
		{"unterminated quote", `CREATE TABLE t(a "b)`},
		{"unbalanced", `CREATE TABLE t(a CHECK (a > 0)`},
		{"unknown constraint", `CREATE TABLE t(a INT FOO BAR BAZ NOT)`},
		{"no columns", `CREATE TABLE t(PRIMARY KEY (a))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseCreateTable(tt.sql); err == nil {
				t.Errorf("parseCreateTable(%q) succeeded", tt.sql)
			}
		})
	}
}

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
