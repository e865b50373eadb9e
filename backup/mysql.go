package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// MySQL backs MySQL and MariaDB databases up with mariadb-dump (or
// mysqldump) --single-transaction --routines --triggers, a consistent
// snapshot of InnoDB tables taken while the application keeps running, and
// restores them with the mariadb (or mysql) client. Use [NewMySQL].
//
// The password reaches the tools in an option file of mode 0600 in a
// private temporary directory (--defaults-extra-file), removed when the
// tool exits, never on the command line. The other connection settings
// from the DSN are passed as arguments, so that no option file (such as
// ~/.my.cnf) can point the tools at another server.
//
// MySQL cannot roll DDL back, so a restore is not atomic: after the
// checksum and the dump's completeness are checked, Restore drops every
// table, view, sequence and routine of the database, then loads the dump.
// Events are neither dumped nor dropped (dumping them needs the EVENT
// privilege). If the load fails half way, the database is incomplete: load the
// dump again.
type MySQL struct {
	// Dump and Client are the programs to run: a path, or a name to look
	// up in PATH. Empty (as NewMySQL leaves them) means mariadb-dump and
	// mariadb if installed, else mysqldump and mysql.
	Dump, Client string

	dsn string
}

var _ Backuper = (*MySQL)(nil)

// NewMySQL returns a backuper for the database the go-sql-driver/mysql
// DSN names (user:pass@tcp(host:3306)/db?params). Of the parameters, tls
// (true, skip-verify, preferred, false) and timeout are passed on to the
// tools. The DSN is checked when first used.
func NewMySQL(dsn string) *MySQL { return &MySQL{dsn: dsn} }

// MySQLExt is the extension of MySQL backup files.
const MySQLExt = ".sql"

const myPackage = "mariadb-client or default-mysql-client"

// dumpTrailer ends every complete dump.
const dumpTrailer = "-- Dump completed"

// dumpTool and clientTool resolve the programs to run, and report whether
// they are MariaDB's.
func (m *MySQL) dumpTool() (string, bool, error) {
	return pickTool(m.Dump, "set MySQL.Dump to its path", "mariadb-dump", "mysqldump")
}

func (m *MySQL) clientTool() (string, bool, error) {
	return pickTool(m.Client, "set MySQL.Client to its path", "mariadb", "mysql")
}

func pickTool(set, hint string, names ...string) (string, bool, error) {
	if set != "" {
		p, err := findTool(set, myPackage, "")
		return p, err == nil && isMariaDBTool(p), err
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, isMariaDBTool(p), nil
		}
	}
	return "", false, &MissingToolError{Tool: strings.Join(names, " or "), Package: myPackage, Hint: hint, Err: exec.ErrNotFound}
}

// isMariaDBTool reports whether the program is MariaDB's (mysqldump is
// often a link to mariadb-dump).
func isMariaDBTool(path string) bool {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		path = r
	}
	return strings.HasPrefix(filepath.Base(path), "mariadb")
}

// args returns the tool arguments that connect: the option file with the
// password first (the tools require it there), then the rest of the
// connection settings on the command line, where they override any option
// file (such as ~/.my.cnf, which the tools read after the extra file).
func (c myConn) args(optFile string, mariadb bool) []string {
	args := []string{"--defaults-extra-file=" + optFile}
	if c.user != "" {
		args = append(args, "--user="+c.user)
	}
	if c.network == "unix" {
		args = append(args, "--protocol=SOCKET", "--socket="+c.socket)
	} else {
		args = append(args, "--protocol=TCP", "--host="+c.host, "--port="+c.port)
	}
	if c.timeout != "" {
		args = append(args, "--connect-timeout="+c.timeout)
	}
	switch c.tls {
	case "true", "1":
		if mariadb {
			args = append(args, "--ssl", "--ssl-verify-server-cert")
		} else {
			args = append(args, "--ssl-mode=VERIFY_IDENTITY")
		}
	case "skip-verify":
		if mariadb {
			args = append(args, "--ssl", "--skip-ssl-verify-server-cert")
		} else {
			args = append(args, "--ssl-mode=REQUIRED")
		}
	case "false", "0":
		if mariadb {
			args = append(args, "--skip-ssl")
		} else {
			args = append(args, "--ssl-mode=DISABLED")
		}
	}
	return args
}

