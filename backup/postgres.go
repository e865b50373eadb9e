package backup

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
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
// what the backup does not have, created after the backup was taken, so
// that the restored database is the backup's and a migration that created
// those objects can run again: schemas, tables, views, materialized views,
// sequences, foreign tables, foreign keys, functions, procedures,
// aggregates (a new overload goes, the backup's stays), types and
// domains. Objects of an extension are left to it, and so is the public
// schema, which pg_dump leaves out of an archive when it is as created.
//
// Objects of other kinds created since are left in place, unless they are
// in a dropped schema or depend on a dropped object: extensions and the
// schemas they are in, operators, casts, collations, conversions, text
// search objects, foreign-data wrappers and servers, event triggers,
// publications, subscriptions, default privileges, and roles, which
// belong to the server rather than the database.
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
// the backup does not have (objects created since; see [Postgres]),
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

// toc is an archive's table of contents (pg_restore --list): its entries
// "<type> <schema> <name> <owner>", sorted. Names may hold spaces, so an
// object is looked up by the entry's start; one whose name followed by a
// space begins another's may be taken for present, and kept.
type toc []string

func parseTOC(list string) toc {
	var t toc
	for _, line := range strings.Split(list, "\n") {
		if m := tocEntry.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			t = append(t, m[1])
		}
	}
	slices.Sort(t)
	return t
}

// tocName writes parts as pg_restore --list does, which turns line breaks
// into spaces.
var tocName = strings.NewReplacer("\n", " ", "\r", " ")

// has reports whether the archive has the object desc describes: its
// type, schema ("-" for a schema) and name, each as pg_dump writes them.
// The entries that start with desc sort together from the first not less
// than it.
func (t toc) has(desc string) bool {
	desc = tocName.Replace(desc)
	i, _ := slices.BinarySearch(t, desc)
	for ; i < len(t) && strings.HasPrefix(t[i], desc); i++ {
		if len(t[i]) == len(desc) || t[i][len(desc)] == ' ' {
			return true
		}
	}
	return false
}

// userSchema names a schema outside the system ones (pg_catalog, pg_toast,
// pg_temp_N, information_schema), in a condition on n.nspname.
const userSchema = `n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'`

// notMember is a condition true of an object of catalog class whose OID
// is oid unless it belongs to an extension or is part of another object
// (the array type of a type, the constructor functions of a range type):
// neither is in an archive, nor may be dropped on its own.
func notMember(class, oid string) string {
	return `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
			WHERE d.classid = 'pg_catalog.` + class + `'::pg_catalog.regclass AND d.objid = ` + oid + ` AND d.deptype IN ('e', 'i'))`
}

// extraQuery lists what a restore may have to drop: relations and foreign
// keys, schemas, routines and types. A routine's argument types are
// written as pg_dump writes them in its table of contents, with
// search_path empty, and in a form that names the same types whatever
// psql's search_path is: qualified unless in pg_catalog. The last column
// is text: as name, the type of the first branch's, a long argument list
// would be cut short.
var extraQuery = `SELECT 'r', c.relkind::text, n.nspname, c.relname, ''::text
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ` + userSchema + `
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
			WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		  AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
			WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
			  AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')))
		UNION ALL
		SELECT 'f', '', n.nspname, c.relname, k.conname::text
		FROM pg_catalog.pg_constraint k
		JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND ` + userSchema + `
		UNION ALL
		SELECT 's', '', n.nspname, '', ''
		FROM pg_catalog.pg_namespace n
		WHERE ` + userSchema + ` AND n.nspname <> 'public' AND ` + notMember("pg_namespace", "n.oid") + `
		  AND n.oid NOT IN (SELECT x.extnamespace FROM pg_catalog.pg_extension x)
		  AND n.oid NOT IN (SELECT d.refobjid FROM pg_catalog.pg_depend x JOIN pg_catalog.pg_depend d
			ON d.classid = x.classid AND d.objid = x.objid AND d.objsubid = x.objsubid
			WHERE x.deptype = 'e' AND d.refclassid = 'pg_catalog.pg_namespace'::regclass)
		UNION ALL
		SELECT 'p', p.prokind::text, n.nspname, p.proname,
			COALESCE(pg_catalog.string_agg(CASE
				WHEN tn.nspname = 'pg_catalog' THEN pg_catalog.format_type(t.oid, NULL)
				WHEN t.typelem <> 0 AND t.typlen = -1
				THEN pg_catalog.quote_ident(en.nspname) || '.' || pg_catalog.quote_ident(e.typname) || '[]'
				ELSE pg_catalog.quote_ident(tn.nspname) || '.' || pg_catalog.quote_ident(t.typname) END, ', ' ORDER BY a.i), '')
		FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		LEFT JOIN LATERAL pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) WITH ORDINALITY a(oid, i) ON true
		LEFT JOIN pg_catalog.pg_type t ON t.oid = a.oid
		LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
		LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem
		LEFT JOIN pg_catalog.pg_namespace en ON en.oid = e.typnamespace
		WHERE ` + userSchema + ` AND ` + notMember("pg_proc", "p.oid") + `
		GROUP BY p.oid, p.prokind, n.nspname, p.proname
		UNION ALL
		SELECT 't', t.typtype::text, n.nspname, t.typname, ''
		FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
		LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
		WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r') AND (t.typtype <> 'c' OR c.relkind = 'c')
		  AND NOT (t.typelem <> 0 AND t.typlen = -1) AND ` + userSchema + ` AND ` + notMember("pg_type", "t.oid")

