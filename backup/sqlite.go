package backup

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-go/strata/internal/sqlitefile"
)

// SQLite backs SQLite databases up with VACUUM INTO, in plain SQL through
// the connection it is given, so it works with any database/sql SQLite
// driver and needs no cgo of its own. Use [NewSQLite].
//
// A backup is online and consistent: VACUUM INTO reads one snapshot (in WAL
// mode other connections keep writing meanwhile) and writes a compact copy
// of the main database, which is then checked with PRAGMA integrity_check.
//
// Restore attaches the backup and, in one IMMEDIATE transaction with
// foreign key enforcement off, drops every table, view, index and trigger
// of the main database, recreates them from the backup's schema, copies
// every row (keeping rowids), restores the AUTOINCREMENT counters,
// user_version and application_id, and checks integrity before it commits:
// other connections see the old database or the restored one, never a mix.
// sqlite_stat tables are not copied; run ANALYZE after a restore if you use
// them.
type SQLite struct{}

var _ Backuper = (*SQLite)(nil)

// NewSQLite returns the SQLite backuper.
func NewSQLite() *SQLite { return &SQLite{} }

// SQLiteExt is the extension of SQLite backup files.
const SQLiteExt = ".sqlite"

// schema names the backup is attached under.
const (
	verifySchema  = "strata_verify"
	restoreSchema = "strata_restore"
)

// Describe names the database after its file ("app" for /srv/app.db) and
// puts backups beside it by default, in "<file>.backups". An in-memory
// database is named "memory" and has no default directory.
func (*SQLite) Describe(ctx context.Context, conn *sql.Conn) (Info, error) {
	file, err := sqlitefile.Main(ctx, conn)
	if err != nil {
		return Info{}, err
	}
	if file == "" {
		return Info{Database: "memory", Ext: SQLiteExt}, nil
	}
	base := filepath.Base(file)
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return Info{Database: base, Ext: SQLiteExt, Dir: file + ".backups"}, nil
}

// Backup writes the main database into path with VACUUM INTO. It cannot run
// inside a transaction on conn.
func (*SQLite) Backup(ctx context.Context, conn *sql.Conn, path string) error {
	if _, err := conn.ExecContext(ctx, `VACUUM main INTO ?`, path); err != nil {
		return fmt.Errorf("vacuum into %s: %w", path, err)
	}
	return nil
}

// Verify checks that path is a whole SQLite database (its header, and a
// size that holds every page the header counts) and passes PRAGMA
// integrity_check. The file is attached to conn for the check, read only.
func (*SQLite) Verify(ctx context.Context, conn *sql.Conn, path string) error {
	if err := checkSQLiteHeader(path); err != nil {
		return err
	}
	return withAttached(ctx, conn, path, verifySchema, func() error {
		return integrityCheck(ctx, conn, verifySchema, path)
	})
}

// checkSQLiteHeader checks the 100-byte database header of path, and that
// the file is as long as the header says.
func checkSQLiteHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrInvalid, path)
	}
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Errorf("%w: %s is not a SQLite database: %d bytes", ErrInvalid, path, fi.Size())
	}
	if string(h[:16]) != "SQLite format 3\x00" {
		return fmt.Errorf("%w: %s is not a SQLite database (bad header)", ErrInvalid, path)
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("%w: %s has an invalid page size %d", ErrInvalid, path, pageSize)
	}
	// The page count at offset 28 is valid when the change counter at 24
	// equals the version-valid-for number at 92.
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	if binary.BigEndian.Uint32(h[24:28]) == binary.BigEndian.Uint32(h[92:96]) && pages > 0 {
		if want := pages * pageSize; fi.Size() < want {
			return fmt.Errorf("%w: %s is truncated: %d bytes, its header says %d pages of %d bytes (%d)",
				ErrInvalid, path, fi.Size(), pages, pageSize, want)
		}
	}
	if fi.Size()%pageSize != 0 {
		return fmt.Errorf("%w: %s is truncated: %d bytes is not a whole number of %d-byte pages", ErrInvalid, path, fi.Size(), pageSize)
	}
	return nil
}

