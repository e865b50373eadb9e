package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/sqlite"
)

// FuzzRebuild is a differential test of the table rebuild against SQLite
// itself. The input drives a generator of schemas that SQLite accepts: a
// table with columns named like keywords, types and each other up to
// non-ASCII case, quoted every way SQLite allows, with column and table
// constraints, indexes (expression, partial, single-quoted), views (with
// column lists over SELECT *, over other views) and triggers (on the
// table, on other tables, INSTEAD OF on views) and some rows. Then one
// column is removed through DropColumn and through a forced RebuildTable,
// renamed, and the table is rebuilt with no change, each on its own copy. SQLite's
// pragmas decide: table_xinfo, index_xinfo and foreign_key_list report
// what is expected, every kept index still has its exact SQL and every
// dropped one cannot be created on the new table, every view and trigger
// that compiled still compiles, every row is kept, integrity_check is ok.
// A refusal must be a DependencyError (or name the unsupported construct)
// and change nothing.
func FuzzRebuild(f *testing.F) {
	for _, seed := range [][]byte{
		{}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		[]byte("key value text left desc like integer"),
		{0xff, 0xfe, 0x80, 0x7f, 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x11, 0x22, 0x33, 0x44},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &schemaGen{in: data}
		s := g.generate()
		check(t, s)
	})
}

// genSchema is one generated database: statements, the table "t" and the
// column to remove.
type genSchema struct {
	stmts  []string
	onConn []string // TEMP objects and pragmas of the connection, after stmts
	cols   []string // t's column names
	remove string
	keep   string // a column left in place, to force a rebuild with
}

// schemaGen turns the fuzzer's bytes into choices.
type schemaGen struct {
	in []byte
	i  int
}

func (g *schemaGen) n(k int) int {
	if k <= 1 {
		return 0
	}
	if g.i >= len(g.in) {
		g.i++
		return (g.i * 7) % k
	}
	b := int(g.in[g.i])
	g.i++
	return b % k
}

// genNames are the column names the generator draws from: keywords that
// SQLite lets name a column, type names, names that differ only in
// non-ASCII case or by a Kelvin sign, names with spaces and quotes.
var genNames = []string{"a", "b", "c", "key", "value", "text", "left", "desc", "like", "integer",
	"é", "É", "k", "\u212a", "x y", `q"t`, "Mixed"}

// bare reports whether name can be written without quotes.
func bare(name string) bool {
	return !strings.ContainsAny(name, ` "`)
}

// ident writes name in one of the ways SQLite reads as an identifier.
func (g *schemaGen) ident(name string, strOK bool) string {
	max := 4
	if strOK {
		max = 5
	}
	switch g.n(max) {
	case 0:
		if bare(name) {
			return name
		}
	case 1:
		if !strings.Contains(name, "]") {
			return "[" + name + "]"
		}
	case 2:
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	case 4:
		return "'" + strings.ReplaceAll(name, "'", "''") + "'"
	}
	return dialect.QuoteDouble(name)
}

// ref writes a reference to column name of t in an expression.
func (g *schemaGen) ref(name string) string {
	switch g.n(4) {
	case 0:
		return "t." + g.ident(name, false)
	case 1:
		if bare(name) {
			return name
		}
	}
	return g.ident(name, false)
}

