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
	"sync"
)

// MySQL backs MySQL and MariaDB databases up with mariadb-dump (or
// mysqldump) --single-transaction --routines --triggers, a consistent
// snapshot of InnoDB tables taken while the application keeps running, and
// restores them with the mariadb (or mysql) client. Use [NewMySQL].
//
// The password reaches the tools in an option file read from a pipe
// (--defaults-extra-file=/dev/fd/3), never on the command line and never
// on disk. The other connection settings from the DSN are passed as
// arguments, so that no option file (such as ~/.my.cnf) can point the
// tools at another server. On Linux the tools are killed if the process
// that started them dies.
//
// Backup appends to the dump the number of rows of every table, counted
// in the dump just written; Verify reads the whole file and checks them.
//
// MySQL cannot roll DDL back, so Restore never loads into the database
// itself: it loads the dump into a scratch database on the same server
// (which needs the CREATE and DROP privileges), checks that every table
// holds the rows the dump has, then moves the tables in with one RENAME
// TABLE, which the server does all or nothing, and recreates the views,
// routines and triggers. A dump that fails to load (damaged, or using a
// collation the server lacks) leaves the database as it was. The old
// tables are dropped once the new ones are in. Events are neither dumped
// nor replaced (dumping them needs the EVENT privilege).
//
// Before the swap changes anything it writes a journal into the database
// the old tables move to. A restore killed during the swap is finished
// (if the tables had moved) or undone (if not) by the next restore, and
// by the next migration run that takes the lock (the MySQL dialect's
// SaveSession), so the database ends up exactly as it was or exactly as
// the dump has it. The scratch databases of a restore that was killed are
// dropped the same way.
type MySQL struct {
	// Dump and Client are the programs to run: a path, or a name to look
	// up in PATH. Empty (as NewMySQL leaves them) means mariadb-dump and
	// mariadb if installed, else mysqldump and mysql.
	Dump, Client string

	dsn string

	// The dump last written or verified, so that Create's Verify right
	// after Backup, and Restore right after Verify, do not read the whole
	// file again.
	mu      sync.Mutex
	scanned *scannedDump
}

// scannedDump is what a scan found in the file fi describes.
type scannedDump struct {
	fi os.FileInfo
	st *dumpStats
}