// optionFile writes the password to an option file of mode 0600 in a
// private directory, and returns its path and a function that removes it.
func (c myConn) optionFile() (string, func(), error) {
	var b strings.Builder
	b.WriteString("[client]\n")
	if c.password != "" {
		v := c.password
		if strings.ContainsAny(v, "\n\r\x00") {
			return "", nil, errors.New("MySQL DSN: the password contains a line break or NUL, which option files cannot hold")
		}
		q := `"`
		if strings.Contains(v, `"`) {
			if strings.Contains(v, `'`) {
				return "", nil, errors.New("MySQL DSN: the password contains both kinds of quote, which option files cannot hold")
			}
			q = `'`
		}
		b.WriteString("password=" + q + strings.ReplaceAll(v, `\`, `\\`) + q + "\n")
	}
	dir, cleanup, err := privateDir()
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "client.cnf")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("write option file: %w", err)
	}
	return path, cleanup, nil
}

func (m *MySQL) conn() (myConn, error) { return parseMySQLDSN(m.dsn) }

// Describe names the database after DATABASE() and checks that the DSN
// names the same one as conn.
func (m *MySQL) Describe(ctx context.Context, conn *sql.Conn) (Info, error) {
	c, err := m.conn()
	if err != nil {
		return Info{}, err
	}
	var db sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT DATABASE()`).Scan(&db); err != nil {
		return Info{}, fmt.Errorf("read current database: %w", err)
	}
	if !db.Valid || db.String != c.dbname {
		return Info{}, fmt.Errorf("the backuper's DSN names database %q but the connection is to %q", c.dbname, db.String)
	}
	return Info{Database: c.dbname, Ext: MySQLExt}, nil
}

// Backup runs the dump tool into path.
func (m *MySQL) Backup(ctx context.Context, conn *sql.Conn, path string) error {
	c, err := m.conn()
	if err != nil {
		return err
	}
	dump, mariadb, err := m.dumpTool()
	if err != nil {
		return err
	}
	opt, cleanup, err := c.optionFile()
	if err != nil {
		return err
	}
	defer cleanup()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	args := append(c.args(opt, mariadb),
		"--single-transaction", "--routines", "--triggers", "--hex-blob",
		"--default-character-set=utf8mb4", "--no-tablespaces",
	)
	if !mariadb {
		args = append(args, "--set-gtid-purged=OFF")
	}
	args = append(args, c.dbname)
	if err := (tool{name: filepath.Base(dump), path: dump, args: args, out: f}).run(ctx); err != nil {
		return err
	}
	return f.Close()
}

// Verify checks that path is a dump that ran to completion: it starts like
// one and ends with the line the tools write last.
func (m *MySQL) Verify(ctx context.Context, conn *sql.Conn, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := io.ReadFull(f, head)
	if !bytes.Contains(head[:n], []byte(" dump ")) || !bytes.HasPrefix(head[:n], []byte("/*")) && !bytes.HasPrefix(head[:n], []byte("--")) {
		return fmt.Errorf("%w: %s is not a mysqldump or mariadb-dump file", ErrInvalid, path)
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	const tailLen = 512
	tail := make([]byte, tailLen)
	off := max(0, fi.Size()-tailLen)
	n, err = f.ReadAt(tail, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if !bytes.Contains(tail[:n], []byte(dumpTrailer)) {
		return fmt.Errorf("%w: %s is truncated: it does not end with %q", ErrInvalid, path, dumpTrailer)
	}
	return nil
}

// Restore drops the database's tables, views, sequences and routines, then
// loads the dump with the client.
func (m *MySQL) Restore(ctx context.Context, conn *sql.Conn, path string) error {
	c, err := m.conn()
	if err != nil {
		return err
	}
	client, mariadb, err := m.clientTool()
	if err != nil {
		return err
	}
	if _, err := m.Describe(ctx, conn); err != nil {
		return err
	}
	opt, cleanup, err := c.optionFile()
	if err != nil {
		return err
	}
	defer cleanup()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := dropMySQLObjects(ctx, conn); err != nil {
		return err
	}
	err = tool{
		name:  filepath.Base(client),
		path:  client,
		args:  append(c.args(opt, mariadb), "--default-character-set=utf8mb4", "--database="+c.dbname),
		stdin: f,
	}.run(ctx)
	if err != nil {
		return fmt.Errorf("load the dump (the database is now incomplete; restore again): %w", err)
	}
	return nil
}

// dropMySQLObjects empties the connection's database.
func dropMySQLObjects(ctx context.Context, conn *sql.Conn) (err error) {
	q := func(query string) ([][2]string, error) {
		rows, err := conn.QueryContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out [][2]string
		for rows.Next() {
			var a, b string
			if err := rows.Scan(&a, &b); err != nil {
				return nil, err
			}
			out = append(out, [2]string{a, b})
		}
		return out, rows.Err()
	}
	quote := func(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
	var drops []string
	objs, err := q(`SELECT table_type, table_name FROM information_schema.tables WHERE table_schema = DATABASE()
		ORDER BY table_type = 'VIEW' DESC, table_name`)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	for _, o := range objs {
		kind := "TABLE"
		switch o[0] {
		case "VIEW", "SYSTEM VIEW":
			kind = "VIEW"
		case "SEQUENCE":
			kind = "SEQUENCE"
		}
		drops = append(drops, "DROP "+kind+" IF EXISTS "+quote(o[1]))
	}
	if objs, err = q(`SELECT routine_type, routine_name FROM information_schema.routines WHERE routine_schema = DATABASE()`); err != nil {
		return fmt.Errorf("list routines: %w", err)
	}
	for _, o := range objs {
		drops = append(drops, "DROP "+o[0]+" IF EXISTS "+quote(o[1]))
	}
	var fk int
	if err := conn.QueryRowContext(ctx, `SELECT @@SESSION.foreign_key_checks`).Scan(&fk); err != nil {
		return fmt.Errorf("read foreign_key_checks: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SET SESSION foreign_key_checks = 0`); err != nil {
		return fmt.Errorf("switch foreign_key_checks off: %w", err)
	}
	defer func() {
		if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`SET SESSION foreign_key_checks = %d`, fk)); ferr != nil {
			err = errors.Join(err, fmt.Errorf("restore foreign_key_checks: %w", ferr))
		}
	}()
	for _, d := range drops {
		if _, err := conn.ExecContext(ctx, d); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
	}
	return nil
}