func (g *schemaGen) generate() genSchema {
	var s genSchema
	ncols := 2 + g.n(5)
	used := map[string]bool{}
	for len(s.cols) < ncols {
		name := genNames[g.n(len(genNames))]
		if used[strings.ToLower(name)] && name == strings.ToLower(name) || used[asciiFold(name)] {
			name = fmt.Sprintf("c%d", len(s.cols))
		}
		used[asciiFold(name)] = true
		s.cols = append(s.cols, name)
	}
	strict := g.n(5) == 0
	withoutRowid := g.n(5) == 0
	types := []string{"", "INT", "INTEGER", "TEXT", "REAL", "NUMERIC", "VARCHAR(10)", "BLOB", "generated", "int key", "'quoted type'", "DECIMAL(10, -2)"}
	if strict {
		types = []string{"INT", "INTEGER", "TEXT", "REAL", "ANY"}
	}
	pkCol := -1
	if g.n(3) == 0 || withoutRowid {
		pkCol = g.n(ncols)
	}
	tablePK := g.n(2) == 0
	generated := -1
	if ncols > 2 && g.n(4) == 0 {
		generated = ncols - 1
	}
	var defs []string
	fkCols := map[int]bool{}
	for i, c := range s.cols {
		typ := types[g.n(len(types))]
		if i == pkCol && g.n(2) == 0 && !withoutRowid {
			typ = "INTEGER"
		}
		d := g.ident(c, true)
		if typ != "" {
			d += " " + typ
		}
		if i == generated {
			src := s.cols[g.n(i)]
			d += " AS (" + g.ref(src) + " || 'x')"
			if g.n(2) == 0 && !withoutRowid {
				d += " STORED"
			}
			defs = append(defs, d)
			continue
		}
		if i == pkCol && !tablePK {
			d += " PRIMARY KEY"
			if typ == "INTEGER" && !withoutRowid && g.n(3) == 0 {
				d += " AUTOINCREMENT"
			}
		}
		switch g.n(8) {
		case 0:
			d += " NOT NULL DEFAULT 1"
		case 1:
			d += " UNIQUE"
		case 2:
			d += " CHECK (" + g.expr(c, s.cols) + ")"
		case 3:
			if i != pkCol {
				d += " REFERENCES p (id)"
				fkCols[i] = true
				switch g.n(3) {
				case 0:
					d += " NOT NULL DEFERRABLE INITIALLY DEFERRED"
				case 1:
					d += " ON DELETE CASCADE"
				}
			}
		case 4:
			d += " COLLATE NOCASE DEFAULT 'd'"
		case 5:
			d += " CONSTRAINT " + g.ident("named "+c, false) + " CHECK (" + g.expr(c, s.cols) + ")"
		}
		defs = append(defs, d)
	}
	if pkCol >= 0 && tablePK {
		pk := g.ident(s.cols[pkCol], true)
		if pkCol == generated {
			pk = g.ident(s.cols[0], true)
		}
		extra := ""
		if g.n(2) == 0 && ncols > 1 && pkCol != 1 && generated != 1 {
			extra = ", " + g.ident(s.cols[1], true)
		}
		defs = append(defs, "PRIMARY KEY ("+pk+extra+")")
	}
	for k := g.n(3); k > 0; k-- {
		switch g.n(3) {
		case 0:
			a, b := s.cols[g.n(ncols)], s.cols[g.n(ncols)]
			if a != b {
				defs = append(defs, "UNIQUE ("+g.ident(a, true)+", "+g.ident(b, true)+")")
			}
		case 1:
			defs = append(defs, "CHECK ("+g.expr(s.cols[g.n(ncols)], s.cols)+")")
		case 2:
			if c := g.n(ncols); c != generated {
				defs = append(defs, "FOREIGN KEY ("+g.ident(s.cols[c], true)+") REFERENCES p (id) ON UPDATE CASCADE")
				fkCols[c] = true
			}
		}
	}
	create := "CREATE TABLE t (" + strings.Join(defs, ", ") + ")"
	var opts []string
	if withoutRowid {
		opts = append(opts, "WITHOUT ROWID")
	}
	if strict {
		opts = append(opts, "STRICT")
	}
	create += " " + strings.Join(opts, ", ")
	s.stmts = append(s.stmts,
		`CREATE TABLE p (id INTEGER PRIMARY KEY)`, `INSERT INTO p VALUES (1), (2), (3)`,
		`CREATE TABLE log (x)`, `CREATE TABLE o (x)`, create)
	// rows
	var insertCols []string
	for i, c := range s.cols {
		if i != generated {
			insertCols = append(insertCols, dialect.QuoteDouble(c))
		}
	}
	for r := 0; r < 2+g.n(4); r++ {
		var vals []string
		for range insertCols {
			vals = append(vals, fmt.Sprint(1+(r+g.n(3))%3))
		}
		s.stmts = append(s.stmts, "INSERT OR IGNORE INTO t ("+strings.Join(insertCols, ", ")+") VALUES ("+strings.Join(vals, ", ")+")")
	}
	// indexes
	for k := g.n(4); k > 0; k-- {
		c := s.cols[g.n(ncols)]
		var part string
		switch g.n(6) {
		case 0:
			part = "'" + strings.ReplaceAll(c, "'", "''") + "'"
		case 1:
			part = "CAST(" + g.ref(c) + " AS TEXT)"
		case 2:
			part = "lower(" + g.ref(c) + ")"
		case 3:
			part = g.ident(c, false) + " COLLATE NOCASE DESC"
		default:
			part = g.ident(c, false)
		}
		ix := fmt.Sprintf("CREATE INDEX %s ON t (%s)", g.ident(fmt.Sprintf("ix%d %s", k, c), false), part)
		if g.n(3) == 0 {
			ix += " WHERE " + g.ref(s.cols[g.n(ncols)]) + " IS NOT NULL"
		}
		s.stmts = append(s.stmts, ix)
	}
	// views
	var views []string
	for k := g.n(4); k > 0; k-- {
		name := fmt.Sprintf("v%d", k)
		switch g.n(4) {
		case 0:
			var list []string
			for i := range s.cols {
				list = append(list, fmt.Sprintf("x%d", i))
			}
			s.stmts = append(s.stmts, "CREATE VIEW "+name+" ("+strings.Join(list, ", ")+") AS SELECT * FROM t")
		case 1:
			s.stmts = append(s.stmts, "CREATE VIEW "+name+" AS SELECT "+g.ref(s.cols[g.n(ncols)])+" AS y FROM t")
		case 2:
			if len(views) > 0 {
				s.stmts = append(s.stmts, "CREATE VIEW "+name+" AS SELECT * FROM "+views[g.n(len(views))])
			} else {
				s.stmts = append(s.stmts, "CREATE VIEW "+name+" AS SELECT * FROM t")
			}
		default:
			s.stmts = append(s.stmts, "CREATE VIEW "+name+" AS SELECT * FROM t WHERE "+g.ref(s.cols[g.n(ncols)])+" IS NOT NULL")
		}
		views = append(views, name)
	}
	// triggers
	for k := g.n(5); k > 0; k-- {
		name := fmt.Sprintf("tr%d", k)
		c := g.ident(s.cols[g.n(ncols)], false)
		switch g.n(5) {
		case 0:
			s.stmts = append(s.stmts, "CREATE TRIGGER "+name+" AFTER INSERT ON t BEGIN INSERT INTO log (x) VALUES (new."+c+"); END")
		case 1:
			s.stmts = append(s.stmts, "CREATE TRIGGER "+name+" AFTER UPDATE OF "+c+" ON t BEGIN INSERT INTO log (x) VALUES (1); END")
		case 2:
			s.stmts = append(s.stmts, "CREATE TRIGGER "+name+" AFTER INSERT ON o BEGIN UPDATE t SET "+c+" = new.x WHERE 0; END")
		case 3:
			if len(views) > 0 {
				s.stmts = append(s.stmts, "CREATE TRIGGER "+name+" INSTEAD OF INSERT ON "+views[g.n(len(views))]+" BEGIN INSERT INTO t ("+c+") SELECT 1 WHERE 0; END")
			}
		default:
			s.stmts = append(s.stmts, "CREATE TRIGGER "+name+" BEFORE DELETE ON t BEGIN INSERT INTO log (x) SELECT "+c+" FROM t WHERE 0; END")
		}
	}
	// The connection's state: a TEMP table that shadows t, with an index
	// and a trigger of its own, and legacy_alter_table.
	if g.n(4) == 0 {
		s.onConn = append(s.onConn, `CREATE TEMP TABLE t (z INT, w INT)`, `CREATE INDEX temp.tz ON t (z)`,
			`CREATE TEMP TRIGGER tzt AFTER INSERT ON temp.t BEGIN INSERT INTO log (x) VALUES (new.z); END`,
			`INSERT INTO temp.t VALUES (1, 2)`)
	}
	if g.n(4) == 0 {
		s.onConn = append(s.onConn, `PRAGMA legacy_alter_table = ON`)
	}
	s.remove = s.cols[g.n(ncols)]
	for _, c := range s.cols {
		if c != s.remove && s.keep == "" {
			s.keep = c
		}
	}
	return s
}

