package redact

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
)

func TestDSN(t *testing.T) {
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
		{"mysql without slash", "bob:s3cret@tcp(h)", "bob:xxxxx@tcp(h)", []string{"s3cret"}},
		{"mysql url", "mysql://bob:s3cret@h:3306/app", "mysql://bob:xxxxx@h:3306/app", []string{"s3cret"}},
		{"sqlite path", "/var/lib/app/app.db", "/var/lib/app/app.db", nil},
		{"empty", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, secrets := DSN(tt.dsn)
			if got != tt.want {
				t.Errorf("DSN(%q) = %q, want %q", tt.dsn, got, tt.want)
			}
			if strings.Join(secrets, "|") != strings.Join(tt.secrets, "|") {
				t.Errorf("DSN(%q) secrets = %q, want %q", tt.dsn, secrets, tt.secrets)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	_, secrets := DSN("postgresql://bob:p%40ss@h/app")
	got := Secrets(`connect to bob with "p@ss" (p%40ss) failed`, secrets)
	if want := `connect to bob with "xxxxx" (xxxxx) failed`; got != want {
		t.Errorf("Secrets = %q, want %q", got, want)
	}
}

func TestError(t *testing.T) {
	if Error("masked", nil) != nil {
		t.Error("Error(msg, nil) != nil")
	}
	if SecretsError(nil, []string{"s3cret"}) != nil {
		t.Error("SecretsError(nil) != nil")
	}
	cause := &os.PathError{Op: "open", Path: "/tmp/s3cret", Err: fs.ErrNotExist}
	err := Error("open /tmp/xxxxx: file does not exist", cause)
	if got, want := err.Error(), "open /tmp/xxxxx: file does not exist"; got != want {
		t.Errorf("Error = %q, want %q", got, want)
	}
	var pe *os.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe != cause {
		t.Errorf("Error(%v) does not unwrap to its cause", err)
	}

	err = SecretsError(cause, []string{"s3cret"})
	if got, want := err.Error(), "open /tmp/xxxxx: file does not exist"; got != want {
		t.Errorf("SecretsError = %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe != cause {
		t.Errorf("SecretsError(%v) does not unwrap to its cause", err)
	}
	if err := SecretsError(cause, []string{"other"}); err != error(cause) {
		t.Errorf("SecretsError without a secret in the text = %#v, want the cause itself", err)
	}
}
