package sqlfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/big"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/strata-go/strata/migration"
)

// Format is the way a file writes its migration.
type Format string

// Formats [Load] reads.
const (
	FormatStrata  Format = "strata"         // -- +strata up / -- +strata down
	FormatGoose   Format = "goose"          // -- +goose Up / -- +goose Down
	FormatMigrate Format = "golang-migrate" // N_name.up.sql and N_name.down.sql
)

// Migration is a migration read from SQL files. It implements
// [migration.Migration], [migration.Describer],
// [migration.NonTransactional] and [migration.Checksummer].
type Migration struct {
	id, desc string
	file     string // the file, or the .up.sql file of a pair
	downFile string
	format   Format
	version  *big.Int // the leading number of the name, or nil
	deps     []string
	declared bool // deps were declared, not inferred
	noTx     bool
	backup   bool
	up, down *section
	sum      string
}

var (
	_ migration.Migration        = (*Migration)(nil)
	_ migration.Describer        = (*Migration)(nil)
	_ migration.NonTransactional = (*Migration)(nil)
	_ migration.Checksummer      = (*Migration)(nil)
	_ migration.SQLPreviewer     = (*Migration)(nil)
)

// section is the Up or Down text of a migration, in chunks: a chunk is
// split into statements unless it is whole (goose's StatementBegin/End).
type section struct {
	file   string
	chunks []chunk
	// unwrap drops a BEGIN and COMMIT around the whole text, which
	// golang-migrate's documentation suggests because it runs a file
	// outside a transaction; here the file has a transaction of its own
	// (or, where DDL is not transactional, none to begin).
	unwrap bool
}

type chunk struct {
	text  string
	line  int // of the chunk's first byte in file
	whole bool
}

// ID returns the file name without its extension (and, for a
// golang-migrate pair, without .up/.down).
func (m *Migration) ID() string { return m.id }

// Description returns the description the file declares, or its name
// without the version, underscores read as spaces.
func (m *Migration) Description() string { return m.desc }

// Dependencies returns the declared dependencies or, for a file that
// declares none, the migration before it in version order.
func (m *Migration) Dependencies() []string { return m.deps }

// BackupRequired reports whether the file asks for a backup.
func (m *Migration) BackupRequired() bool { return m.backup }

// NoTransaction reports whether the file asks to run outside a
// transaction.
func (m *Migration) NoTransaction() bool { return m.noTx }

// Checksum returns [migration.Checksum] of the file's text (of the up and
// the down file for a pair).
func (m *Migration) Checksum() string { return m.sum }

// File returns the path of the file in the loaded fs.FS (of the .up.sql
// file for a golang-migrate pair).
func (m *Migration) File() string { return m.file }

// Format returns the format the file is written in.
func (m *Migration) Format() Format { return m.format }

// Validate succeeds.
func (m *Migration) Validate(context.Context, *migration.Tx) error { return nil }

// Up runs the Up statements one by one.
func (m *Migration) Up(ctx context.Context, tx *migration.Tx) error {
	return m.up.exec(ctx, tx)
}

// Down runs the Down statements one by one. A strata file without a down
// section, or a golang-migrate pair without its .down.sql file, cannot be
// rolled back; a goose file without -- +goose Down rolls back doing
// nothing, as in goose.
func (m *Migration) Down(ctx context.Context, tx *migration.Tx) error {
	if m.down == nil {
		return fmt.Errorf("%s has no down migration", m.file)
	}
	return m.down.exec(ctx, tx)
}

// Statements returns the statements Up (or Down, if down) runs on the
// dialect named dialectName, in order.
func (m *Migration) Statements(dialectName string, down bool) ([]Statement, error) {
	s := m.up
	if down {
		s = m.down
	}
	if s == nil {
		return nil, fmt.Errorf("%s has no down migration", m.file)
	}
	return s.statements(FlavorOf(dialectName))
}

// PreviewSQL returns the text of [Migration.Statements], for
// [migration.Manager.PlanSQL].
func (m *Migration) PreviewSQL(dialectName string, dir migration.Direction) ([]string, error) {
	stmts, err := m.Statements(dialectName, dir == migration.DirectionDown)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(stmts))
	for i, st := range stmts {
		out[i] = st.SQL
	}
	return out, nil
}

// StatementError reports a statement of a file that failed; it unwraps to
// the driver's error.
type StatementError struct {
	File string
	Line int
	SQL  string
	Err  error
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("%s:%d: %v\n\tstatement: %s", e.File, e.Line, e.Err, strings.ReplaceAll(e.SQL, "\n", "\n\t"))
}