// expr writes an expression that involves column c, true for the rows the
// generator inserts.
func (g *schemaGen) expr(c string, cols []string) string {
	r := g.ref(c)
	switch g.n(7) {
	case 0:
		return "CAST(" + r + " AS TEXT) <> 'no'"
	case 1:
		return r + " IS NOT 'bad'"
	case 2:
		return "length(" + r + ") < 100"
	case 3:
		return r + " COLLATE NOCASE <> 'BAD'"
	case 4:
		o := cols[g.n(len(cols))]
		return r + " IS NOT " + g.ref(o) + " OR 1"
	case 5:
		return "CASE WHEN " + r + " THEN 1 ELSE 1 END"
	default:
		return r + " NOT LIKE 'zz%'"
	}
}

// asciiFold folds A-Z only, as SQLite does.
func asciiFold(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// fzState is what SQLite reports about a database, for comparisons.
type fzState struct {
	cols     []string          // name|type|notnull|dflt|hidden, in order
	pk       map[string]string // column -> pk position
	indexes  map[string]string // name -> sql and index_xinfo keys
	autoidx  []string          // the columns of UNIQUE and PRIMARY KEY autoindexes
	fks      []string          // table|from|to|on_update|on_delete|match
	rows     []string          // rowid (if any) and every column but the removed one
	compiles map[string]bool   // what a probe of views and triggers probes -> it compiles
	seq      string
	temp     []string // the TEMP schema's objects and rows of temp.t
	pragmas  string   // foreign_keys and legacy_alter_table
}

func fzOpen(t *testing.T, stmts []string) (*sql.DB, bool) {
	t.Helper()
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range stmts {
		if _, err := db.ExecContext(t.Context(), s); err != nil {
			return nil, false // not a schema SQLite accepts: nothing to test
		}
	}
	return db, true
}

func fzState0(t *testing.T, db *sql.DB, without string) fzState {
	t.Helper()
	st := fzState{pk: map[string]string{}, indexes: map[string]string{}, compiles: map[string]bool{}}
	for _, r := range rbQuery(t, db, `SELECT name, type, "notnull", coalesce(dflt_value, '<nil>'), hidden, pk FROM pragma_table_xinfo('t', 'main')`) {
		parts := strings.Split(r, "|")
		if parts[0] == without {
			continue
		}
		st.cols = append(st.cols, strings.Join(parts[:5], "|"))
		st.pk[parts[0]] = parts[5]
	}
	for _, r := range rbQuery(t, db, `SELECT name, coalesce(sql, ''), origin FROM pragma_index_list('t', 'main') JOIN main.sqlite_schema USING (name) ORDER BY name`) {
		parts := strings.SplitN(r, "|", 3)
		keys := fzIndexKeys(t, db, parts[0])
		if parts[1] != "" {
			st.indexes[parts[0]] = parts[1] + " => " + keys
		}
	}
	for _, r := range rbQuery(t, db, `SELECT il.name FROM pragma_index_list('t', 'main') AS il WHERE il.origin IN ('u', 'pk')`) {
		st.autoidx = append(st.autoidx, strings.Join(rbQuery(t, db, `SELECT name FROM pragma_index_info(?, 'main') ORDER BY seqno`, r), ","))
	}
	slices.Sort(st.autoidx)
	st.fks = rbQuery(t, db, `SELECT "table", "from", coalesce("to", '<pk>'), on_update, on_delete, "match" FROM pragma_foreign_key_list('t', 'main') ORDER BY "from", "table"`)
	var sel []string
	if rbOne(t, db, `SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = 't'`) == "0" {
		sel = append(sel, "_rowid_")
	}
	for _, r := range rbQuery(t, db, `SELECT name FROM pragma_table_xinfo('t', 'main')`) {
		if r != without {
			sel = append(sel, dialect.QuoteDouble(r))
		}
	}
	st.rows = rbQuery(t, db, `SELECT `+strings.Join(sel, ", ")+` FROM main.t ORDER BY `+strings.Join(sel, ", "))
	if rbOne(t, db, `SELECT count(*) FROM main.sqlite_schema WHERE name = 'sqlite_sequence'`) == "1" {
		st.seq = strings.Join(rbQuery(t, db, `SELECT seq FROM sqlite_sequence WHERE name = 't'`), ",")
	}
	st.temp = rbQuery(t, db, `SELECT type, name, tbl_name, sql FROM temp.sqlite_schema ORDER BY name`)
	if rbOne(t, db, `SELECT count(*) FROM temp.sqlite_schema WHERE name = 't'`) == "1" {
		st.temp = append(st.temp, rbQuery(t, db, `SELECT * FROM temp.t`)...)
	}
	st.pragmas = rbOne(t, db, `PRAGMA foreign_keys`) + "," + rbOne(t, db, `PRAGMA legacy_alter_table`)
	for key, stmt := range fzProbes(t, db) {
		rows, err := db.QueryContext(t.Context(), stmt)
		if err == nil {
			rows.Close()
		}
		st.compiles[key] = err == nil
	}
	return st
}

func fzMaskNotNull(col string) string {
	p := strings.Split(col, "|")
	p[2] = "?"
	return strings.Join(p, "|")
}

// fzRefersTo reports whether SQLite finds column in the SQL of object: a
// rename of the column rewrites it.
func fzRefersTo(t *testing.T, db *sql.DB, object, column string) bool {
	t.Helper()
	before := rbOne(t, db, `SELECT sql FROM main.sqlite_schema WHERE name = ?`, object)
	legacy := rbOne(t, db, `PRAGMA legacy_alter_table`)
	rbExec(t, db, "PRAGMA legacy_alter_table = OFF", "SAVEPOINT probe",
		"ALTER TABLE main.t RENAME COLUMN "+dialect.QuoteDouble(column)+" TO strata_probe_renamed")
	after := rbOne(t, db, `SELECT sql FROM main.sqlite_schema WHERE name = ?`, object)
	rbExec(t, db, "ROLLBACK TO probe", "RELEASE probe", "PRAGMA legacy_alter_table = "+legacy)
	return after != before
}

// fzIndexKeys describes the keys of an index by column name.
func fzIndexKeys(t *testing.T, db *sql.DB, name string) string {
	return strings.Join(rbQuery(t, db, `SELECT coalesce(name, CASE cid WHEN -2 THEN '<expr>' ELSE '<rowid>' END), desc, coll, key
		FROM pragma_index_xinfo(?, 'main') ORDER BY seqno`, name), ";")
}

// fzProbes returns statements that compile every view and fire every
// trigger's program, by what they probe.
func fzProbes(t *testing.T, db *sql.DB) map[string]string {
	out := map[string]string{}
	for _, v := range rbQuery(t, db, `SELECT name FROM main.sqlite_schema WHERE type = 'view' ORDER BY name`) {
		out["view "+v] = "EXPLAIN SELECT * FROM main." + dialect.QuoteDouble(v)
	}
	for _, tb := range rbQuery(t, db, `SELECT DISTINCT tbl_name FROM main.sqlite_schema WHERE type = 'trigger' ORDER BY 1`) {
		q := "main." + dialect.QuoteDouble(tb)
		out["insert into "+tb] = "EXPLAIN INSERT INTO " + q + " DEFAULT VALUES"
		out["delete from "+tb] = "EXPLAIN DELETE FROM " + q
		var set []string
		for _, c := range rbQuery(t, db, `SELECT name FROM pragma_table_xinfo(?, 'main') WHERE hidden = 0`, tb) {
			set = append(set, dialect.QuoteDouble(c)+" = "+dialect.QuoteDouble(c))
		}
		if len(set) > 0 {
			out["update "+tb] = "EXPLAIN UPDATE " + q + " SET " + strings.Join(set, ", ")
		}
	}
	return out
}

func fzHealthy(t *testing.T, db *sql.DB, what string) {
	t.Helper()
	if got := rbQuery(t, db, `PRAGMA integrity_check`); len(got) != 1 || got[0] != "ok" {
		t.Errorf("%s: integrity_check: %q", what, got)
	}
	if got := rbQuery(t, db, `PRAGMA foreign_key_check`); len(got) != 0 {
		t.Errorf("%s: foreign_key_check: %q", what, got)
	}
	if got := rbQuery(t, db, `SELECT name FROM sqlite_schema WHERE name LIKE 'strata%'`); len(got) != 0 {
		t.Errorf("%s: scratch objects left: %q", what, got)
	}
}

// refusal reports whether err is a refusal strata documents.
func refusal(err error) bool {
	var de *sqlite.DependencyError
	if errors.As(err, &de) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "is not supported") || strings.Contains(msg, "part of the primary key of a WITHOUT ROWID table") ||
		strings.Contains(msg, "the table's only column")
}

