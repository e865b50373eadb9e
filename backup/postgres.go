package backup

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Postgres backs PostgreSQL databases up with pg_dump in custom format and
// restores them with pg_restore and psql, all from the postgresql-client
// package. Use [NewPostgres].
//
// pg_dump takes a consistent snapshot while the application keeps
// running. It must be at least as new as the server: an older one is
// refused before it runs, with a message saying which versions are
// involved.
//
// Restore is pg_restore --clean --if-exists --no-owner run in a single
// transaction (psql --single-transaction with ON_ERROR_STOP), so a failure
// leaves the database as it was. In the same transaction it first drops
// the tables, views, sequences and foreign keys the backup does not have
// (created after the backup was taken), so the restored schema is the
// backup's. Other objects created since (schemas, functions, types) are
// left in place.
type Postgres struct {
	// PGDump and PGRestore are the programs to run: a path, or a name to
	// look up in PATH. NewPostgres sets "pg_dump" and "pg_restore"; point
	// them at a version-specific directory such as
	// /usr/lib/postgresql/16/bin when several are installed.
	PGDump, PGRestore string
	// PSQL is the program Restore runs the restore script with; NewPostgres
	// sets "psql".
	PSQL string

	dsn string
}

var _ Backuper = (*Postgres)(nil)

// NewPostgres returns a backuper for the database dsn names, in pgx's URL
// (postgres://user:pass@host:5432/db?sslmode=disable) or keyword/value
// (host=... user=... dbname=...) form. The password, if any, reaches the
// tools in PGPASSWORD, never on their command line; parameters libpq does
// not know are left out. The DSN is checked when first used.
func NewPostgres(dsn string) *Postgres {
	return &Postgres{PGDump: "pg_dump", PGRestore: "pg_restore", PSQL: "psql", dsn: dsn}
}

// PostgresExt is the extension of PostgreSQL backup files.
const PostgresExt = ".dump"

const pgPackage = "postgresql-client"

func (p *Postgres) conn() (pgConn, error) {
	c, err := parsePostgresDSN(p.dsn)
	if err != nil {
		return pgConn{}, err
	}
	return c, nil
}

// env passes the password in the environment.
func (c pgConn) env() []string {
	if c.password == "" {
		return nil
	}
	return []string{"PGPASSWORD=" + c.password}
}

// Describe names the database after current_database(), and checks that
// the DSN names the same one as conn.
func (p *Postgres) Describe(ctx context.Context, conn *sql.Conn) (info Info, err error) {
	defer func() { err = hideSecrets(err, p.dsn) }()
	c, err := p.conn()
	if err != nil {
		return Info{}, err
	}
	var db string
	if err := conn.QueryRowContext(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		return Info{}, fmt.Errorf("read current database: %w", err)
	}
	if c.dbname != "" && c.dbname != db {
		return Info{}, fmt.Errorf("the backuper's DSN names database %q but the connection is to %q", c.dbname, db)
	}
	return Info{Database: db, Ext: PostgresExt}, nil
}

// Backup runs pg_dump --format=custom into path, after checking that
// pg_dump is not older than the server.
func (p *Postgres) Backup(ctx context.Context, conn *sql.Conn, path string) (err error) {
	defer func() { err = hideSecrets(err, p.dsn) }()
	c, err := p.conn()
	if err != nil {
		return err
	}
	dump, err := findTool(p.PGDump, pgPackage, "set Postgres.PGDump to its path")
	if err != nil {
		return err
	}
	if err := p.checkVersion(ctx, conn, dump); err != nil {
		return err
	}
	return tool{
		name: p.PGDump,
		path: dump,
		args: []string{"--format=custom", "--no-password", "--file=" + path, "--dbname=" + c.conninfo},
		env:  c.env(),
	}.run(ctx)
}

var pgToolVersion = regexp.MustCompile(`\(PostgreSQL\) ([0-9]+)(?:\.([0-9]+))?`)

// checkVersion refuses a pg_dump older than the server, which pg_dump
// itself would refuse with a less helpful message.
func (p *Postgres) checkVersion(ctx context.Context, conn *sql.Conn, dump string) error {
	out, err := tool{name: p.PGDump, path: dump, args: []string{"--version"}}.output(ctx)
	if err != nil {
		return err
	}
	m := pgToolVersion.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("%s --version: unexpected output %q", p.PGDump, strings.TrimSpace(out))
	}
	toolMajor, _ := strconv.Atoi(m[1])
	var num string
	if err := conn.QueryRowContext(ctx, `SHOW server_version_num`).Scan(&num); err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil {
		return fmt.Errorf("read server version: %q: %w", num, err)
	}
	// Before 10 a major version had two parts: 9.6 is 90600.
	minor, _ := strconv.Atoi(m[2])
	toolVer, serverVer := toolMajor*100, n/10000*100
	toolName, serverName := m[1], strconv.Itoa(n/10000)
	if toolMajor < 10 {
		toolVer += minor
		toolName += "." + m[2]
	}
	if n < 100000 {
		serverVer += n / 100 % 100
		serverName += "." + strconv.Itoa(n/100%100)
	}
	if toolVer < serverVer {
		return fmt.Errorf("%s (%s) is version %s, older than the server (PostgreSQL %s), and cannot dump it: install postgresql-client-%s or newer and set Postgres.PGDump to its pg_dump",
			p.PGDump, dump, toolName, serverName, serverName)
	}
	return nil
}

