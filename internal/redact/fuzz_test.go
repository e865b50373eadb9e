package redact

import (
	"net/url"
	"strings"
	"testing"
)

// dsnForm writes a DSN around a password, as the dialects accept it: the
// password already encoded for the form.
type dsnForm struct {
	name   string
	encode func(pw string) string
	build  func(enc string) string
}

func kvQuote(pw string) string {
	if pw != "" && !strings.ContainsAny(pw, " '\\\t") {
		return pw
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "'"
}

var dsnForms = []dsnForm{
	{"postgres URL, escaped", func(pw string) string { return url.UserPassword("bob", pw).String()[len("bob:"):] },
		func(e string) string { return "postgres://bob:" + e + "@db.example:5432/app?sslmode=disable" }},
	{"postgres URL, raw", func(pw string) string { return pw },
		func(e string) string { return "postgres://bob:" + e + "@db.example:5432/app?sslmode=disable" }},
	{"postgresql URL, several hosts", func(pw string) string { return url.PathEscape(pw) },
		func(e string) string { return "postgresql://bob:" + e + "@h1:5432,h2:5433/app" }},
	{"postgres URL, password parameter", func(pw string) string { return url.QueryEscape(pw) },
		func(e string) string { return "postgres://db.example/app?user=bob&password=" + e + "&sslmode=disable" }},
	{"keyword/value", kvQuote,
		func(e string) string { return "host=db.example port=5432 user=bob password=" + e + " dbname=app" }},
	{"keyword/value, spaced and last", kvQuote,
		func(e string) string { return "host=db.example user=bob password = " + e }},
	{"MySQL driver", func(pw string) string { return pw },
		func(e string) string { return "bob:" + e + "@tcp(127.0.0.1:3306)/app?parseTime=true&loc=UTC" }},
	{"MySQL driver, socket", func(pw string) string { return pw },
		func(e string) string { return "bob:" + e + "@unix(/run/mysqld/mysqld.sock)/app" }},
	{"MySQL driver, no address", func(pw string) string { return pw },
		func(e string) string { return "bob:" + e + "@/app" }},
	{"mysql URL, escaped", func(pw string) string { return url.UserPassword("bob", pw).String()[len("bob:"):] },
		func(e string) string { return "mysql://bob:" + e + "@db.example:3306/app" }},
	{"mysql URL, raw", func(pw string) string { return pw },
		func(e string) string { return "mysql://bob:" + e + "@db.example:3306/app" }},
}

// FuzzDSN: whatever printable ASCII password a DSN holds, in every form,
// the redacted DSN is the DSN with Mask in the password's place, and the
// secrets include the password itself, so messages quoting it are masked.
func FuzzDSN(f *testing.F) {
	for _, s := range []string{"s3cret", "p#ss", "p?ss", "a?b#c", "p@ss", "x/y", "it's", `back\slash`, "a b", "a=b",
		"@tcp(h)/", "//x", "%41", "password=x", ":", "'", "?", "#", "&", "@"} {
		f.Add(s)
	}
	// Every printable ASCII character, alone and all together.
	var all strings.Builder
	for c := byte(' '); c <= '~'; c++ {
		f.Add("p" + string(c) + "w")
		all.WriteByte(c)
	}
	f.Add(all.String())
	f.Fuzz(func(t *testing.T, pw string) {
		if pw == "" || strings.ContainsFunc(pw, func(r rune) bool { return r < ' ' || r > '~' }) {
			return
		}
		for _, form := range dsnForms {
			enc := form.encode(pw)
			dsn := form.build(enc)
			want := form.build(Mask)
			got, secrets := DSN(dsn)
			if got != want {
				t.Errorf("%s: DSN(%q) = %q, want %q", form.name, dsn, got, want)
			}
			msg := "cannot connect with " + dsn + ` (password "` + pw + `")`
			// Mask, not the password, may be what a match found.
			if red := Secrets(msg, secrets); strings.Contains(strings.ReplaceAll(red, Mask, "\x00"), pw) {
				t.Errorf("%s: Secrets(%q, %q) = %q still shows the password", form.name, msg, secrets, red)
			}
		}
	})
}