func check(t *testing.T, s genSchema) {
	ctx := t.Context()
	all := append(append([]string(nil), s.stmts...), s.onConn...)
	base, ok := fzOpen(t, all)
	if !ok {
		return
	}
	// SQLite's own RENAME COLUMN, which tells which indexes use a column,
	// reads them against a TEMP table that shadows t: probe without one.
	probe, ok := fzOpen(t, s.stmts)
	if !ok {
		return
	}
	full := fzState0(t, base, "\x00")
	if full.rows == nil && len(full.cols) == 0 {
		return
	}
	t.Logf("schema:\n%s\nremove %q", strings.Join(all, ";\n"), s.remove)

	// 1. A rebuild with no change: SQLite reports the same table.
	db, _ := fzOpen(t, all)
	dump := rbDump(t, db)
	if err := sqlite.RebuildTable(ctx, db, "t", sqlite.AlterColumn(s.keep)); err != nil {
		if !refusal(err) {
			t.Fatalf("rebuild with no change: %v", err)
		}
		if rbDump(t, db) != dump {
			t.Fatalf("refused rebuild changed the database: %v", err)
		}
	} else {
		got := fzState0(t, db, "\x00")
		fzSame(t, "rebuild with no change", full, got)
		fzHealthy(t, db, "rebuild with no change")
	}

	// 2. The removal, natively where SQLite can and by the rebuild.
	want := fzState0(t, base, s.remove)
	var results [2]error
	var states [2]fzState
	for k, drop := range []func(*sql.DB) error{
		func(db *sql.DB) error { return sqlite.DropColumn(ctx, db, "t", s.remove) },
		func(db *sql.DB) error {
			return sqlite.RebuildTable(ctx, db, "t", sqlite.RemoveColumn(s.remove), sqlite.AlterColumn(s.keep))
		},
	} {
		what := []string{"DropColumn", "RebuildTable"}[k]
		db, _ := fzOpen(t, all)
		dump := rbDump(t, db)
		err := drop(db)
		results[k] = err
		if err != nil {
			if !refusal(err) {
				t.Fatalf("%s: %v", what, err)
			}
			if rbDump(t, db) != dump {
				t.Fatalf("%s refused but changed the database: %v", what, err)
			}
			fzJustified(t, db, what, err, s.remove)
			continue
		}
		got := fzState0(t, db, "\x00")
		states[k] = got
		fzHealthy(t, db, what)
		rbEqual(t, what+": TEMP objects", got.temp, full.temp)
		if got.pragmas != full.pragmas {
			t.Errorf("%s: foreign_keys,legacy_alter_table = %s, were %s", what, got.pragmas, full.pragmas)
		}
		rbEqual(t, what+": rows", got.rows, want.rows)
		if len(got.cols) != len(want.cols) {
			t.Fatalf("%s: columns %q, want %q", what, got.cols, want.cols)
		}
		removedPK := want.pk != nil && full.pk[s.remove] != "0"
		for i := range got.cols {
			g, w := got.cols[i], want.cols[i]
			if name := strings.SplitN(g, "|", 2)[0]; removedPK && full.pk[name] != "0" {
				// the primary key went with the column, and with it the
				// NOT NULL that STRICT and WITHOUT ROWID imply for it
				g, w = fzMaskNotNull(g), fzMaskNotNull(w)
			}
			if g != w {
				t.Errorf("%s: column %q, want %q", what, got.cols[i], want.cols[i])
			}
			name := strings.SplitN(got.cols[i], "|", 2)[0]
			if !removedPK && got.pk[name] != want.pk[name] {
				t.Errorf("%s: column %q pk %s, want %s", what, name, got.pk[name], want.pk[name])
			}
		}
		for name, def := range want.indexes {
			if g, ok := got.indexes[name]; ok {
				if g != def {
					t.Errorf("%s: index %q is now %s, was %s", what, name, g, def)
				}
				continue
			}
			// dropped: SQLite must see the column in it
			if !fzRefersTo(t, probe, name, s.remove) {
				t.Errorf("%s: index %q was dropped but does not use %q: %s", what, name, s.remove, def)
			}
		}
		for name := range got.indexes {
			if _, ok := want.indexes[name]; !ok {
				t.Errorf("%s: new index %q", what, name)
			}
		}
		for _, a := range got.autoidx {
			if !slices.Contains(full.autoidx, a) {
				t.Errorf("%s: new UNIQUE or PRIMARY KEY on (%s)", what, a)
			}
		}
		for _, a := range full.autoidx {
			if !slices.ContainsFunc(strings.Split(a, ","), func(c string) bool { return c == s.remove }) && !slices.Contains(got.autoidx, a) {
				t.Errorf("%s: lost UNIQUE or PRIMARY KEY on (%s)", what, a)
			}
		}
		var wantFKs []string
		for _, fk := range full.fks {
			if strings.Split(fk, "|")[1] != s.remove {
				wantFKs = append(wantFKs, fk)
			}
		}
		rbEqual(t, what+": foreign keys", got.fks, wantFKs)
		if got.seq != full.seq && !removedPK { // AUTOINCREMENT goes with its column
			t.Errorf("%s: sqlite_sequence %q, was %q", what, got.seq, full.seq)
		}
		for stmt, ok := range full.compiles {
			if ok && !got.compiles[stmt] {
				t.Errorf("%s: %s no longer compiles", what, stmt)
			}
		}
	}
	// 3. A rename of the same column, with a forced rebuild: everything
	// follows the new name.
	{
		db, _ := fzOpen(t, all)
		newName := "renamed " + s.remove
		dump := rbDump(t, db)
		err := sqlite.RebuildTable(ctx, db, "t", sqlite.RenameColumn(s.remove, newName), sqlite.AlterColumn(s.keep))
		if err != nil {
			// Renames are SQLite's own ALTER TABLE RENAME COLUMN, which
			// refuses some (a WITHOUT ROWID table's key column that a
			// UNIQUE names too): then nothing may have changed.
			if !refusal(err) && !strings.Contains(err.Error(), "rename column") {
				t.Fatalf("rename: %v", err)
			}
			if rbDump(t, db) != dump {
				t.Fatalf("refused rename changed the database: %v", err)
			}
		} else {
			got := fzState0(t, db, "\x00")
			fzHealthy(t, db, "rename")
			rbEqual(t, "rename: TEMP objects", got.temp, full.temp)
			rbEqual(t, "rename: rows", got.rows, full.rows)
			var wantCols []string
			for _, c := range full.cols {
				if p := strings.SplitN(c, "|", 2); p[0] == s.remove {
					c = newName + "|" + p[1]
				}
				wantCols = append(wantCols, c)
			}
			rbEqual(t, "rename: columns", got.cols, wantCols)
			if len(got.indexes) != len(full.indexes) || len(got.autoidx) != len(full.autoidx) || len(got.fks) != len(full.fks) {
				t.Errorf("rename: indexes %v, autoindexes %v, foreign keys %v; were %v, %v, %v",
					got.indexes, got.autoidx, got.fks, full.indexes, full.autoidx, full.fks)
			}
			for key, ok := range full.compiles {
				if ok && !got.compiles[key] {
					t.Errorf("rename: %s no longer compiles", key)
				}
			}
		}
	}
	// 4. Both ways of removing agree.
	if (results[0] == nil) != (results[1] == nil) {
		t.Fatalf("DropColumn: %v; RebuildTable: %v", results[0], results[1])
	}
	if results[0] == nil {
		rbEqual(t, "columns of both", states[0].cols, states[1].cols)
		rbEqual(t, "foreign keys of both", states[0].fks, states[1].fks)
		var a, b []string
		for n := range states[0].indexes {
			a = append(a, n)
		}
		for n := range states[1].indexes {
			b = append(b, n)
		}
		slices.Sort(a)
		slices.Sort(b)
		rbEqual(t, "indexes of both", a, b)
	}
}

