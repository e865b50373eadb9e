package backup

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/strata-go/strata/internal/redact"
)

// pgConn is what the PostgreSQL tools need from a DSN: a libpq connection
// string without the password, the password, and the database.
type pgConn struct {
	conninfo string
	password string
	dbname   string
}

// libpqKeywords are the connection parameters libpq understands and that
// may appear on a command line; pgx's own (pool sizes, statement caching,
// runtime parameters) are dropped, and so is sslpassword, a secret.
var libpqKeywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true,
	"passfile": true, "channel_binding": true, "connect_timeout": true,
	"client_encoding": true, "options": true, "application_name": true,
	"fallback_application_name": true, "keepalives": true, "keepalives_idle": true,
	"keepalives_interval": true, "keepalives_count": true, "tcp_user_timeout": true,
	"gssencmode": true, "sslmode": true, "requiressl": true, "sslcompression": true,
	"sslcert": true, "sslkey": true, "sslcertmode": true,
	"sslrootcert": true, "sslcrl": true, "sslcrldir": true, "sslsni": true,
	"requirepeer": true, "ssl_min_protocol_version": true, "ssl_max_protocol_version": true,
	"krbsrvname": true, "gsslib": true, "gssdelegation": true, "service": true,
	"target_session_attrs": true, "load_balance_hosts": true, "require_auth": true,
}

// parsePostgresDSN reads a pgx/libpq DSN, URL or keyword/value form.
func parsePostgresDSN(dsn string) (pgConn, error) {
	params := map[string]string{}
	var password string
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		// url.Parse's errors quote the DSN or pieces of it (a port that
		// is the start of a password with "#" or "?" in it): say only
		// what is wrong, with the DSN redacted.
		red, secrets := redact.DSN(dsn)
		u, err := url.Parse(dsn)
		if err != nil {
			return pgConn{}, fmt.Errorf("parse PostgreSQL DSN %s: not a valid URL; characters such as @ : / ? # %% in the password must be percent-encoded", red)
		}
		if u.User != nil {
			params["user"] = u.User.Username()
			password, _ = u.User.Password()
		}
		// A "?", "#" or "/" in the password ends it early for url.Parse,
		// which then reads the rest as the host, path or query.
		if len(secrets) > 0 && !strings.Contains(dsn, "password=") {
			if want := secrets[len(secrets)-1]; password != want {
				return pgConn{}, fmt.Errorf("parse PostgreSQL DSN %s: characters such as / ? # %% in the password must be percent-encoded", red)
			}
		}
		if u.Host != "" {
			var hosts, ports []string
			for _, hp := range strings.Split(u.Host, ",") {
				h, p, err := net.SplitHostPort(hp)
				if err != nil { // no port
					h, p = strings.Trim(hp, "[]"), ""
				}
				hosts, ports = append(hosts, h), append(ports, p)
			}
			params["host"] = strings.Join(hosts, ",")
			if strings.Join(ports, "") != "" {
				for i, p := range ports {
					if p == "" {
						ports[i] = "5432"
					}
				}
				params["port"] = strings.Join(ports, ",")
			}
		}
		if db := strings.TrimPrefix(u.Path, "/"); db != "" {
			params["dbname"] = db
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return pgConn{}, fmt.Errorf("parse PostgreSQL DSN query: %w", err)
		}
		for k, vs := range q {
			params[k] = vs[len(vs)-1]
		}
	} else {
		kv, err := parseKeywordValue(dsn)
		if err != nil {
			return pgConn{}, err
		}
		params = kv
	}
	if p, ok := params["password"]; ok {
		password = p
	}
	var b strings.Builder
	keys := make([]string, 0, len(params))
	for k := range params {
		if libpqKeywords[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + quoteConnValue(params[k]))
	}
	return pgConn{conninfo: b.String(), password: password, dbname: params["dbname"]}, nil
}

