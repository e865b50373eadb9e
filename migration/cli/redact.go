package cli

import (
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/strata-go/strata/internal/redact"
)

// RedactDSN returns dsn with its password replaced by "xxxxx", in every form
// the CLI accepts: URLs (postgres://user:pass@host/db, mysql://...), with a
// password query parameter too, PostgreSQL's keyword/value form
// (password=...), and the MySQL driver's user:pass@tcp(host)/db. A DSN
// without a password is returned unchanged.
func RedactDSN(dsn string) string {
	s, _ := redact.DSN(dsn)
	return s
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
	red, secrets := redact.DSN(dsn)
	r.mu.Lock()
	defer r.mu.Unlock()
	if red != dsn {
		r.dsns = append(r.dsns, dsn, red)
	}
	for _, s := range secrets {
		if len(s) >= minSecret {
			r.secrets = append(r.secrets, s, redact.Mask)
			if e := url.QueryEscape(s); e != s {
				r.secrets = append(r.secrets, e, redact.Mask)
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