// extraObjects returns the statements that drop what is in the database
// but not in the archive whose table of contents (pg_restore --list) is
// list, outside the system schemas and extensions:
//   - foreign keys, which would stop --clean from dropping what they refer
//     to;
//   - schemas, except public: pg_dump 15 leaves public out of an archive
//     when it has its default owner, so an archive without it may have
//     had it. A schema an extension lives in is kept;
//   - tables, views, materialized views, foreign tables and sequences
//     (sequences owned by a column go with their table);
//   - functions, procedures and aggregates, told apart by their argument
//     types, so a new overload goes and the archive's stays;
//   - types (enum, composite, range, base) and domains.
//
// CASCADE takes along whatever depends on them, which the restore then
// recreates from the archive. What is in a dropped schema goes with it.
func extraObjects(ctx context.Context, conn *sql.Conn, list string) ([]string, error) {
	archive := parseTOC(list)
	rows, err := conn.QueryContext(ctx, extraQuery)
	if err != nil {
		return nil, fmt.Errorf("list schema objects: %w", err)
	}
	defer rows.Close()
	type object struct{ what, kind, schema, name, extra string }
	var objects []object
	newSchemas := map[string]bool{}
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.what, &o.kind, &o.schema, &o.name, &o.extra); err != nil {
			return nil, fmt.Errorf("list schema objects: %w", err)
		}
		if o.what == "s" {
			if !archive.has("SCHEMA - " + o.schema) {
				newSchemas[o.schema] = true
			}
			continue
		}
		objects = append(objects, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list schema objects: %w", err)
	}
	// Sorted here rather than by the server, which would compare the
	// text columns in the database's collation, slowly.
	slices.SortFunc(objects, func(a, b object) int {
		return cmp.Or(strings.Compare(a.what, b.what), strings.Compare(a.kind, b.kind), strings.Compare(a.schema, b.schema),
			strings.Compare(a.name, b.name), strings.Compare(a.extra, b.extra))
	})
	rels := map[string]string{"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}
	routines := map[string]string{"f": "FUNCTION", "w": "FUNCTION", "p": "PROCEDURE", "a": "AGGREGATE"}
	var fks, schemas, drops []string
	for s := range newSchemas {
		schemas = append(schemas, "DROP SCHEMA IF EXISTS "+quoteDouble(s)+" CASCADE")
	}
	slices.Sort(schemas)
	for _, o := range objects {
		if newSchemas[o.schema] {
			continue
		}
		qualified := quoteDouble(o.schema) + "." + quoteDouble(o.name)
		switch o.what {
		case "f":
			if !archive.has("FK CONSTRAINT " + o.schema + " " + o.name + " " + o.extra) {
				fks = append(fks, "ALTER TABLE IF EXISTS "+qualified+" DROP CONSTRAINT IF EXISTS "+quoteDouble(o.extra))
			}
		case "r":
			if !archive.has(rels[o.kind] + " " + o.schema + " " + o.name) {
				drops = append(drops, "DROP "+rels[o.kind]+" IF EXISTS "+qualified+" CASCADE")
			}
		case "p":
			args := o.extra
			if o.kind == "a" && args == "" {
				args = "*"
			}
			if !archive.has(routines[o.kind] + " " + o.schema + " " + o.name + "(" + args + ")") {
				drops = append(drops, "DROP ROUTINE IF EXISTS "+qualified+"("+o.extra+") CASCADE")
			}
		case "t":
			desc := "TYPE"
			if o.kind == "d" {
				desc = "DOMAIN"
			}
			if !archive.has(desc + " " + o.schema + " " + o.name) {
				drops = append(drops, "DROP "+desc+" IF EXISTS "+qualified+" CASCADE")
			}
		}
	}
	return slices.Concat(fks, schemas, drops), nil
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
