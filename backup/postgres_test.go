package backup

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/strata-go/strata/internal/testdb/pgtest"
)

// pgUserSchema keeps a catalogue query to the schemas a user creates.
const pgUserSchema = `n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'`

// pgCatalog describes every object in the user schemas of a PostgreSQL
// database, extension members included: schemas, routines with their
// identity arguments and bodies, types, relations, columns with their
// types and defaults, constraints, and the extensions.
func pgCatalog(t *testing.T, q queryer) string {
	t.Helper()
	var b strings.Builder
	for _, part := range []struct{ name, query string }{
		{"extension", `SELECT extname FROM pg_catalog.pg_extension ORDER BY 1`},
		{"schema", `SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE ` + pgUserSchema + ` ORDER BY 1`},
		{"routine", `SELECT n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid), p.prokind::text,
			pg_catalog.md5(p.prosrc)
			FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
			WHERE ` + pgUserSchema + ` ORDER BY 1, 2, 3`},
		{"type", `SELECT n.nspname, t.typname, t.typtype::text
			FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
			WHERE ` + pgUserSchema + ` ORDER BY 1, 2`},
		{"enum", `SELECT t.typname, e.enumlabel FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
			JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
			WHERE ` + pgUserSchema + ` ORDER BY 1, e.enumsortorder`},
		{"relation", `SELECT n.nspname, c.relname, c.relkind::text
			FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE ` + pgUserSchema + ` ORDER BY 1, 2`},
		{"column", `SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
			pg_catalog.pg_get_expr(d.adbin, d.adrelid)
			FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
			JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			WHERE ` + pgUserSchema + ` AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2, a.attnum`},
		{"constraint", `SELECT n.nspname, k.conname, k.contype::text, pg_catalog.pg_get_constraintdef(k.oid)
			FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace
			WHERE ` + pgUserSchema + ` ORDER BY 1, 2`},
		{"view", `SELECT n.nspname, c.relname, pg_catalog.pg_get_viewdef(c.oid)
			FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE ` + pgUserSchema + ` AND c.relkind IN ('v', 'm') ORDER BY 1, 2`},
	} {
		for _, l := range rowsText(t, q, part.query) {
			fmt.Fprintf(&b, "%s %s\n", part.name, l)
		}
	}
	return b.String()
}

// pgExtension creates the first of names the server offers, and returns
// it, or "" if it offers none or the extension cannot be created.
func pgExtension(t *testing.T, q *sql.Conn, names ...string) string {
	t.Helper()
	for _, name := range names {
		if len(rowsText(t, q, `SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = $1`, name)) == 0 {
			continue
		}
		if _, err := q.ExecContext(t.Context(), `CREATE EXTENSION IF NOT EXISTS `+quoteDouble(name)); err != nil {
			t.Logf("create extension %s: %v", name, err)
			continue
		}
		return name
	}
	t.Logf("none of the extensions %v can be created: extension objects are not part of this test", names)
	return ""
}

