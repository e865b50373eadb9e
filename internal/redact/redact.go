// Package redact hides the passwords in DSNs and in messages that may
// quote them, for the dialects' Open errors, the backups' tool errors and
// the command line.
package redact

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mask replaces passwords in redacted DSNs and messages.
const Mask = "xxxxx"

var (
	// A URL scheme (RFC 3986) and "://".
	urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)
	// What follows the "@" of the MySQL driver's form: a network and an
	// optional address in parentheses, then "/" or the end.
	driverNet = regexp.MustCompile(`^[A-Za-z0-9]*(\([^()]*\))?(/|$)`)
	// password-like query parameters of URL DSNs. The value runs to the
	// next "&": a "#" in it may be part of the password.
	queryPassword = regexp.MustCompile(`(?i)([?&](?:password|passwd|pwd|pass)=)([^&]*)`)
)

// dsnSchemes are the URL schemes of the built-in dialects' DSNs.
var dsnSchemes = map[string]bool{"postgres": true, "postgresql": true, "mysql": true, "mariadb": true}

// DSN returns dsn with its password replaced by [Mask], and the passwords
// it found, raw and decoded, in every form the built-in dialects accept:
// URLs (postgres://user:pass@host/db, mysql://...), with a password query
// parameter too, PostgreSQL's keyword/value form (password=...), and the
// MySQL driver's user:pass@tcp(host)/db. A DSN without a password is
// returned unchanged, with no secrets.
//
// A password may hold any character, escaped or not: in a URL everything
// from the first ":" of the user information to the last "@" is masked,
// so an unescaped "@", "/", "?" or "#" in it does not end it early. Where a
// DSN is ambiguous, more is masked rather than less; but a MySQL driver DSN
// whose user is a URL scheme (postgres, mysql) and whose password starts
// with "//" is read as a URL.
func DSN(dsn string) (string, []string) {
	out, secrets, ok := "", []string(nil), false
	scheme := urlScheme.FindStringSubmatch(dsn)
	known := scheme != nil && dsnSchemes[strings.ToLower(scheme[1])]
	if known {
		out, secrets, ok = redactURL(dsn, len(scheme[0]))
		if !ok {
			out, ok = dsn, true
		}
	}
	if !ok {
		out, secrets, ok = redactDriver(dsn, true)
	}
	if !ok {
		out, secrets, ok = redactKeywords(dsn)
	}
	if !ok && scheme != nil {
		out, secrets, ok = redactURL(dsn, len(scheme[0]))
	}
	if !ok {
		out, secrets, ok = redactDriver(dsn, false)
	}
	if !ok {
		out = dsn
	}
	for _, m := range queryPassword.FindAllStringSubmatch(out, -1) {
		if m[2] == "" || m[2] == Mask {
			continue
		}
		secrets = appendDecoded(secrets, m[2], url.QueryUnescape)
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

// appendDecoded appends s and, if different, s decoded.
func appendDecoded(secrets []string, s string, decode func(string) (string, error)) []string {
	secrets = append(secrets, s)
	if dec, err := decode(s); err == nil && dec != s && dec != "" {
		secrets = append(secrets, dec)
	}
	return secrets
}

// redactURL masks the password of scheme://user:password@host...: from the
// first ":" of the user (which cannot hold one) to the last "@".
func redactURL(dsn string, start int) (string, []string, bool) {
	rest := dsn[start:]
	i := strings.IndexAny(rest, ":@/")
	if i < 0 || rest[i] != ':' {
		return "", nil, false
	}
	at := strings.LastIndex(rest, "@")
	if at <= i+1 {
		return "", nil, false
	}
	pass := rest[i+1 : at]
	return dsn[:start+i+1] + Mask + rest[at:], appendDecoded(nil, pass, url.PathUnescape), true
}

// redactDriver masks the password of the MySQL driver's
// [user[:password]@][net[(addr)]]/dbname[?params]: the "@" is the last one
// followed by a network, and the user ends at the first ":". Strictly, the
// user must not look like a keyword/value pair; otherwise (a DSN of no
// known form) any "@" ends the password, the last one first.
func redactDriver(dsn string, strict bool) (string, []string, bool) {
	for at := strings.LastIndex(dsn, "@"); at >= 0; at = strings.LastIndex(dsn[:at], "@") {
		if strict && !driverNet.MatchString(dsn[at+1:]) {
			continue
		}
		user, pass, ok := strings.Cut(dsn[:at], ":")
		if !ok || pass == "" || strict && strings.ContainsAny(user, " \t\r\n=") {
			return "", nil, false
		}
		return user + ":" + Mask + dsn[at:], []string{pass}, true
	}
	return "", nil, false
}

// redactKeywords masks the password values of libpq's keyword/value form:
// key = value pairs separated by white space, values single-quoted or
// not, with backslash escapes in either.
func redactKeywords(dsn string) (string, []string, bool) {
	var b strings.Builder
	var secrets []string
	found := false
	i := 0
	space := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' }
	for i < len(dsn) {
		// key
		for i < len(dsn) && space(dsn[i]) {
			b.WriteByte(dsn[i])
			i++
		}
		ks := i
		for i < len(dsn) && dsn[i] != '=' && !space(dsn[i]) {
			i++
		}
		key := dsn[ks:i]
		b.WriteString(key)
		for i < len(dsn) && space(dsn[i]) {
			b.WriteByte(dsn[i])
			i++
		}
		if i >= len(dsn) || dsn[i] != '=' {
			if found {
				b.WriteString(dsn[i:])
				return b.String(), secrets, true
			}
			return "", nil, false
		}
		b.WriteByte('=')
		i++
		for i < len(dsn) && space(dsn[i]) {
			b.WriteByte(dsn[i])
			i++
		}
		// value
		vs := i
		var val strings.Builder
		if i < len(dsn) && dsn[i] == '\'' {
			i++
			for i < len(dsn) && dsn[i] != '\'' {
				if dsn[i] == '\\' && i+1 < len(dsn) {
					i++
				}
				val.WriteByte(dsn[i])
				i++
			}
			if i < len(dsn) {
				i++ // closing quote
			}
		} else {
			for i < len(dsn) && !space(dsn[i]) {
				if dsn[i] == '\\' && i+1 < len(dsn) {
					i++
				}
				val.WriteByte(dsn[i])
				i++
			}
		}
		if strings.EqualFold(key, "password") {
			found = true
			raw := dsn[vs:i]
			if raw != "" {
				secrets = append(secrets, raw)
				if v := val.String(); v != raw && v != "" {
					secrets = append(secrets, v)
				}
				b.WriteString(Mask)
			}
			continue
		}
		b.WriteString(dsn[vs:i])
	}
	if !found {
		return "", nil, false
	}
	return b.String(), secrets, true
}

// Secrets returns msg with every secret in it replaced by [Mask].
func Secrets(msg string, secrets []string) string {
	// Longest first: a secret may contain another (its decoded form).
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, Mask)
		}
	}
	return msg
}