// remember records st as the scan of the file at path.
func (m *MySQL) remember(path string, st *dumpStats) {
	fi, err := os.Stat(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scanned = nil
	if err == nil {
		m.scanned = &scannedDump{fi: fi, st: st}
	}
}

// recall returns the scan of the file at path if it is the one last
// scanned, unchanged since (same file, size and modification time).
func (m *MySQL) recall(path string) *dumpStats {
	fi, err := os.Stat(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil || m.scanned == nil {
		return nil
	}
	old := m.scanned.fi
	if !os.SameFile(fi, old) || fi.Size() != old.Size() || !fi.ModTime().Equal(old.ModTime()) {
		return nil
	}
	return m.scanned.st
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
// password first (the tools require it there), read from file descriptor
// 3 (see [tool.secret]), then the rest of the connection settings on the
// command line, where they override any option file (such as ~/.my.cnf,
// which the tools read after the extra file).
func (c myConn) args(mariadb bool) []string {
	args := []string{"--defaults-extra-file=" + secretPath}
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

// optionData returns the option file that gives the tools the password,
// and the environment to add. It never touches the disk: the tools read
// the file from a pipe. A password an option file cannot hold (one with
// both kinds of quote, or a line break) goes in MYSQL_PWD instead, which
// only the same user can read, and only while the tool runs.
func (c myConn) optionData() ([]byte, []string, error) {
	var b strings.Builder
	b.WriteString("[client]\n")
	v := c.password
	if strings.ContainsRune(v, 0) {
		return nil, nil, errors.New("MySQL DSN: the password contains a NUL byte")
	}
	if strings.ContainsAny(v, "\n\r") || strings.Contains(v, `"`) && strings.Contains(v, `'`) {
		return []byte(b.String()), []string{"MYSQL_PWD=" + v}, nil
	}
	if v != "" {
		q := `"`
		if strings.Contains(v, `"`) {
			q = `'`
		}
		b.WriteString("password=" + q + strings.ReplaceAll(v, `\`, `\\`) + q + "\n")
	}
	if b.Len() > maxSecret {
		return nil, nil, errors.New("MySQL DSN: the password is too long")
	}
	return []byte(b.String()), nil, nil
}

func (m *MySQL) conn() (myConn, error) { return parseMySQLDSN(m.dsn) }

// Describe names the database after DATABASE() and checks that the DSN
// names the same one as conn.
func (m *MySQL) Describe(ctx context.Context, conn *sql.Conn) (info Info, err error) {
	defer func() { err = hideSecrets(err, m.dsn) }()
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

// Backup runs the dump tool into path, counts the rows of every table
// in what it wrote, and appends those counts to the file; see
// [MySQL.Verify].
func (m *MySQL) Backup(ctx context.Context, conn *sql.Conn, path string) (err error) {
	defer func() { err = hideSecrets(err, m.dsn) }()
	removeOldOptionDirs()
	c, err := m.conn()
	if err != nil {
		return err
	}
	dump, mariadb, err := m.dumpTool()
	if err != nil {
		return err
	}
	opt, env, err := c.optionData()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	args := append(c.args(mariadb),
		"--single-transaction", "--routines", "--triggers", "--hex-blob",
		"--default-character-set=utf8mb4", "--no-tablespaces",
	)
	if !mariadb {
		args = append(args, "--set-gtid-purged=OFF")
	}
	args = append(args, c.dbname)

	// The tool writes straight to the file (no copy through this
	// process), which is then read back from the page cache to count
	// the rows: faster than scanning the dump as it is written.
	if err := (tool{name: filepath.Base(dump), path: dump, args: args, secret: opt, env: env, out: f}).run(ctx); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	st, err := scanDump(f)
	if err != nil {
		return fmt.Errorf("%w: the dump %s wrote cannot be read back: %w", ErrInvalid, filepath.Base(dump), err)
	}
	if err := st.check(); err != nil {
		return fmt.Errorf("%w: the dump %s wrote is incomplete: %w", ErrInvalid, filepath.Base(dump), err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	if err := writeManifest(f, st); err != nil {
		return fmt.Errorf("write the table list: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	m.remember(path, st)
	return nil
}

// Verify reads the whole dump: it must start like one, end with the line
// the tools write last, hold no statement after it, and have in its INSERT
// statements exactly the rows of every table that Backup counted when it
// wrote the file. It does not connect to the server.
//
// A file this backuper has just written or verified, unchanged since, is
// not read again.
func (m *MySQL) Verify(ctx context.Context, conn *sql.Conn, path string) error {
	_, err := m.verifyDump(path)
	return err
}

func (m *MySQL) verifyDump(path string) (*dumpStats, error) {
	if st := m.recall(path); st != nil {
		return st, nil
	}
	st, err := verifyDump(path)
	if err == nil {
		m.remember(path, st)
	}
	return st, err
}

func verifyDump(path string) (*dumpStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := io.ReadFull(f, head)
	if !bytes.Contains(head[:n], []byte(" dump ")) || !bytes.HasPrefix(head[:n], []byte("/*")) && !bytes.HasPrefix(head[:n], []byte("--")) {
		return nil, fmt.Errorf("%w: %s is not a mysqldump or mariadb-dump file", ErrInvalid, path)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	st, err := scanDump(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is truncated or damaged: %w", ErrInvalid, path, err)
	}
	if err := st.check(); err != nil {
		if !st.trailer {
			return nil, fmt.Errorf("%w: %s is truncated: %w", ErrInvalid, path, err)
		}
		return nil, fmt.Errorf("%w: %s is damaged: %w", ErrInvalid, path, err)
	}
	return st, nil
}