// TestPostgresRestoreDropsNewObjects: what was created after the backup,
// schemas, routines and types as well as relations, is gone after a
// restore; the catalogue is the backup's exactly, and the statements that
// created those objects run again.
func TestPostgresRestoreDropsNewObjects(t *testing.T) {
	db, dsn := pgtest.New(t)
	c := conn(t, db)
	ext := pgExtension(t, c, "citext", "pgcrypto")
	mustExec(t, c,
		`CREATE SCHEMA app`,
		`CREATE TABLE app.items (id integer PRIMARY KEY, name text)`,
		`CREATE FUNCTION app.item_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM app.items'`,
		`CREATE TYPE mood AS ENUM ('sad', 'happy')`,
		`CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`,
		`CREATE TYPE pair AS (a integer, b text)`,
		`CREATE TYPE floatrange AS RANGE (subtype = float8)`,
		`CREATE FUNCTION area(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1 * $1'`,
		`CREATE FUNCTION area(integer, integer) RETURNS integer LANGUAGE sql AS 'SELECT $1 * $2'`,
		`CREATE FUNCTION cheer(mood) RETURNS mood LANGUAGE sql AS $$SELECT 'happy'::mood$$`,
		`CREATE AGGREGATE total(integer) (sfunc = int4pl, stype = integer)`,
		`CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, m mood, size posint, p pair)`,
		`CREATE PROCEDURE forget(integer) LANGUAGE sql AS 'DELETE FROM users WHERE id = $1'`,
		`CREATE VIEW user_moods AS SELECT name, cheer(m) AS m FROM users`,
		`INSERT INTO users (name, m, size, p) VALUES ('ada', 'sad', 3, ROW(1, 'x')), ('bob', NULL, NULL, NULL)`,
		`INSERT INTO app.items VALUES (1, 'one')`,
	)
	if ext == "citext" {
		mustExec(t, c, `CREATE TABLE tags (tag citext PRIMARY KEY)`, `INSERT INTO tags VALUES ('Go')`)
	}
	before, beforeRows := pgCatalog(t, c), serverSnapshot(t, c, pgSchema)
	b := NewPostgres(dsn)
	f, err := Create(t.Context(), b, c, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}

	// What a migration run after the backup might create.
	later := []string{
		`CREATE SCHEMA reports`,
		`CREATE TABLE reports.daily (day date PRIMARY KEY, users integer)`,
		`CREATE FUNCTION reports.user_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM public.users'`,
		`CREATE TYPE reports.period AS ENUM ('day', 'week')`,
		`CREATE FUNCTION period_days(reports.period) RETURNS integer LANGUAGE sql AS 'SELECT 7'`,
		`CREATE FUNCTION area(text) RETURNS integer LANGUAGE sql AS 'SELECT length($1)'`,
		`CREATE FUNCTION app.item_count(text) RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM app.items WHERE name = $1'`,
		`CREATE PROCEDURE reset_moods() LANGUAGE sql AS 'UPDATE users SET m = NULL'`,
		`CREATE PROCEDURE forget(text) LANGUAGE sql AS 'DELETE FROM users WHERE name = $1'`,
		`CREATE AGGREGATE total(bigint) (sfunc = int8pl, stype = bigint)`,
		`CREATE TYPE status AS ENUM ('new', 'done')`,
		`CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%')`,
		`CREATE TYPE point3 AS (x float8, y float8, z float8)`,
		`CREATE TYPE intspan AS RANGE (subtype = integer)`,
		`CREATE TABLE shapes (id integer PRIMARY KEY, at point3, s status, owner email, span intspan)`,
		`CREATE FUNCTION cheer(status) RETURNS status LANGUAGE sql AS $$SELECT 'done'::status$$`,
		`CREATE FUNCTION shout(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT upper($1)'`,
		`CREATE VIEW loud_users AS SELECT shout(name) AS name FROM users`,
		`CREATE MATERIALIZED VIEW mood_counts AS SELECT m, count(*) FROM users GROUP BY m`,
		// A new function an existing table's new column uses.
		`CREATE FUNCTION next_code() RETURNS text LANGUAGE sql AS $$SELECT 'c' || (random() * 1000)::int$$`,
		`ALTER TABLE users ADD COLUMN code text DEFAULT next_code()`,
		// An existing type in a new routine's arguments: --clean drops
		// and recreates the type, which the routine would stop.
		`CREATE FUNCTION pair_sum(pair, posint) RETURNS integer LANGUAGE sql AS 'SELECT ($1).a + $2'`,
		`ALTER TYPE mood ADD VALUE 'calm'`,
	}
	if ext == "citext" {
		later = append(later, `CREATE FUNCTION shout(citext) RETURNS citext LANGUAGE sql AS 'SELECT upper($1)::citext'`)
	}
	mustExec(t, c, later...)
	if pgCatalog(t, c) == before {
		t.Fatal("the new objects changed nothing")
	}
	if err := Restore(t.Context(), b, c, f.Path); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if after := pgCatalog(t, c); after != before {
		t.Errorf("restored catalogue differs\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if after := serverSnapshot(t, c, pgSchema); after != beforeRows {
		t.Errorf("restored database differs\nbefore:\n%s\nafter:\n%s", beforeRows, after)
	}
	// The migration can run again.
	mustExec(t, c, later...)
}

// TestPostgresExtraObjectsNone: nothing is dropped from a database that
// has not changed since its backup, however its objects are named: each
// is found in the archive's table of contents.
func TestPostgresExtraObjectsNone(t *testing.T) {
	db, dsn := pgtest.New(t)
	c := conn(t, db)
	pgExtension(t, c, "citext", "pgcrypto")
	mustExec(t, c,
		`CREATE SCHEMA "My Schema"`,
		`CREATE SCHEMA "line
break"`,
		`CREATE SCHEMA "-"`,
		`CREATE TYPE "My Schema"."Odd Type" AS ENUM ('a')`,
		`CREATE TYPE "line
break".t AS (x integer)`,
		`CREATE DOMAIN "My Schema"."dom ain" AS text`,
		`CREATE TYPE "-"."-" AS RANGE (subtype = numeric)`,
		`CREATE TABLE "My Schema"."Tab le" (id integer PRIMARY KEY, v "My Schema"."Odd Type")`,
		`CREATE TABLE "-".child (id integer REFERENCES "My Schema"."Tab le")`,
		`CREATE FUNCTION "My Schema"."F x"(a "My Schema"."Odd Type"[], b "My Schema"."Odd Type", VARIADIC c integer[] DEFAULT '{}')
			RETURNS integer LANGUAGE sql AS 'SELECT 1'`,
		`CREATE FUNCTION "line
break"."f
g"(x "line
break".t) RETURNS integer LANGUAGE sql AS 'SELECT 1'`,
		`CREATE FUNCTION "-"."-"(timestamp with time zone, character varying, "char", name, double precision[], OUT r integer, INOUT s bit varying)
			LANGUAGE sql AS 'SELECT 1, $6'`,
		`CREATE FUNCTION rowfn("My Schema"."Tab le", "-"."-") RETURNS integer LANGUAGE sql AS 'SELECT 1'`,
		`CREATE FUNCTION domfn("My Schema"."dom ain") RETURNS "My Schema"."dom ain" LANGUAGE sql AS 'SELECT $1'`,
		`CREATE DOMAIN ints AS integer[]`,
		`CREATE FUNCTION domfn(ints, ints[], "-"."-"[]) RETURNS integer LANGUAGE sql AS 'SELECT 1'`,
		`CREATE PROCEDURE "My Schema".p(a integer, OUT b integer) LANGUAGE sql AS 'SELECT 1'`,
		`CREATE AGGREGATE "My Schema".counter(*) (sfunc = int8inc, stype = int8, initcond = '0')`,
		`CREATE FUNCTION "-".step(integer, integer) RETURNS integer LANGUAGE sql AS 'SELECT $1 + $2'`,
		`CREATE AGGREGATE "-".ordered(float8 ORDER BY integer) (sfunc = "-".step, stype = integer, initcond = '0')`,
		`CREATE FUNCTION trig() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'`,
		`CREATE MATERIALIZED VIEW "My Schema".mv AS SELECT 1 AS x`,
		`CREATE SEQUENCE "-".seq`,
	)
	before := pgCatalog(t, c)
	b := NewPostgres(dsn)
	f, err := Create(t.Context(), b, c, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	restore, err := findTool(b.PGRestore, pgPackage, "")
	if err != nil {
		t.Fatal(err)
	}
	list, err := tool{name: b.PGRestore, path: restore, args: []string{"--list", f.Path}}.output(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	drops, err := extraObjects(t.Context(), c, list)
	if err != nil {
		t.Fatal(err)
	}
	if len(drops) > 0 {
		t.Errorf("an unchanged database would lose:\n%s\ntable of contents:\n%s", strings.Join(drops, "\n"), list)
	}
	if err := Restore(t.Context(), b, c, f.Path); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if after := pgCatalog(t, c); after != before {
		t.Errorf("restored catalogue differs\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestPostgresRestoreKeepsExtensions: an extension created after the
// backup is left in place with its schema; what else was created in that
// schema goes.
func TestPostgresRestoreKeepsExtensions(t *testing.T) {
	db, dsn := pgtest.New(t)
	c := conn(t, db)
	mustExec(t, c, `CREATE TABLE users (id integer PRIMARY KEY)`)
	b := NewPostgres(dsn)
	f, err := Create(t.Context(), b, c, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	mustExec(t, c, `CREATE SCHEMA ext`, `SET search_path = ext, public`)
	ext := pgExtension(t, c, "citext", "pgcrypto", "hstore")
	mustExec(t, c, `RESET search_path`, `CREATE FUNCTION ext.mine() RETURNS integer LANGUAGE sql AS 'SELECT 1'`)
	if ext == "" {
		t.Skip("no extension to create")
	}
	if err := Restore(t.Context(), b, c, f.Path); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	got := rowsText(t, c, `SELECT x.extname, n.nspname FROM pg_catalog.pg_extension x
		JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = $1`, ext)
	if want := fmt.Sprintf("%q|%q", ext, "ext"); len(got) != 1 || got[0] != want {
		t.Errorf("extension after restore: %v, want %s", got, want)
	}
	if got := rowsText(t, c, `SELECT 1 FROM pg_catalog.pg_proc WHERE proname = 'mine'`); len(got) != 0 {
		t.Errorf("ext.mine(), created after the backup, survived the restore")
	}
}
