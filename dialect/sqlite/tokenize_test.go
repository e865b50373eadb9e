package sqlite

import (
	"slices"
	"testing"
)

func TestSQLTokens(t *testing.T) {
	type tok struct {
		kind sqlTokKind
		text string
	}
	tests := []struct {
		name string
		sql  string
		want []tok
	}{
		{"words and punctuation", `CREATE TABLE t(a,b);`, []tok{{tkWord, "CREATE"}, {tkWord, "TABLE"}, {tkWord, "t"},
			{tkPunct, "("}, {tkWord, "a"}, {tkPunct, ","}, {tkWord, "b"}, {tkPunct, ")"}, {tkPunct, ";"}}},
		{"quotes with doubled quotes", "\"a\"\"b\" `c``d` [e f] 'it''s'", []tok{{tkQuoted, `"a""b"`}, {tkQuoted, "`c``d`"},
			{tkQuoted, "[e f]"}, {tkString, "'it''s'"}}},
		{"comments", "a -- to the end of the line\nb /* a (comment) */ c /* unterminated", []tok{{tkWord, "a"}, {tkWord, "b"}, {tkWord, "c"}}},
		{"blobs", `x'00ff' X'AB' xy`, []tok{{tkBlob, `x'00ff'`}, {tkBlob, `X'AB'`}, {tkWord, "xy"}}},
		{"numbers", `12 1.5e3 1e-3 .5 0x1F`, []tok{{tkNumber, "12"}, {tkNumber, "1.5e3"}, {tkNumber, "1e-3"},
			{tkNumber, ".5"}, {tkNumber, "0x1F"}}},
		{"a hexadecimal number takes no exponent", `0x1E+1`, []tok{{tkNumber, "0x1E"}, {tkPunct, "+"}, {tkNumber, "1"}}},
		{"operators a character each", `a<=b||c`, []tok{{tkWord, "a"}, {tkPunct, "<"}, {tkPunct, "="}, {tkWord, "b"},
			{tkPunct, "|"}, {tkPunct, "|"}, {tkWord, "c"}}},
		{"identifiers", `_a1$ é`, []tok{{tkWord, "_a1$"}, {tkWord, "é"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, err := sqlTokens(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			var got []tok
			for _, x := range toks {
				got = append(got, tok{x.kind, x.text})
				if tt.sql[x.pos:x.end] != x.text {
					t.Errorf("token %q at %d-%d, which holds %q", x.text, x.pos, x.end, tt.sql[x.pos:x.end])
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("tokens = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSQLTokensUnterminated(t *testing.T) {
	tests := []struct{ name, sql, last string }{
		{"double quote", `a "b c`, `"b c`},
		{"single quote", `a 'it''s`, `'it''s`},
		{"backtick", "a `b", "`b"},
		{"bracket", `a [b c`, `[b c`},
		{"blob", `a x'00`, `x'00`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if toks, err := sqlTokens(tt.sql); err == nil || toks != nil {
				t.Errorf("sqlTokens = %v, %v; want an error", toks, err)
			}
			toks, err := lexSQL(tt.sql)
			if err == nil {
				t.Error("lexSQL reports no error")
			}
			if len(toks) != 2 || toks[1].text != tt.last {
				t.Errorf("lexSQL tokens = %v, want a and %s", toks, tt.last)
			}
		})
	}
}

func TestFoldEq(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"abc", "ABC", true},
		{"é", "É", false},
		{"k", "\u212a", false},
		{"s", "\u017f", false},
		{"\xff", "\xfe", false},
		{"\xff", "\xff", true},
		{"a\xffB", "A\xffb", true},
		{"key", "KEY", true},
	}
	for _, tt := range tests {
		if got := foldEq(tt.a, tt.b); got != tt.want {
			t.Errorf("foldEq(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
	if got := lowerASCII("ÉaBK\u212a"); got != "Éabk\u212a" {
		t.Errorf("lowerASCII = %q", got)
	}
	if !(sqlToken{kind: tkWord, text: "key"}).is("KEY") || (sqlToken{kind: tkWord, text: "\u212aEY"}).is("KEY") {
		t.Error("is folds beyond ASCII")
	}
}