// parseKeywordValue parses libpq's keyword/value connection strings:
// key=value pairs separated by space, values optionally single-quoted, with
// backslash escapes.
func parseKeywordValue(s string) (map[string]string, error) {
	out := map[string]string{}
	i := 0
	skip := func() {
		for i < len(s) && unicode.IsSpace(rune(s[i])) {
			i++
		}
	}
	for {
		skip()
		if i >= len(s) {
			return out, nil
		}
		start := i
		for i < len(s) && s[i] != '=' && !unicode.IsSpace(rune(s[i])) {
			i++
		}
		key := s[start:i]
		skip()
		if i >= len(s) || s[i] != '=' {
			return nil, fmt.Errorf("parse PostgreSQL DSN: missing \"=\" after %q", key)
		}
		i++
		skip()
		var v strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				i++
				if c == '\\' && i < len(s) {
					v.WriteByte(s[i])
					i++
					continue
				}
				if c == '\'' {
					closed = true
					break
				}
				v.WriteByte(c)
			}
			if !closed {
				return nil, fmt.Errorf("parse PostgreSQL DSN: unterminated quoted value of %q", key)
			}
		} else {
			for i < len(s) && !unicode.IsSpace(rune(s[i])) {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				v.WriteByte(s[i])
				i++
			}
		}
		out[key] = v.String()
	}
}

func quoteConnValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// myConn is what the MySQL tools need from a go-sql-driver DSN.
type myConn struct {
	user, password string
	network        string // "tcp" or "unix"
	host, port     string // tcp
	socket         string // unix
	dbname         string
	tls            string // the tls parameter: "", "true", "false", "skip-verify", "preferred"
	timeout        string // connect timeout, seconds
}

// parseMySQLDSN reads a go-sql-driver/mysql DSN:
// [user[:password]@][net[(addr)]]/dbname[?param=value&...].
func parseMySQLDSN(dsn string) (myConn, error) {
	var c myConn
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 {
		return c, errors.New(`parse MySQL DSN: no "/" before the database name`)
	}
	head, tail := dsn[:slash], dsn[slash+1:]
	dbname, query, _ := strings.Cut(tail, "?")
	var err error
	if c.dbname, err = url.PathUnescape(dbname); err != nil {
		return c, fmt.Errorf("parse MySQL DSN: database name: %w", err)
	}
	if at := strings.LastIndexByte(head, '@'); at >= 0 {
		c.user, c.password, _ = strings.Cut(head[:at], ":")
		head = head[at+1:]
	}
	c.network, c.host = head, ""
	var addr string
	if open := strings.IndexByte(head, '('); open >= 0 {
		if !strings.HasSuffix(head, ")") {
			return c, errors.New("parse MySQL DSN: address without closing parenthesis")
		}
		c.network, addr = head[:open], head[open+1:len(head)-1]
	}
	switch c.network {
	case "", "tcp", "tcp4", "tcp6":
		c.network = "tcp"
		if addr == "" {
			addr = "127.0.0.1:3306"
		}
		h, p, err := net.SplitHostPort(addr)
		if err != nil { // no port
			h, p = strings.Trim(addr, "[]"), "3306"
		}
		c.host, c.port = h, p
	case "unix":
		if addr == "" {
			addr = "/tmp/mysql.sock"
		}
		c.socket = addr
	default:
		return c, fmt.Errorf("parse MySQL DSN: network %q is not supported by the command-line tools (tcp or unix)", c.network)
	}
	for _, kv := range strings.Split(query, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if v, err = url.QueryUnescape(v); err != nil {
			return c, fmt.Errorf("parse MySQL DSN: parameter %s: %w", k, err)
		}
		switch k {
		case "tls":
			switch strings.ToLower(v) {
			case "true", "false", "skip-verify", "preferred", "1", "0":
				c.tls = strings.ToLower(v)
			default:
				return c, fmt.Errorf("parse MySQL DSN: tls=%s names a custom TLS config the command-line tools cannot use; give the tools an option file instead", v)
			}
		case "timeout":
			if d, err := parseSeconds(v); err == nil {
				c.timeout = d
			}
		}
	}
	if c.dbname == "" {
		return c, errors.New("parse MySQL DSN: no database name")
	}
	return c, nil
}

// parseSeconds turns a Go duration such as "30s" into whole seconds, at
// least 1.
func parseSeconds(v string) (string, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return "", err
	}
	return strconv.Itoa(max(1, int(d.Seconds()))), nil
}

// hideSecrets masks the passwords of dsn in err's message (a tool may
// quote its connection settings), keeping err's chain for errors.Is.
func hideSecrets(err error, dsn string) error {
	if err == nil {
		return nil
	}
	_, secrets := redact.DSN(dsn)
	return redact.SecretsError(err, secrets)
}