// withAttached attaches path to conn as schema, calls fn and detaches.
func withAttached(ctx context.Context, conn *sql.Conn, path, schema string, fn func() error) (err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	// A URI opens the file read only, so neither a check nor a restore
	// can change it; drivers that do not enable URIs would create a
	// stray file named like the URI, so look before.
	uri := "file:" + uriPath(abs) + "?mode=ro"
	if _, err := os.Stat(abs); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS `+quoteDouble(schema), uri); err != nil {
		return fmt.Errorf("attach %s: %w", path, err)
	}
	defer func() {
		if _, derr := conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE `+quoteDouble(schema)); derr != nil {
			err = errors.Join(err, fmt.Errorf("detach %s: %w", path, derr))
		}
	}()
	// Make sure the URI was understood: the attached file must be path.
	got, _, err := sqlitefile.Of(ctx, conn, schema)
	if err != nil {
		return err
	}
	if !sameFile(got, abs) {
		return fmt.Errorf("attach %s: the driver attached %q instead: it must accept URI file names (mattn/go-sqlite3 and modernc.org/sqlite do)", path, got)
	}
	return fn()
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// uriPath escapes a path for a SQLite URI file name.
func uriPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '?' || c == '#' || c == '%' || c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// integrityCheck runs PRAGMA integrity_check on schema.
func integrityCheck(ctx context.Context, conn dbExecer, schema, path string) error {
	rows, err := conn.QueryContext(ctx, `PRAGMA `+quoteDouble(schema)+`.integrity_check`)
	if err != nil {
		return fmt.Errorf("%w: %s: integrity check: %w", ErrInvalid, path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("%w: %s: integrity check: %w", ErrInvalid, path, err)
		}
		if s != "ok" && len(problems) < 10 {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%w: %s: integrity check: %w", ErrInvalid, path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s fails the integrity check: %s", ErrInvalid, path, strings.Join(problems, "; "))
	}
	return nil
}

