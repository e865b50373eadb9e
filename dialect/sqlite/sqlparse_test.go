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

// describe sums up the constraints of d, one item a line.
func describe(d *tableDef) string {
	var lines []string
	for _, e := range d.elems {
		var words []string
		cons := e.cons
		if e.col != nil {
			words = append(words, e.col.name+" "+e.col.typ+":")
			cons = e.col.cons
		}
		for _, k := range cons {
			w := k.kind
			if k.name != "" {
				w += " named " + k.name
			}
			if k.cols != nil {
				w += " " + strings.Join(k.cols, ",")
			}
			if k.parent != "" {
				w += " to " + k.parent + "(" + strings.Join(k.parentCols, ",") + ")"
			}
			if k.onDelete != "" {
				w += " on delete " + k.onDelete
			}
			if k.onUpdate != "" {
				w += " on update " + k.onUpdate
			}
			if k.deferrable {
				w += " deferrable"
			}
			if k.deferred {
				w += " deferred"
			}
			if k.collation != "" {
				w += " " + k.collation
			}
			if k.stored {
				w += " stored"
			}
			words = append(words, "["+w+"]")
		}
		lines = append(lines, strings.Join(words, " "))
	}
	return strings.Join(lines, "\n")
}

func TestParseCreateTableConstraints(t *testing.T) {
	tests := []struct{ name, sql, want string }{
		{
			name: "foreign key clauses",
			sql: `CREATE TABLE t(a REFERENCES p(id) ON DELETE SET NULL on update no action DEFERRABLE INITIALLY DEFERRED,
				b, FOREIGN KEY (b) REFERENCES "q" MATCH SIMPLE ON UPDATE CASCADE NOT DEFERRABLE)`,
			want: "a : [REFERENCES to p(id) on delete SET NULL on update NO ACTION deferrable deferred]\n" +
				"b :\n[FOREIGN KEY b to q() on update CASCADE]",
		},
		{
			name: "the last deferrable clause counts",
			sql:  `CREATE TABLE t(a REFERENCES p DEFERRABLE INITIALLY DEFERRED DEFERRABLE)`,
			want: "a : [REFERENCES to p() deferrable]",
		},
		{
			name: "ON INSERT, which SQLite accepts and ignores",
			sql:  `CREATE TABLE t(a REFERENCES p ON INSERT CASCADE ON DELETE RESTRICT)`,
			want: "a : [REFERENCES to p() on delete RESTRICT]",
		},
		{
			name: "a CONSTRAINT name that names nothing",
			sql:  `CREATE TABLE t(a INT CONSTRAINT x CONSTRAINT y NOT NULL CONSTRAINT z, CONSTRAINT w)`,
			want: "a INT: [CONSTRAINT named x] [NOT NULL named y] [CONSTRAINT named z]\n[CONSTRAINT named w]",
		},
		{
			name: "collations and generated columns",
			sql:  "CREATE TABLE t(a TEXT COLLATE \"nocase\", b AS (a || 'x') STORED, c GENERATED ALWAYS AS (1) VIRTUAL)",
			want: "a TEXT: [COLLATE nocase]\nb : [GENERATED stored]\nc : [GENERATED]",
		},
		{
			name: "table constraints without commas between them",
			sql:  `CREATE TABLE t(a, b, UNIQUE (a) CHECK (a > 0) CONSTRAINT pk PRIMARY KEY (b, a))`,
			want: "a :\nb :\n[UNIQUE a] [CHECK] [PRIMARY KEY named pk b,a]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseCreateTable(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(d); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			i := strings.Index(tt.sql, d.gap+"(")
			if got, want := d.body(), tt.sql[i:]; got != want {
				t.Errorf("body() =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestParseTableGoesOn checks that an item the parser cannot make sense of
// leaves the others described, which the inspector relies on.
func TestParseTableGoesOn(t *testing.T) {
	sql := `CREATE TABLE t(a REFERENCES p NOT NULL ESCAPE, b TEXT, , c INT FOO, d)`
	toks, err := sqlTokens(sql)
	if err != nil {
		t.Fatal(err)
	}
	d := new(tableDef)
	if _, err := parseTable(sql, toks, d); err == nil || !strings.Contains(err.Error(), "ESCAPE") {
		t.Errorf("error %v, want the first: ESCAPE", err)
	}
	want := "a : [REFERENCES to p()] [NOT NULL]\nb TEXT:\nc INT FOO:\nd :"
	if got := describe(d); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := parseCreateTable(sql); err == nil {
		t.Error("parseCreateTable succeeded")
	}
}

func TestParseIndex(t *testing.T) {
	tests := []struct {
		name, sql string
		unique    bool
		parts     []string
		where     string
	}{
		{"columns", `CREATE INDEX i ON t (a, "b c" COLLATE NOCASE DESC)`, false, []string{"a", `"b c" COLLATE NOCASE DESC`}, ""},
		{"expressions", `CREATE UNIQUE INDEX "on" ON main.t(lower(a), (b + 1)) WHERE a > 0 AND b IS NOT NULL`, true,
			[]string{"lower(a)", "(b + 1)"}, "a > 0 AND b IS NOT NULL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, err := sqlTokens(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			d, err := parseIndex(toks)
			if err != nil {
				t.Fatal(err)
			}
			text := func(toks []sqlToken) string {
				if len(toks) == 0 {
					return ""
				}
				return tt.sql[toks[0].pos:toks[len(toks)-1].end]
			}
			var parts []string
			for _, p := range d.parts {
				parts = append(parts, text(p))
			}
			if d.unique != tt.unique || !slices.Equal(parts, tt.parts) || text(d.where) != tt.where {
				t.Errorf("unique %v, parts %q, where %q; want %v, %q, %q", d.unique, parts, text(d.where), tt.unique, tt.parts, tt.where)
			}
			if !d.tail[0].punct("(") {
				t.Errorf("tail starts with %q", d.tail[0].text)
			}
		})
	}
	toks, _ := sqlTokens(`CREATE INDEX i`)
	if _, err := parseIndex(toks); err == nil {
		t.Error("parseIndex of an index on no table succeeded")
	}
}