// fzJustified checks that a refusal names an object that needs the column.
func fzJustified(t *testing.T, db *sql.DB, what string, err error, column string) {
	t.Helper()
	var de *sqlite.DependencyError
	if !errors.As(err, &de) {
		return
	}
	if de.Column != "" && de.Column != column {
		t.Errorf("%s: refused for column %q, not %q: %v", what, de.Column, column, err)
	}
	switch de.Kind {
	case "view", "trigger":
		text := rbQuery(t, db, `SELECT sql FROM sqlite_schema WHERE name = ?`, de.Name)
		if len(text) != 1 {
			t.Errorf("%s: refused by %s %q, which does not exist: %v", what, de.Kind, de.Name, err)
			return
		}
		if !strings.Contains(asciiFold(text[0]), asciiFold(strings.ReplaceAll(column, `"`, `""`))) &&
			!strings.Contains(asciiFold(text[0]), asciiFold(strings.ReplaceAll(column, `'`, `''`))) &&
			!strings.Contains(text[0], "*") && !strings.Contains(text[0], " v") {
			t.Errorf("%s: refused by %s %q, which does not name %q: %s", what, de.Kind, de.Name, column, text[0])
		}
	case "generated column", "foreign key":
	default:
		t.Errorf("%s: refused by a %s: %v", what, de.Kind, err)
	}
}

