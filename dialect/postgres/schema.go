package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/schema"
)

// InspectSchema describes current_schema(), the schema unqualified names
// resolve to, from pg_catalog: tables (ordinary and partitioned) with their
// columns, constraints and indexes, views and materialized views,
// triggers, functions and procedures, sequences not owned by a column,
// enum types, domains and extensions. Expressions and definitions are the
// server's own deparsing (pg_get_expr, pg_get_indexdef, pg_get_viewdef,
// pg_get_triggerdef, pg_get_functiondef), which does not depend on how
// they were written. Objects that belong to an extension are left out.
//
// Column positions are counted over the live columns only, so a column
// dropped and added back leaves no trace but its place at the end.
func (*Dialect) InspectSchema(ctx context.Context, q dialect.Execer, opts schema.Options) (*schema.Schema, error) {
	in := &inspection{opts: opts, tables: map[string]*schema.Table{}}
	if err := q.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&in.current); err != nil {
		return nil, fmt.Errorf("read current_schema(): %w", err)
	}
	steps := []struct {
		what, query string
		row         func(scan func(...any) error) error
	}{
		{"tables", pgTables, in.table},
		{"columns", pgColumns, in.column},
		{"constraints", pgConstraints, in.constraint},
		{"indexes", pgIndexes, in.index},
		{"views", pgViews, in.view},
		{"triggers", pgTriggers, in.trigger},
		{"other objects", pgObjects, in.object},
	}
	for _, s := range steps {
		if err := in.read(ctx, q, s.query, s.row); err != nil {
			return nil, fmt.Errorf("read %s: %w", s.what, err)
		}
	}
	return &in.s, nil
}

type inspection struct {
	opts    schema.Options
	current string
	s       schema.Schema
	tables  map[string]*schema.Table
}

func (in *inspection) read(ctx context.Context, q dialect.Execer, query string, row func(scan func(...any) error) error) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// The schema described, as a CTE every query starts with.
const pgNamespace = `WITH ns AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) `

// notExtension is the condition that the object objid of catalog class
// does not belong to an extension.
func notExtension(class, objid string) string {
	return `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep WHERE dep.classid = '` + class +
		`'::regclass AND dep.objid = ` + objid + ` AND dep.deptype = 'e')`
}

var pgTables = pgNamespace + `
SELECT c.relname, c.relkind = 'p', c.relpersistence = 'u',
	coalesce(pg_catalog.pg_get_partkeydef(c.oid), ''),
	c.relispartition, coalesce(pg_catalog.pg_get_expr(c.relpartbound, c.oid), ''),
	coalesce((SELECT string_agg(pg_catalog.quote_ident(p.relname), ', ' ORDER BY i.inhseqno)
		FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
		WHERE i.inhrelid = c.oid), ''),
	coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '')
FROM pg_catalog.pg_class c
WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p') AND ` + notExtension("pg_class", "c.oid")

func (in *inspection) table(scan func(...any) error) error {
	var name, partKey, bound, parents, comment string
	var partitioned, unlogged, partition bool
	if err := scan(&name, &partitioned, &unlogged, &partKey, &partition, &bound, &parents, &comment); err != nil {
		return err
	}
	if in.opts.Excluded(in.current, name, false) {
		return nil
	}
	t := &schema.Table{Name: name, Comment: comment}
	if partitioned {
		t.Options = append(t.Options, "PARTITION BY "+partKey)
	}
	if unlogged {
		t.Options = append(t.Options, "UNLOGGED")
	}
	switch {
	case partition:
		t.Options = append(t.Options, "PARTITION OF "+parents+" "+bound)
	case parents != "":
		t.Options = append(t.Options, "INHERITS ("+parents+")")
	}
	in.tables[name] = t
	in.s.Tables = append(in.s.Tables, t)
	return nil
}

var pgColumns = pgNamespace + `
SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
	coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid), ''), a.attgenerated::text, a.attidentity::text,
	CASE WHEN a.attcollation <> t.typcollation THEN coalesce(pg_catalog.quote_ident(co.collname), '') ELSE '' END,
	coalesce(pg_catalog.col_description(c.oid, a.attnum), '')
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum`

func (in *inspection) column(scan func(...any) error) error {
	var table, name, typ, def, generated, identity, collation, comment string
	var notNull bool
	if err := scan(&table, &name, &typ, &notNull, &def, &generated, &identity, &collation, &comment); err != nil {
		return err
	}
	t := in.tables[table]
	if t == nil {
		return nil
	}
	c := &schema.Column{Name: name, Type: typ, Nullable: !notNull, Collation: collation, Comment: comment}
	switch generated {
	case "", "\x00":
		c.Default = def
	default: // "s" stored, "v" virtual (PostgreSQL 18)
		c.Generated, c.Stored = def, generated == "s"
	}
	switch identity {
	case "a":
		c.Identity = "ALWAYS"
	case "d":
		c.Identity = "BY DEFAULT"
	}
	t.Columns = append(t.Columns, c)
	return nil
}