// dbExecer is the subset of *sql.Conn the helpers use.
type dbExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Restore replaces the main database's schema and data with the backup's,
// in one transaction; see [SQLite]. conn must not be in a transaction.
func (*SQLite) Restore(ctx context.Context, conn *sql.Conn, path string) (err error) {
	if err := checkSQLiteHeader(path); err != nil {
		return err
	}
	main, err := sqlitefile.Main(ctx, conn)
	if err != nil {
		return err
	}
	if main != "" && sameFile(main, path) {
		return fmt.Errorf("%s is the database itself", path)
	}
	var fk bool
	if err := conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
		return fmt.Errorf("read foreign_keys: %w", err)
	}
	if fk {
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return fmt.Errorf("switch foreign_keys off: %w", err)
		}
		defer func() {
			if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); ferr != nil {
				err = errors.Join(err, fmt.Errorf("switch foreign_keys back on: %w", ferr))
			}
		}()
	}
	return withAttached(ctx, conn, path, restoreSchema, func() (err error) {
		// BEGIN IMMEDIATE takes the write lock at once (waiting for the
		// busy timeout), so the restore never fails half way upgrading
		// a read snapshot that another writer made stale.
		if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() {
			if err != nil {
				if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`); rerr != nil {
					err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
				}
			}
		}()
		if err := sqliteReplace(ctx, conn); err != nil {
			return err
		}
		if err := integrityCheck(ctx, conn, "main", "restored database"); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
}

type sqliteObject struct {
	typ, name string
	sql       sql.NullString
}

func sqliteObjects(ctx context.Context, conn *sql.Conn, schema string) ([]sqliteObject, error) {
	rows, err := conn.QueryContext(ctx, `SELECT type, name, sql FROM `+quoteDouble(schema)+`.sqlite_schema ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("read %s schema: %w", schema, err)
	}
	defer rows.Close()
	var objs []sqliteObject
	for rows.Next() {
		var o sqliteObject
		if err := rows.Scan(&o.typ, &o.name, &o.sql); err != nil {
			return nil, fmt.Errorf("read %s schema: %w", schema, err)
		}
		objs = append(objs, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s schema: %w", schema, err)
	}
	return objs, nil
}

func internalName(name string) bool { return strings.HasPrefix(strings.ToLower(name), "sqlite_") }

func isVirtual(o sqliteObject) bool {
	return o.typ == "table" && strings.HasPrefix(strings.ToUpper(strings.TrimSpace(o.sql.String)), "CREATE VIRTUAL")
}

// sqliteReplace does the work of Restore inside its transaction.
func sqliteReplace(ctx context.Context, conn *sql.Conn) error {
	exec := func(q string, args ...any) error {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%.120s: %w", q, err)
		}
		return nil
	}
	bak := quoteDouble(restoreSchema)

	// Drop the main database's objects: views (with their triggers),
	// virtual tables (with their shadow tables), then tables (with their
	// indexes and triggers). Internal tables are emptied instead.
	cur, err := sqliteObjects(ctx, conn, "main")
	if err != nil {
		return err
	}
	for _, pass := range []func(sqliteObject) bool{
		func(o sqliteObject) bool { return o.typ == "view" },
		isVirtual,
		func(o sqliteObject) bool { return o.typ == "table" && !isVirtual(o) },
	} {
		for _, o := range cur {
			if !pass(o) || internalName(o.name) {
				continue
			}
			kind := "TABLE"
			if o.typ == "view" {
				kind = "VIEW"
			}
			if err := exec(`DROP ` + kind + ` IF EXISTS main.` + quoteDouble(o.name)); err != nil {
				return err
			}
		}
	}
	if err := exec(`DELETE FROM main.sqlite_sequence WHERE 1`); err != nil && !strings.Contains(err.Error(), "no such table") {
		return err
	}

	objs, err := sqliteObjects(ctx, conn, restoreSchema)
	if err != nil {
		return err
	}
	exists := func(name string) (bool, error) {
		var n int
		err := conn.QueryRowContext(ctx, `SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = ?`, name).Scan(&n)
		return n > 0, err
	}
	// Tables, in the order they were created. Creating a virtual table
	// creates its shadow tables, which then exist already.
	for _, o := range objs {
		if o.typ != "table" || internalName(o.name) || !o.sql.Valid {
			continue
		}
		ok, err := exists(o.name)
		if err != nil {
			return fmt.Errorf("look up table %q: %w", o.name, err)
		}
		if ok {
			continue
		}
		if err := exec(o.sql.String); err != nil {
			return fmt.Errorf("create table %q: %w", o.name, err)
		}
	}
	// Rows, before indexes (faster) and triggers (which must not fire).
	for _, o := range objs {
		if o.typ != "table" || internalName(o.name) || isVirtual(o) {
			continue
		}
		cols, err := copyColumns(ctx, conn, o.name)
		if err != nil {
			return err
		}
		t := quoteDouble(o.name)
		if err := exec(`DELETE FROM main.` + t); err != nil {
			return err
		}
		if err := exec(`INSERT INTO main.` + t + ` (` + cols + `) SELECT ` + cols + ` FROM ` + bak + `.` + t); err != nil {
			return fmt.Errorf("copy rows of %q: %w", o.name, err)
		}
	}
	for _, o := range objs {
		if o.typ == "table" && o.name == "sqlite_sequence" {
			if err := exec(`DELETE FROM main.sqlite_sequence`); err != nil {
				return err
			}
			if err := exec(`INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM ` + bak + `.sqlite_sequence`); err != nil {
				return err
			}
		}
	}
	for _, p := range []string{"user_version", "application_id"} {
		var v int64
		if err := conn.QueryRowContext(ctx, `PRAGMA `+bak+`.`+p).Scan(&v); err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		if err := exec(fmt.Sprintf(`PRAGMA main.%s = %d`, p, v)); err != nil {
			return err
		}
	}
	for _, typ := range []string{"index", "view", "trigger"} {
		for _, o := range objs {
			if o.typ != typ || !o.sql.Valid || internalName(o.name) {
				continue
			}
			if err := exec(o.sql.String); err != nil {
				return fmt.Errorf("create %s %q: %w", typ, o.name, err)
			}
		}
	}
	return nil
}

// copyColumns lists the columns of the backup's table to copy: every
// ordinary column (not generated), and the rowid of rowid tables whose
// rowid is not already one of them.
func copyColumns(ctx context.Context, conn *sql.Conn, table string) (string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT name, type, pk, hidden FROM pragma_table_xinfo(?, ?) ORDER BY cid`, table, restoreSchema)
	if err != nil {
		return "", fmt.Errorf("read columns of %q: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	names := map[string]bool{}
	var pks []string
	for rows.Next() {
		var name, typ string
		var pk, hidden int
		if err := rows.Scan(&name, &typ, &pk, &hidden); err != nil {
			return "", fmt.Errorf("read columns of %q: %w", table, err)
		}
		names[strings.ToLower(name)] = true
		if pk > 0 {
			pks = append(pks, strings.ToUpper(typ))
		}
		if hidden == 0 {
			cols = append(cols, quoteDouble(name))
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read columns of %q: %w", table, err)
	}
	if len(cols) == 0 {
		return "", fmt.Errorf("table %q has no columns to copy", table)
	}
	var withoutRowid bool
	if err := conn.QueryRowContext(ctx, `SELECT wr FROM pragma_table_list WHERE schema = ? AND name = ?`,
		restoreSchema, table).Scan(&withoutRowid); err != nil {
		return "", fmt.Errorf("read table list for %q: %w", table, err)
	}
	rowidAlias := len(pks) == 1 && pks[0] == "INTEGER"
	if !withoutRowid && !rowidAlias {
		for _, alias := range []string{"rowid", "_rowid_", "oid"} {
			if !names[alias] {
				cols = append([]string{alias}, cols...)
				break
			}
		}
	}
	return strings.Join(cols, ", "), nil
}

// quoteDouble quotes an SQL identifier with double quotes.
func quoteDouble(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
