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
