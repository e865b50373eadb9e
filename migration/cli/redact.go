package cli

import (
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Mask replaces passwords in redacted DSNs and output.
const Mask = "xxxxx"

var (
	// password=... in PostgreSQL's keyword/value form, quoted or not.
	keywordPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']\S*)`)
	// password-like query parameters of URL DSNs.
	queryPassword = regexp.MustCompile(`(?i)([?&](?:password|passwd|pwd|pass)=)([^&#]*)`)
)

// RedactDSN returns dsn with its password replaced by [Mask], in every form
// the CLI accepts: URLs (postgres://user:pass@host/db, mysql://...), with a
// password query parameter too, PostgreSQL's keyword/value form
// (password=...), and the MySQL driver's user:pass@tcp(host)/db. A DSN
// without a password is returned unchanged.
func RedactDSN(dsn string) string {
	s, _ := redact(dsn)
	return s
}

// redact returns dsn redacted and the passwords it found, raw and decoded.
func redact(dsn string) (string, []string) {
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
	} else if slash := strings.LastIndex(dsn, "/"); slash >= 0 {
		// The MySQL driver's form: [user[:password]@][net[(addr)]]/dbname[?params].
		head := dsn[:slash]
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

// minSecret is the shortest password the CLI masks wherever it appears in
// output. Shorter ones are masked inside the DSN only: masking every "ab"
// in every message would make the output unreadable.
const minSecret = 3

// redactor replaces DSNs and their passwords in text.
type redactor struct {
	mu            sync.RWMutex
	dsns, secrets []string // old, new pairs
	r             *strings.Replacer
}

// add registers dsn: later output shows it redacted and never shows its
// password.
func (r *redactor) add(dsn string) {
	if dsn == "" {
		return
	}
	red, secrets := redact(dsn)
	r.mu.Lock()
	defer r.mu.Unlock()
	if red != dsn {
		r.dsns = append(r.dsns, dsn, red)
	}
	for _, s := range secrets {
		if len(s) >= minSecret {
			r.secrets = append(r.secrets, s, Mask)
			if e := url.QueryEscape(s); e != s {
				r.secrets = append(r.secrets, e, Mask)
			}
		}
	}
	if len(r.dsns)+len(r.secrets) > 0 {
		// Whole DSNs first: the replacer tries pairs in argument order.
		r.r = strings.NewReplacer(append(slices.Clone(r.dsns), r.secrets...)...)
	}
}

// apply returns s with the secrets replaced.
func (r *redactor) apply(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// redactWriter writes through a redactor. Every write is redacted on its
// own, so callers write whole lines.
type redactWriter struct {
	w   io.Writer
	red *redactor
}

func (w *redactWriter) Write(p []byte) (int, error) {
	s := w.red.apply(string(p))
	if _, err := io.WriteString(w.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}
