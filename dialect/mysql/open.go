package mysql

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/strata-go/strata/backup"
	"github.com/strata-go/strata/internal/redact"
)

// Open returns a handle to the MySQL or MariaDB database dsn names, in
// either form [DriverDSN] accepts: the driver's
// user:pass@tcp(host:3306)/db?params or a URL
// mysql://user:pass@host:3306/db?params. The DSN is used as given: Open
// adds no parameters.
//
// Like [sql.Open], Open only checks the DSN and does not connect; call
// PingContext to. An empty DSN is an error. Errors name the DSN with its
// password masked.
func (*Dialect) Open(dsn string) (*sql.DB, error) {
	if dsn == "" {
		return nil, errors.New("mysql: open: empty DSN")
	}
	driverDSN, err := DriverDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg, err := gomysql.ParseDSN(driverDSN)
	if err != nil {
		return nil, newDSNError("open", dsn, err)
	}
	c, err := gomysql.NewConnector(cfg)
	if err != nil {
		return nil, newDSNError("open", dsn, err)
	}
	return sql.OpenDB(c), nil
}

// DriverDSN returns dsn in the form go-sql-driver/mysql takes,
// user:pass@tcp(host:port)/db?params, as database/sql, [Dialect.Open] and
// the backup tools need it. A URL
//
//	mysql://user:pass@host:port/db?params   (or mariadb://...)
//
// becomes user:pass@tcp(host:port)/db?params, with the user and password
// unescaped, port 3306 when the URL gives none, the query unchanged, and
// no address (the driver's default, 127.0.0.1:3306) when the URL has no
// host. Any other dsn is returned unchanged, unchecked. Errors show the URL
// with its password masked.
func DriverDSN(dsn string) (string, error) {
	if !isURL(dsn) {
		return dsn, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// url.Error repeats the whole URL, password and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", newDSNError("parse URL", dsn, err)
	}
	var b strings.Builder
	if u.User != nil {
		b.WriteString(u.User.Username())
		if p, ok := u.User.Password(); ok {
			b.WriteString(":" + p)
		}
		b.WriteString("@")
	}
	host := u.Host
	if host != "" && u.Port() == "" {
		host += ":3306"
	}
	if host != "" {
		b.WriteString("tcp(" + host + ")")
	}
	b.WriteString("/" + strings.TrimPrefix(u.Path, "/"))
	if u.RawQuery != "" {
		b.WriteString("?" + u.RawQuery)
	}
	return b.String(), nil
}

// BackuperFor returns the [backup.MySQL] backuper of the database dsn
// names, in either form [DriverDSN] accepts (the client tools read the
// driver's form).
func (*Dialect) BackuperFor(dsn string) (backup.Backuper, error) {
	driverDSN, err := DriverDSN(dsn)
	if err != nil {
		return nil, err
	}
	return backup.NewMySQL(driverDSN), nil
}

// BackupHint returns how to build the backuper of [Dialect.BackuperFor].
func (*Dialect) BackupHint() string { return "backup.NewMySQL(dsn)" }

// isURL reports whether dsn is a mysql:// or mariadb:// URL.
func isURL(dsn string) bool {
	for _, p := range []string{"mysql://", "mariadb://"} {
		if len(dsn) >= len(p) && strings.EqualFold(dsn[:len(p)], p) {
			return true
		}
	}
	return false
}

// newDSNError returns an error about a DSN whose text shows the DSN with
// its password masked; Unwrap reaches the cause.
func newDSNError(op, dsn string, err error) error {
	redacted, secrets := redact.DSN(dsn)
	return redact.Error(fmt.Sprintf("mysql: %s %s: %s", op, redacted, redact.Secrets(err.Error(), secrets)), err)
}