// Unwrap returns the driver's error.
func (e *StatementError) Unwrap() error { return e.Err }

func (s *section) statements(f Flavor) ([]Statement, error) {
	var out []Statement
	for _, c := range s.chunks {
		if c.whole {
			if strings.TrimSpace(c.text) != "" {
				out = append(out, Statement{SQL: strings.TrimSpace(c.text), Line: c.line + leadingLines(c.text)})
			}
			continue
		}
		stmts, err := Split(c.text, f)
		if err != nil {
			var se *SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%s:%d: %s", s.file, c.line+se.Line-1, se.Msg)
			}
			return nil, fmt.Errorf("%s: %w", s.file, err)
		}
		for _, st := range stmts {
			st.Line += c.line - 1
			out = append(out, st)
		}
	}
	if s.unwrap && len(out) >= 2 && isBegin(out[0].SQL) && isCommit(out[len(out)-1].SQL) {
		out = out[1 : len(out)-1]
	}
	return out, nil
}

func keywords(stmt string) string { return strings.ToUpper(strings.Join(strings.Fields(stmt), " ")) }

func isBegin(stmt string) bool {
	switch keywords(stmt) {
	case "BEGIN", "BEGIN TRANSACTION", "BEGIN WORK", "START TRANSACTION":
		return true
	}
	return false
}

func isCommit(stmt string) bool {
	switch keywords(stmt) {
	case "COMMIT", "COMMIT TRANSACTION", "COMMIT WORK", "END", "END TRANSACTION":
		return true
	}
	return false
}

func leadingLines(s string) int {
	return strings.Count(s[:len(s)-len(strings.TrimLeft(s, " \t\r\n"))], "\n")
}

func (s *section) exec(ctx context.Context, tx *migration.Tx) error {
	stmts, err := s.statements(FlavorOf(tx.Dialect().Name()))
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.SQL); err != nil {
			return &StatementError{File: s.file, Line: st.Line, SQL: st.SQL, Err: err}
		}
	}
	return nil
}

// bom is the byte order mark some editors put at the start of a file.
const bom = "\ufeff"

var (
	migrateName = regexp.MustCompile(`^([0-9]+)_(.*)\.(up|down)\.sql$`)
	versionName = regexp.MustCompile(`^([0-9]+)(?:_(.*))?$`)
)

// Load reads the migrations in the directory dir of fsys (use "." for its
// root; subdirectories are not read), one per .sql file or golang-migrate
// pair, in any of the three [Format]s, and returns them in version order:
// by the number their names begin with, then by name. A file that declares
// no dependencies depends on the one before it, so a directory written for
// goose or golang-migrate forms a chain, as it did there. The result may be
// mixed with Go migrations in one [migration.NewManager] call.
//
// Load reads no database. It fails, naming every bad file, on a file in
// no known format, an unknown directive, a pair without its up file, two
// files with one ID, and text that cannot be split into statements.
func Load(fsys fs.FS, dir string) ([]migration.Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlfile: %w", err)
	}
	var errs []error
	byID := map[string]*Migration{}
	pairs := map[string][2]string{} // id -> up, down file
	var ms []*Migration
	add := func(m *Migration) {
		if old, ok := byID[m.id]; ok {
			errs = append(errs, fmt.Errorf("sqlfile: %s and %s have the same id %q", old.file, m.file, m.id))
			return
		}
		byID[m.id] = m
		ms = append(ms, m)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		if sm := migrateName.FindStringSubmatch(name); sm != nil {
			id := strings.TrimSuffix(strings.TrimSuffix(name, ".sql"), "."+sm[3])
			p := pairs[id]
			if sm[3] == "up" {
				p[0] = name
			} else {
				p[1] = name
			}
			pairs[id] = p
			continue
		}
		file := path.Join(dir, name)
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			errs = append(errs, fmt.Errorf("sqlfile: %w", err))
			continue
		}
		m, err := parseFile(file, strings.TrimSuffix(name, ".sql"), strings.TrimPrefix(string(data), bom))
		if err != nil {
			errs = append(errs, fmt.Errorf("sqlfile: %w", err))
			continue
		}
		add(m)
	}
	for _, id := range slices.Sorted(maps.Keys(pairs)) {
		p := pairs[id]
		if p[0] == "" {
			errs = append(errs, fmt.Errorf("sqlfile: %s has no matching .up.sql file", path.Join(dir, p[1])))
			continue
		}
		m, err := readPair(fsys, dir, id, p[0], p[1])
		if err != nil {
			errs = append(errs, fmt.Errorf("sqlfile: %w", err))
			continue
		}
		add(m)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(ms, func(a, b *Migration) int {
		switch {
		case a.version != nil && b.version != nil:
			if c := a.version.Cmp(b.version); c != 0 {
				return c
			}
		case a.version != nil:
			return -1
		case b.version != nil:
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]migration.Migration, len(ms))
	for i, m := range ms {
		if !m.declared && i > 0 {
			m.deps = []string{ms[i-1].id}
		}
		out[i] = m
	}
	return out, nil
}

func newMigration(file, id string, f Format) *Migration {
	m := &Migration{id: id, file: file, format: f}
	rest := id
	if sm := versionName.FindStringSubmatch(id); sm != nil {
		m.version, _ = new(big.Int).SetString(sm[1], 10)
		rest = sm[2]
	}
	m.desc = strings.TrimSpace(strings.ReplaceAll(rest, "_", " "))
	return m
}

func readPair(fsys fs.FS, dir, id, upName, downName string) (*Migration, error) {
	file := path.Join(dir, upName)
	up, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, err
	}
	m := newMigration(file, id, FormatMigrate)
	up = []byte(strings.TrimPrefix(string(up), bom))
	m.up = &section{file: file, chunks: []chunk{{text: string(up), line: 1}}, unwrap: true}
	var down []byte
	if downName != "" {
		m.downFile = path.Join(dir, downName)
		if down, err = fs.ReadFile(fsys, m.downFile); err != nil {
			return nil, err
		}
		down = []byte(strings.TrimPrefix(string(down), bom))
		m.down = &section{file: m.downFile, chunks: []chunk{{text: string(down), line: 1}}, unwrap: true}
	}
	m.sum = migration.Checksum(string(up), string(down))
	return m, m.check()
}

