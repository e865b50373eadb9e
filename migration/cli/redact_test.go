package cli

import (
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	tests := []struct {
		name, dsn, text, want string
	}{
		{"whole dsn", "postgres://bob:s3cret@h/app", `open "postgres://bob:s3cret@h/app": refused`,
			`open "postgres://bob:xxxxx@h/app": refused`},
		{"bare password", "bob:s3cret@tcp(h)/app", "access denied for bob using s3cret", "access denied for bob using xxxxx"},
		{"escaped password", "postgres://bob:p%40ss%2Fw@h/app", "pass p@ss/w or p%40ss%2Fw", "pass xxxxx or xxxxx"},
		{"query-escaped password", "postgres://bob:a+b%20c@h/app", "a+b c a%2Bb+c", "xxxxx xxxxx"},
		{"short password masked in the dsn only", "postgres://bob:ab@h/app", "postgres://bob:ab@h/app about",
			"postgres://bob:xxxxx@h/app about"},
		{"no password", "app.db", "open app.db", "open app.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r redactor
			r.add(tt.dsn)
			if got := r.apply(tt.text); got != tt.want {
				t.Errorf("apply(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestRedactorSeveralDSNs(t *testing.T) {
	var r redactor
	r.add("postgres://bob:first-secret@h/app")
	r.add("bob:second-secret@tcp(h)/app")
	got := r.apply("first-secret second-secret postgres://bob:first-secret@h/app")
	if want := "xxxxx xxxxx postgres://bob:xxxxx@h/app"; got != want {
		t.Errorf("apply = %q, want %q", got, want)
	}
}

// TestCannotTellRedacted: the error for a DSN of no known form shows it
// without its password, whatever characters the password holds.
func TestCannotTellRedacted(t *testing.T) {
	for _, dsn := range []string{
		"pgsql://bob:s3?cr#et@h/app",
		"bob:s3?cr#et@h:3306/app",
		"odbc://bob:s3?cr#et@h/app?x=1",
		"bob:s3?cr#et@somewhere",
	} {
		_, err := resolveDialect(dsn, "")
		if err == nil {
			t.Errorf("resolveDialect(%q): no error", dsn)
			continue
		}
		for _, piece := range []string{"s3", "cr#et", "?cr"} {
			if strings.Contains(err.Error(), piece) {
				t.Errorf("resolveDialect(%q) = %q shows the password", dsn, err)
			}
		}
	}
}
