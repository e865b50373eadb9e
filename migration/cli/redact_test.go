package cli

import (
	"strings"
	"testing"
)

func TestRedactDSN(t *testing.T) {
	tests := []struct {
		name, dsn, want string
		secrets         []string
	}{
		{"postgres url", "postgres://bob:s3cret@db.example:5432/app?sslmode=disable",
			"postgres://bob:xxxxx@db.example:5432/app?sslmode=disable", []string{"s3cret"}},
		{"postgresql url with escaped password", "postgresql://bob:p%40ss%2Fw@h/app",
			"postgresql://bob:xxxxx@h/app", []string{"p%40ss%2Fw", "p@ss/w"}},
		{"url with unescaped at in password", "postgres://bob:p@ss@h/app", "postgres://bob:xxxxx@h/app", []string{"p@ss"}},
		{"url without password", "postgres://bob@h/app", "postgres://bob@h/app", nil},
		{"url password parameter", "postgres://h/app?user=bob&password=s3cret&sslmode=disable",
			"postgres://h/app?user=bob&password=xxxxx&sslmode=disable", []string{"s3cret"}},
		{"keyword form", "host=h user=bob password=s3cret dbname=app", "host=h user=bob password=xxxxx dbname=app", []string{"s3cret"}},
		{"keyword form quoted", `host=h password='s3 cr\'et' dbname=app`, "host=h password=xxxxx dbname=app",
			[]string{`'s3 cr\'et'`, "s3 cr'et"}},
		{"keyword form spaced", "host=h password = s3cret", "host=h password = xxxxx", []string{"s3cret"}},
		{"mysql driver form", "bob:s3cret@tcp(127.0.0.1:3306)/app?parseTime=true",
			"bob:xxxxx@tcp(127.0.0.1:3306)/app?parseTime=true", []string{"s3cret"}},
		{"mysql password with colon and at", "bob:s3:c@ret@tcp(h)/app", "bob:xxxxx@tcp(h)/app", []string{"s3:c@ret"}},
		{"mysql without password", "bob@tcp(h)/app", "bob@tcp(h)/app", nil},
		{"mysql url", "mysql://bob:s3cret@h:3306/app", "mysql://bob:xxxxx@h:3306/app", []string{"s3cret"}},
		{"sqlite path", "/var/lib/app/app.db", "/var/lib/app/app.db", nil},
		{"empty", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, secrets := redact(tt.dsn)
			if got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.dsn, got, tt.want)
			}
			if strings.Join(secrets, "|") != strings.Join(tt.secrets, "|") {
				t.Errorf("redact(%q) secrets = %q, want %q", tt.dsn, secrets, tt.secrets)
			}
			if RedactDSN(tt.dsn) != tt.want {
				t.Errorf("RedactDSN(%q) = %q, want %q", tt.dsn, RedactDSN(tt.dsn), tt.want)
			}
		})
	}
}

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