// check splits the text in either flavor, so that text no dialect can
// split fails at load time.
func (m *Migration) check() error {
	for _, s := range []*section{m.up, m.down} {
		if s == nil {
			continue
		}
		if _, err := s.statements(Standard); err != nil {
			if _, err2 := s.statements(MySQL); err2 != nil {
				return err
			}
		}
	}
	return nil
}

// annotation returns the directive of a "-- +tool directive" line.
func annotation(line, tool string) (string, bool) {
	t := strings.TrimSpace(line)
	rest, ok := strings.CutPrefix(t, "--")
	if !ok {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	if len(rest) < len(tool)+1 || !strings.EqualFold(rest[:len(tool)+1], "+"+tool) {
		return "", false
	}
	rest = rest[len(tool)+1:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

func parseFile(file, id, text string) (*Migration, error) {
	strata, goose := false, false
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, len(text)+1)
	for sc.Scan() {
		if _, ok := annotation(sc.Text(), "strata"); ok {
			strata = true
		}
		if _, ok := annotation(sc.Text(), "goose"); ok {
			goose = true
		}
	}
	switch {
	case strata && goose:
		return nil, fmt.Errorf("%s mixes -- +strata and -- +goose annotations", file)
	case goose:
		return parseGoose(file, id, text)
	case strata:
		return parseStrata(file, id, text)
	}
	return nil, fmt.Errorf("%s: no -- +strata up or -- +goose Up line; a golang-migrate file is named N_name.up.sql", file)
}

// sectionWriter gathers the lines of a file between its annotations
// into chunks of the section being read.
type sectionWriter struct {
	cur  *section // nil before the first section
	buf  strings.Builder
	line int // of buf's first line; 0 while buf is empty
}

// add appends line n to the chunk being gathered, if a section has begun.
func (w *sectionWriter) add(n int, ln string) {
	if w.cur == nil {
		return
	}
	if w.line == 0 {
		w.line = n
	}
	w.buf.WriteString(ln)
}

// flush ends the chunk being gathered; whole marks a statement block that
// is run as it is, unsplit.
func (w *sectionWriter) flush(whole bool) {
	if w.cur != nil && w.buf.Len() > 0 {
		w.cur.chunks = append(w.cur.chunks, chunk{text: w.buf.String(), line: w.line, whole: whole})
	}
	w.buf.Reset()
	w.line = 0
}

// lines splits text into lines, keeping their newlines.
func lines(text string) []string {
	return strings.SplitAfter(text, "\n")
}

func parseGoose(file, id, text string) (*Migration, error) {
	m := newMigration(file, id, FormatGoose)
	var w sectionWriter
	inBlock, blockLine := false, 0
	for n, ln := range lines(text) {
		n++
		d, ok := annotation(ln, "goose")
		if !ok {
			w.add(n, ln)
			continue
		}
		switch strings.ToLower(strings.Join(strings.Fields(d), " ")) {
		case "up", "down":
			if inBlock {
				return nil, fmt.Errorf("%s:%d: -- +goose %s inside StatementBegin (line %d) without StatementEnd", file, n, d, blockLine)
			}
			w.flush(false)
			isUp := strings.EqualFold(d, "up")
			if (isUp && m.up != nil) || (!isUp && m.down != nil) {
				return nil, fmt.Errorf("%s:%d: second -- +goose %s", file, n, d)
			}
			if !isUp && m.up == nil {
				return nil, fmt.Errorf("%s:%d: -- +goose Down before -- +goose Up", file, n)
			}
			w.cur = &section{file: file}
			if isUp {
				m.up = w.cur
			} else {
				m.down = w.cur
			}
		case "statementbegin":
			if w.cur == nil || inBlock {
				return nil, fmt.Errorf("%s:%d: unexpected -- +goose StatementBegin", file, n)
			}
			w.flush(false)
			inBlock, blockLine = true, n
		case "statementend":
			if !inBlock {
				return nil, fmt.Errorf("%s:%d: -- +goose StatementEnd without StatementBegin", file, n)
			}
			w.flush(true)
			inBlock = false
		case "no transaction":
			m.noTx = true
		default:
			return nil, fmt.Errorf("%s:%d: unsupported annotation -- +goose %s", file, n, d)
		}
	}
	if inBlock {
		return nil, fmt.Errorf("%s:%d: -- +goose StatementBegin without StatementEnd", file, blockLine)
	}
	w.flush(false)
	if m.up == nil {
		return nil, fmt.Errorf("%s: no -- +goose Up line", file)
	}
	if m.down == nil {
		m.down = &section{file: file} // as in goose: nothing to undo
	}
	m.sum = migration.Checksum(text)
	return m, m.check()
}

func parseStrata(file, id, text string) (*Migration, error) {
	m := newMigration(file, id, FormatStrata)
	var w sectionWriter
	inBlock, blockLine := false, 0
	for n, ln := range lines(text) {
		n++
		d, ok := annotation(ln, "strata")
		if !ok {
			w.add(n, ln)
			continue
		}
		key, val, _ := strings.Cut(d, ":")
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		switch key {
		case "up", "down", "statement-begin", "statement-end":
		default:
			if w.cur != nil {
				return nil, fmt.Errorf("%s:%d: -- +strata %s must come before -- +strata up", file, n, key)
			}
		}
		if inBlock && key != "statement-end" {
			return nil, fmt.Errorf("%s:%d: -- +strata %s inside statement-begin (line %d) without statement-end", file, n, key, blockLine)
		}
		switch key {
		case "up", "down":
			w.flush(false)
			if (key == "up" && m.up != nil) || (key == "down" && m.down != nil) {
				return nil, fmt.Errorf("%s:%d: second -- +strata %s", file, n, key)
			}
			if key == "down" && m.up == nil {
				return nil, fmt.Errorf("%s:%d: -- +strata down before -- +strata up", file, n)
			}
			w.cur = &section{file: file}
			if key == "up" {
				m.up = w.cur
			} else {
				m.down = w.cur
			}
		case "statement-begin":
			if w.cur == nil {
				return nil, fmt.Errorf("%s:%d: -- +strata statement-begin before -- +strata up", file, n)
			}
			w.flush(false)
			inBlock, blockLine = true, n
		case "statement-end":
			if !inBlock {
				return nil, fmt.Errorf("%s:%d: -- +strata statement-end without statement-begin", file, n)
			}
			w.flush(true)
			inBlock = false
		case "requires":
			m.declared = true
			m.deps = append(m.deps, strings.FieldsFunc(val, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })...)
		case "no-transaction":
			m.noTx = true
		case "backup-required":
			m.backup = true
		case "description":
			m.desc = val
		default:
			return nil, fmt.Errorf("%s:%d: unknown directive -- +strata %s (want up, down, requires:, no-transaction, backup-required, description:, statement-begin or statement-end)", file, n, d)
		}
	}
	if inBlock {
		return nil, fmt.Errorf("%s:%d: -- +strata statement-begin without statement-end", file, blockLine)
	}
	w.flush(false)
	if m.up == nil {
		return nil, fmt.Errorf("%s: no -- +strata up line", file)
	}
	m.sum = migration.Checksum(text)
	return m, m.check()
}