// pgConstraints reads primary keys, unique, foreign key, check and
// exclusion constraints; NOT NULL constraints (contype 'n', PostgreSQL 18)
// are the columns' nullability.
var pgConstraints = pgNamespace + `
SELECT c.relname, k.conname, k.contype::text,
	coalesce((SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY u(n, ord)
		JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n), '[]'),
	coalesce(CASE WHEN rn.nspname = current_schema() THEN r.relname ELSE rn.nspname || '.' || r.relname END, ''),
	coalesce((SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(k.confkey) WITH ORDINALITY u(n, ord)
		JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n), '[]'),
	k.confupdtype::text, k.confdeltype::text, k.condeferrable, k.condeferred,
	coalesce(pg_catalog.pg_get_expr(k.conbin, k.conrelid, true), ''),
	pg_catalog.pg_get_constraintdef(k.oid, true)
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
LEFT JOIN pg_catalog.pg_class r ON r.oid = k.confrelid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p') AND k.contype IN ('p', 'u', 'f', 'c', 'x')`

func (in *inspection) constraint(scan func(...any) error) error {
	var table, name, typ, cols, ref, refCols, onUpdate, onDelete, expr, def string
	var deferrable, deferred bool
	if err := scan(&table, &name, &typ, &cols, &ref, &refCols, &onUpdate, &onDelete, &deferrable, &deferred, &expr, &def); err != nil {
		return err
	}
	t := in.tables[table]
	if t == nil {
		return nil
	}
	var columns, refColumns []string
	if err := json.Unmarshal([]byte(cols), &columns); err != nil {
		return fmt.Errorf("constraint %s of %s: columns: %w", name, table, err)
	}
	if err := json.Unmarshal([]byte(refCols), &refColumns); err != nil {
		return fmt.Errorf("constraint %s of %s: referenced columns: %w", name, table, err)
	}
	switch typ {
	case "p":
		t.PrimaryKey = &schema.PrimaryKey{Name: name, Columns: columns}
	case "u":
		t.Uniques = append(t.Uniques, &schema.Unique{Name: name, Columns: columns})
	case "f":
		fk := &schema.ForeignKey{Name: name, Columns: columns, RefTable: ref, RefColumns: refColumns,
			OnUpdate: action(onUpdate), OnDelete: action(onDelete)}
		if deferrable {
			fk.Deferrable = "DEFERRABLE INITIALLY IMMEDIATE"
			if deferred {
				fk.Deferrable = "DEFERRABLE INITIALLY DEFERRED"
			}
		}
		t.ForeignKeys = append(t.ForeignKeys, fk)
	case "c":
		t.Checks = append(t.Checks, &schema.Check{Name: name, Expr: expr})
	case "x":
		t.Checks = append(t.Checks, &schema.Check{Name: name, Expr: def})
	}
	return nil
}

// action spells out a referential action code of pg_constraint.
func action(code string) string {
	switch code {
	case "r":
		return "RESTRICT"
	case "c":
		return "CASCADE"
	case "n":
		return "SET NULL"
	case "d":
		return "SET DEFAULT"
	default: // "a"
		return "NO ACTION"
	}
}

// pgIndexes reads the indexes no constraint implies. Each key is deparsed
// on its own (pg_get_indexdef with a column number), with its direction and
// collation where not the default.
var pgIndexes = pgNamespace + `
SELECT t.relname, i.relname, x.indisunique, am.amname, x.indnkeyatts,
	coalesce(pg_catalog.pg_get_expr(x.indpred, x.indrelid, true), ''),
	(SELECT json_agg(json_build_array(
			pg_catalog.pg_get_indexdef(x.indexrelid, k, true),
			x.indkey[k - 1] <> 0,
			coalesce(x.indoption[k - 1] & 1 = 1, false),
			coalesce((SELECT pg_catalog.quote_ident(co.collname) FROM pg_catalog.pg_collation co
				WHERE co.oid = x.indcollation[k - 1] AND co.oid <> coalesce(
					(SELECT a.attcollation FROM pg_catalog.pg_attribute a WHERE a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1]),
					0) AND co.collname <> 'default'), ''))
		ORDER BY k) FROM generate_series(1, x.indnatts) k)
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_am am ON am.oid = i.relam
WHERE t.relnamespace = (SELECT oid FROM ns) AND t.relkind IN ('r', 'p')
	AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
		WHERE k.conrelid = x.indrelid AND k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))`

