// Package redact hides the passwords in DSNs and in messages that may
// quote them, for the dialects' Open errors and the command line.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces passwords in redacted DSNs and messages.
const Mask = "xxxxx"

var (
	// password=... in PostgreSQL's keyword/value form, quoted or not.
	keywordPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']\S*)`)
	// password-like query parameters of URL DSNs.
	queryPassword = regexp.MustCompile(`(?i)([?&](?:password|passwd|pwd|pass)=)([^&#]*)`)
)

// DSN returns dsn with its password replaced by [Mask], and the passwords
// it found, raw and decoded, in every form the built-in dialects accept:
// URLs (postgres://user:pass@host/db, mysql://...), with a password query
// parameter too, PostgreSQL's keyword/value form (password=...), and the
// MySQL driver's user:pass@tcp(host)/db. A DSN without a password is
// returned unchanged, with no secrets.
func DSN(dsn string) (string, []string) {
	var secrets []string
	out := dsn
	if scheme, rest, ok := strings.Cut(dsn, "://"); ok && !strings.ContainsAny(scheme, "/@ ") {
		authority, query, hasQuery := strings.Cut(rest, "?")
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			if user, pass, ok := strings.Cut(authority[:at], ":"); ok && pass != "" {
				secrets = append(secrets, pass)
				if dec, err := url.PathUnescape(pass); err == nil && dec != pass {
					secrets = append(secrets, dec)
				}
				authority = user + ":" + Mask + authority[at:]
			}
		}
		out = scheme + "://" + authority
		if hasQuery {
			out += "?" + query
		}
	} else if keywordPassword.MatchString(dsn) {
		for _, m := range keywordPassword.FindAllStringSubmatch(dsn, -1) {
			v := m[2]
			secrets = append(secrets, v)
			if len(v) >= 2 && v[0] == '\'' {
				secrets = append(secrets, strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(v[1:len(v)-1]))
			}
		}
		out = keywordPassword.ReplaceAllString(dsn, "${1}"+Mask)
	} else {
		// The MySQL driver's form: [user[:password]@][net[(addr)]]/dbname[?params],
		// also when the slash is missing (an invalid DSN the error quotes).
		head := dsn
		if slash := strings.LastIndex(dsn, "/"); slash >= 0 {
			head = dsn[:slash]
		}
		if at := strings.LastIndex(head, "@"); at >= 0 {
			if user, pass, ok := strings.Cut(head[:at], ":"); ok && pass != "" {
				secrets = append(secrets, pass)
				out = user + ":" + Mask + dsn[at:]
			}
		}
	}
	for _, m := range queryPassword.FindAllStringSubmatch(out, -1) {
		if m[2] == "" || m[2] == Mask {
			continue
		}
		secrets = append(secrets, m[2])
		if dec, err := url.QueryUnescape(m[2]); err == nil && dec != m[2] {
			secrets = append(secrets, dec)
		}
	}
	out = queryPassword.ReplaceAllStringFunc(out, func(s string) string {
		m := queryPassword.FindStringSubmatch(s)
		if m[2] == "" {
			return s
		}
		return m[1] + Mask
	})
	return out, secrets
}

// Secrets returns msg with every secret in it replaced by [Mask].
func Secrets(msg string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, Mask)
		}
	}
	return msg
}