// fzSame compares two states of an unchanged table.
func fzSame(t *testing.T, what string, a, b fzState) {
	t.Helper()
	rbEqual(t, what+": columns", b.cols, a.cols)
	rbEqual(t, what+": rows", b.rows, a.rows)
	rbEqual(t, what+": foreign keys", b.fks, a.fks)
	rbEqual(t, what+": autoindexes", b.autoidx, a.autoidx)
	if fmt.Sprint(a.pk) != fmt.Sprint(b.pk) {
		t.Errorf("%s: primary key %v, was %v", what, b.pk, a.pk)
	}
	if fmt.Sprint(a.indexes) != fmt.Sprint(b.indexes) {
		t.Errorf("%s: indexes\n%v\nwere\n%v", what, b.indexes, a.indexes)
	}
	if a.seq != b.seq {
		t.Errorf("%s: sqlite_sequence %q, was %q", what, b.seq, a.seq)
	}
	rbEqual(t, what+": TEMP objects", b.temp, a.temp)
	if a.pragmas != b.pragmas {
		t.Errorf("%s: foreign_keys,legacy_alter_table = %s, were %s", what, b.pragmas, a.pragmas)
	}
	if fmt.Sprint(a.compiles) != fmt.Sprint(b.compiles) {
		t.Errorf("%s: compiles %v, did %v", what, b.compiles, a.compiles)
	}
}