func (in *inspection) index(scan func(...any) error) error {
	var table, name, method, where, keys string
	var unique bool
	var nkey int
	if err := scan(&table, &name, &unique, &method, &nkey, &where, &keys); err != nil {
		return err
	}
	t := in.tables[table]
	if t == nil {
		return nil
	}
	var parts [][]any
	if err := json.Unmarshal([]byte(keys), &parts); err != nil {
		return fmt.Errorf("index %s: keys: %w", name, err)
	}
	ix := &schema.Index{Name: name, Unique: unique, Where: where}
	if method != "btree" {
		ix.Method = method
	}
	for k, p := range parts {
		if len(p) != 4 {
			return fmt.Errorf("index %s: key %d: unexpected %v", name, k+1, p)
		}
		text, _ := p[0].(string)
		isColumn, _ := p[1].(bool)
		if k >= nkey {
			ix.Include = append(ix.Include, text)
			continue
		}
		part := schema.IndexPart{}
		part.Desc, _ = p[2].(bool)
		part.Collation, _ = p[3].(string)
		if isColumn {
			part.Column = unquoteIdent(text)
		} else {
			part.Expr = text
		}
		ix.Parts = append(ix.Parts, part)
	}
	t.Indexes = append(t.Indexes, ix)
	return nil
}

// unquoteIdent undoes quote_ident.
func unquoteIdent(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}

var pgViews = pgNamespace + `
SELECT c.relname, c.relkind = 'm', pg_catalog.pg_get_viewdef(c.oid, true)
FROM pg_catalog.pg_class c
WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('v', 'm') AND ` + notExtension("pg_class", "c.oid")

func (in *inspection) view(scan func(...any) error) error {
	v := &schema.View{}
	if err := scan(&v.Name, &v.Materialized, &v.Definition); err != nil {
		return err
	}
	v.Definition = strings.TrimSpace(v.Definition)
	in.s.Views = append(in.s.Views, v)
	return nil
}

var pgTriggers = pgNamespace + `
SELECT c.relname, t.tgname, pg_catalog.pg_get_triggerdef(t.oid, true)
FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT t.tgisinternal`

func (in *inspection) trigger(scan func(...any) error) error {
	tr := &schema.Trigger{}
	if err := scan(&tr.Table, &tr.Name, &tr.Definition); err != nil {
		return err
	}
	if in.opts.Excluded(in.current, tr.Table, false) {
		return nil
	}
	in.s.Triggers = append(in.s.Triggers, tr)
	return nil
}

// pgObjects reads functions and procedures, sequences that no column owns
// (serial and identity columns' are part of the column), enum types,
// domains and extensions.
var pgObjects = pgNamespace + `
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
	p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
	pg_catalog.pg_get_functiondef(p.oid)
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = (SELECT oid FROM ns) AND p.prokind IN ('f', 'p', 'w') AND ` + notExtension("pg_proc", "p.oid") + `
UNION ALL
SELECT 'sequence', c.relname,
	'AS ' || pg_catalog.format_type(s.seqtypid, NULL) || ' INCREMENT ' || s.seqincrement ||
	' MINVALUE ' || s.seqmin || ' MAXVALUE ' || s.seqmax || ' START ' || s.seqstart ||
	' CACHE ' || s.seqcache || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind = 'S' AND NOT EXISTS (
	SELECT 1 FROM pg_catalog.pg_depend dep WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
	AND dep.deptype IN ('a', 'i', 'e'))
UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum type' ELSE 'domain' END, t.typname,
	CASE t.typtype
	WHEN 'e' THEN '(' || coalesce((SELECT string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
		FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '') || ')'
	ELSE pg_catalog.format_type(t.typbasetype, t.typtypmod)
		|| CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
		|| coalesce(' DEFAULT ' || t.typdefault, '')
		|| coalesce((SELECT string_agg(' CONSTRAINT ' || pg_catalog.quote_ident(k.conname) || ' ' || pg_catalog.pg_get_constraintdef(k.oid, true), '' ORDER BY k.conname)
			FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid), '')
	END
FROM pg_catalog.pg_type t
WHERE t.typnamespace = (SELECT oid FROM ns) AND t.typtype IN ('e', 'd') AND ` + notExtension("pg_type", "t.oid") + `
UNION ALL
SELECT 'extension', e.extname, ''
FROM pg_catalog.pg_extension e WHERE e.extnamespace = (SELECT oid FROM ns)`

func (in *inspection) object(scan func(...any) error) error {
	o := &schema.Object{}
	if err := scan(&o.Kind, &o.Name, &o.Definition); err != nil {
		return err
	}
	o.Definition = strings.TrimSpace(o.Definition)
	in.s.Objects = append(in.s.Objects, o)
	return nil
}