// Verify reads the whole archive with pg_restore, writing the SQL it would
// run to nowhere: a damaged or truncated archive fails.
func (p *Postgres) Verify(ctx context.Context, conn *sql.Conn, path string) error {
	if err := checkPrefix(path, "PGDMP", "a pg_dump custom-format archive"); err != nil {
		return err
	}
	restore, err := findTool(p.PGRestore, pgPackage, "set Postgres.PGRestore to its path")
	if err != nil {
		return err
	}
	err = tool{name: p.PGRestore, path: restore, args: []string{"--file=" + os.DevNull, path}}.run(ctx)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	return nil
}

// Restore replays the archive in one transaction: pg_restore --clean
// --if-exists --no-owner writes the SQL, which psql runs with
// --single-transaction and ON_ERROR_STOP, after statements that drop what
// the backup does not have (relations and foreign keys created since),
// which would otherwise survive the restore or stop --clean from dropping
// what they depend on. If pg_restore fails, psql is killed before it can
// commit.
func (p *Postgres) Restore(ctx context.Context, conn *sql.Conn, path string) (err error) {
	defer func() { err = hideSecrets(err, p.dsn) }()
	c, err := p.conn()
	if err != nil {
		return err
	}
	restore, err := findTool(p.PGRestore, pgPackage, "set Postgres.PGRestore to its path")
	if err != nil {
		return err
	}
	psql, err := findTool(p.PSQL, pgPackage, "set Postgres.PSQL to its path")
	if err != nil {
		return err
	}
	if _, err := p.Describe(ctx, conn); err != nil {
		return err
	}
	toc, err := tool{name: p.PGRestore, path: restore, args: []string{"--list", path}}.output(ctx)
	if err != nil {
		return err
	}
	prelude, err := extraObjects(ctx, conn, toc)
	if err != nil {
		return err
	}
	psqlArgs := []string{"--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1", "--single-transaction",
		"--dbname=" + c.conninfo}
	if len(prelude) > 0 {
		psqlArgs = append(psqlArgs, "--command="+strings.Join(prelude, ";\n"))
	}
	psqlArgs = append(psqlArgs, "--file=-")
	return pipe(ctx,
		tool{name: p.PGRestore, path: restore, args: []string{"--clean", "--if-exists", "--no-owner", "--file=-", path}},
		tool{name: p.PSQL, path: psql, args: psqlArgs, env: c.env(), out: io.Discard})
}

// pipe runs from with its standard output connected to to's standard
// input. to sees the end of its input only if from succeeded: otherwise it
// is killed first, so that psql never commits a partial script.
func pipe(ctx context.Context, from, to tool) error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	defer pw.Close()
	toCtx, kill := context.WithCancel(ctx)
	defer kill()
	to.stdin = pr
	toDone := make(chan error, 1)
	go func() { toDone <- to.run(toCtx) }()
	from.out = pw
	ferr := from.run(ctx)
	if ferr != nil {
		kill()
		<-toDone
		return ferr
	}
	pw.Close() // the end of the script: psql commits
	if err := <-toDone; err != nil {
		return err
	}
	return nil
}

var tocEntry = regexp.MustCompile(`^[0-9]+; [0-9]+ [0-9]+ (.*)$`)

// extraObjects returns the statements that drop what is in the database
// but not in the archive whose table of contents (pg_restore --list) is
// toc: tables, views and sequences outside the system schemas and
// extensions (sequences owned by a column go with their table), and
// foreign keys, which would stop --clean from dropping what they refer
// to. CASCADE takes along whatever depends on them, which the restore
// then recreates from the archive.
func extraObjects(ctx context.Context, conn *sql.Conn, toc string) ([]string, error) {
	entries := map[string]bool{}
	for _, line := range strings.Split(toc, "\n") {
		if m := tocEntry.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			entries[m[1]] = true
		}
	}
	// A TOC entry is "<type> <schema> <name> <owner>"; names may hold
	// spaces, so look entries up by prefix.
	inTOC := func(desc string) bool {
		for e := range entries {
			if strings.HasPrefix(e, desc+" ") {
				return true
			}
		}
		return false
	}
	const q = `SELECT 'r', c.relkind::text, n.nspname, c.relname, ''
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
		  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
			WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		  AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
			WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
			  AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')))
		UNION ALL
		SELECT 'f', '', n.nspname, c.relname, k.conname
		FROM pg_catalog.pg_constraint k
		JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
		ORDER BY 1, 2 DESC, 3, 4`
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list relations: %w", err)
	}
	defer rows.Close()
	kinds := map[string]string{"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}
	var fks, rels []string
	for rows.Next() {
		var what, kind, schema, name, con string
		if err := rows.Scan(&what, &kind, &schema, &name, &con); err != nil {
			return nil, fmt.Errorf("list relations: %w", err)
		}
		rel := quoteDouble(schema) + "." + quoteDouble(name)
		switch {
		case what == "f" && !inTOC("FK CONSTRAINT "+schema+" "+name+" "+con):
			fks = append(fks, "ALTER TABLE IF EXISTS "+rel+" DROP CONSTRAINT IF EXISTS "+quoteDouble(con))
		case what == "r" && !inTOC(kinds[kind]+" "+schema+" "+name):
			rels = append(rels, "DROP "+kinds[kind]+" IF EXISTS "+rel+" CASCADE")
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list relations: %w", err)
	}
	return append(fks, rels...), nil
}

// checkPrefix checks that the file at path starts with magic.
func checkPrefix(path, magic, what string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, len(magic))
	n, _ := f.Read(b)
	if string(b[:n]) != magic {
		return fmt.Errorf("%w: %s is not %s", ErrInvalid, path, what)
	}
	return nil
}
