package backup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// A MySQL backup is the dump tool's output followed by a manifest that
// Backup appends after the tool's last line: the row count of every table
// in the dump, as comments the client ignores.
//
//	-- Dump completed on 2026-11-21 10:42:33
//	-- strata-table 20000 "users"
//	-- strata-table 0 "empty"
//	-- strata-tables 2
//
// The counts come from the dump itself, read back once written. Verify
// reads the whole file again and compares; Restore also compares them with
// what the server loaded into a scratch database, so a dump that loads
// without error but with rows missing is refused.
const (
	manifestTable  = "-- strata-table "
	manifestTables = "-- strata-tables "
)

// dumpStats is what a scan of a dump found.
type dumpStats struct {
	tables   []string         // CREATE TABLE statements, in order
	rows     map[string]int64 // rows in the INSERT statements, by table
	trailer  bool             // the tool's "-- Dump completed" line
	afterEnd bool             // a statement after the trailer
	// delimited: the dump changes the delimiter (for triggers or
	// routines)
	delimited bool
	// manifest, if present: counts by table and the number of entries
	// the last line announces (-1 if missing).
	manifest      map[string]int64
	manifestOrder []string
	manifestN     int
}

// scanDump reads a mysqldump or mariadb-dump file and counts the rows of
// every table's INSERT statements. It understands what the tools write:
// quoted strings and identifiers, comments (including the executable
// /*!...*/ ones, whose contents are never data), and the client's
// DELIMITER command around routines and triggers. An error means the file
// cannot be a complete dump (an unterminated string, say).
func scanDump(r io.Reader) (*dumpStats, error) {
	s := &dumpScanner{r: bufio.NewReaderSize(r, 256<<10), delim: ";", lineStart: true,
		st: &dumpStats{rows: map[string]int64{}, manifest: map[string]int64{}, manifestN: -1}}
	if err := s.scan(); err != nil {
		return nil, err
	}
	return s.st, nil
}

type dumpScanner struct {
	r         *bufio.Reader
	st        *dumpStats
	delim     string
	lineStart bool // at the start of a line (for DELIMITER)
	line      int64

	// the statement being read
	tokens []string // its first tokens (words upper-cased, identifiers unquoted)
	depth  int      // parenthesis depth
	values bool     // an INSERT, past VALUES: count tuples
	table  string   // the INSERT's table
	n      int64    // tuples counted
	inStmt bool
	word   []byte // reused buffer
}

func (s *dumpScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: "+format, append([]any{s.line + 1}, args...)...)
}

func (s *dumpScanner) next() (byte, bool, error) {
	c, err := s.r.ReadByte()
	if errors.Is(err, io.EOF) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if c == '\n' {
		s.line++
	}
	return c, true, nil
}

func (s *dumpScanner) scan() error {
	for {
		if s.lineStart && !s.inStmt {
			if done, err := s.delimiterCommand(); err != nil || done {
				if err != nil {
					return err
				}
				continue
			}
		}
		if s.values {
			// In the data, skip in bulk what cannot start a string, a
			// comment, a tuple or the statement's end.
			if buf, _ := s.r.Peek(s.r.Buffered()); len(buf) > 0 {
				n := 0
				for n < len(buf) && !valuesSpecial[buf[n]] && buf[n] != s.delim[0] {
					n++
				}
				s.r.Discard(n)
			}
		}
		c, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			if s.inStmt && len(s.tokens) > 0 {
				s.endStatement()
			}
			return nil
		}
		s.lineStart = c == '\n'
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case c == '-':
			if b, _ := s.r.Peek(2); len(b) >= 1 && b[0] == '-' && (len(b) == 1 || b[1] == ' ' || b[1] == '\t' || b[1] == '\n' || b[1] == '\r') {
				if err := s.lineComment(true); err != nil {
					return err
				}
				continue
			}
		case c == '#':
			if err := s.lineComment(false); err != nil {
				return err
			}
			continue
		case c == '/':
			if b, _ := s.r.Peek(1); len(b) == 1 && b[0] == '*' {
				if err := s.blockComment(); err != nil {
					return err
				}
				continue
			}
		case c == '\'' || c == '"':
			if err := s.quoted(c); err != nil {
				return err
			}
			s.token("'")
			continue
		case c == '`':
			id, err := s.identifier()
			if err != nil {
				return err
			}
			s.token("`" + id)
			continue
		}
		if c == s.delim[0] {
			if rest, _ := s.r.Peek(len(s.delim) - 1); string(rest) == s.delim[1:] {
				s.r.Discard(len(rest))
				s.endStatement()
				continue
			}
		}
		s.inStmt = true
		if isWordByte(c) {
			// Past VALUES the words are data: skip them. Before, only a
			// statement's keywords and names matter: keep a few bytes.
			keep := !s.values
			var w []byte
			if keep {
				w = append(s.word[:0], c)
			}
			for {
				buf, _ := s.r.Peek(max(1, s.r.Buffered()))
				n := 0
				for n < len(buf) && isWordByte(buf[n]) {
					n++
				}
				if keep && len(w) < 64 {
					w = append(w, buf[:min(n, 64)]...)
				}
				s.r.Discard(n)
				if n < len(buf) || n == 0 {
					break
				}
			}
			if keep {
				s.word = w
				s.token(strings.ToUpper(string(w)))
			} else {
				s.token("")
			}
			continue
		}
		switch c {
		case '(':
			if s.values && s.depth == 0 {
				s.n++
			}
			s.depth++
		case ')':
			s.depth--
		}
		s.token(string(c))
	}
}

// valuesSpecial are the bytes the scanner must look at in an INSERT's data.
var valuesSpecial = func() (t [256]bool) {
	for _, c := range []byte("'\"`()-#/\n") {
		t[c] = true
	}
	return t
}()

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

// token records one token of the current statement, recognising INSERT
// INTO `t` [(...)] VALUES and CREATE TABLE `t`.
func (s *dumpScanner) token(t string) {
	s.inStmt = true
	if s.st.trailer {
		s.st.afterEnd = true
	}
	if s.values {
		return
	}
	if len(s.tokens) < 8 {
		s.tokens = append(s.tokens, t)
	}
	tk := s.tokens
	if len(tk) >= 3 && tk[0] == "INSERT" && tk[1] == "INTO" && strings.HasPrefix(tk[2], "`") && !s.values && t == "VALUES" && s.depth == 0 {
		s.values, s.table = true, tk[2][1:]
	}
	if len(tk) == 3 && tk[0] == "CREATE" && tk[1] == "TABLE" && strings.HasPrefix(tk[2], "`") {
		s.st.tables = append(s.st.tables, tk[2][1:])
	}
}

func (s *dumpScanner) endStatement() {
	if s.values {
		s.st.rows[s.table] += s.n
	}
	s.tokens, s.depth, s.values, s.table, s.n, s.inStmt = s.tokens[:0], 0, false, "", 0, false
}

// delimiterCommand handles the client's DELIMITER command at the start of
// a line; done reports whether there was one.
func (s *dumpScanner) delimiterCommand() (done bool, err error) {
	const kw = "DELIMITER "
	b, _ := s.r.Peek(len(kw))
	if len(b) < len(kw) || !strings.EqualFold(string(b), kw) {
		return false, nil
	}
	line, err := s.r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	s.line++
	d := strings.TrimSpace(line[len(kw):])
	if d == "" {
		return false, s.errorf("DELIMITER without a delimiter")
	}
	s.delim = d
	s.st.delimited = true
	return true, nil
}

// lineComment skips to the end of the line; dash comments are checked for
// the trailer and the manifest.
func (s *dumpScanner) lineComment(dash bool) error {
	line, err := s.r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if strings.HasSuffix(line, "\n") {
		s.line++
	}
	s.lineStart = true
	if !dash || s.inStmt {
		return nil
	}
	text := "-" + strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(text, dumpTrailer):
		s.st.trailer = true
	case strings.HasPrefix(text, manifestTable):
		if !s.st.trailer || s.st.manifestN >= 0 {
			return s.errorf("%q out of place", text)
		}
		nStr, q, ok := strings.Cut(text[len(manifestTable):], " ")
		n, err1 := strconv.ParseInt(nStr, 10, 64)
		name, err2 := strconv.Unquote(q)
		if !ok || err1 != nil || err2 != nil || n < 0 {
			return s.errorf("malformed %q", text)
		}
		if _, dup := s.st.manifest[name]; dup {
			return s.errorf("table %q listed twice", name)
		}
		s.st.manifest[name] = n
		s.st.manifestOrder = append(s.st.manifestOrder, name)
	case strings.HasPrefix(text, manifestTables):
		n, err := strconv.Atoi(text[len(manifestTables):])
		if !s.st.trailer || s.st.manifestN >= 0 || err != nil || n < 0 {
			return s.errorf("malformed or misplaced %q", text)
		}
		s.st.manifestN = n
	}
	return nil
}

func (s *dumpScanner) blockComment() error {
	s.r.Discard(1) // '*'
	prev := byte(0)
	for {
		c, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			return s.errorf("unterminated /* comment")
		}
		if prev == '*' && c == '/' {
			return nil
		}
		prev = c
	}
}

// quoted skips a string quoted with q: backslash escapes and doubled
// quotes.
func (s *dumpScanner) quoted(q byte) error {
	start := s.line
	for {
		// Skip what cannot end the string, a buffer at a time.
		if buf, _ := s.r.Peek(s.r.Buffered()); len(buf) > 0 {
			n := 0
			for n < len(buf) && buf[n] != q && buf[n] != '\\' && buf[n] != '\n' {
				n++
			}
			s.r.Discard(n)
		}
		c, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("line %d: unterminated string", start+1)
		}
		switch c {
		case '\\':
			if _, ok, err := s.next(); err != nil || !ok {
				return fmt.Errorf("line %d: unterminated string", start+1)
			}
		case q:
			if b, _ := s.r.Peek(1); len(b) == 1 && b[0] == q {
				s.r.Discard(1)
				continue
			}
			return nil
		}
	}
}

// identifier reads a backquoted identifier.
func (s *dumpScanner) identifier() (string, error) {
	var b []byte
	for {
		c, ok, err := s.next()
		if err != nil {
			return "", err
		}
		if !ok {
			return "", s.errorf("unterminated identifier")
		}
		if c == '`' {
			if p, _ := s.r.Peek(1); len(p) == 1 && p[0] == '`' {
				s.r.Discard(1)
				b = append(b, '`')
				continue
			}
			return string(b), nil
		}
		b = append(b, c)
	}
}

// writeManifest appends the manifest for st to w.
func writeManifest(w io.Writer, st *dumpStats) error {
	var b strings.Builder
	names := slices.Clone(st.tables)
	for t := range st.rows {
		if !slices.Contains(names, t) {
			names = append(names, t)
		}
	}
	for _, t := range names {
		fmt.Fprintf(&b, "%s%d %s\n", manifestTable, st.rows[t], strconv.Quote(t))
	}
	fmt.Fprintf(&b, "%s%d\n", manifestTables, len(names))
	_, err := io.WriteString(w, b.String())
	return err
}

// check compares what a scan counted with the manifest: an error names
// the first difference. A dump without a manifest (written before backups
// had one) passes.
func (st *dumpStats) check() error {
	if !st.trailer {
		return fmt.Errorf("it does not end with %q", dumpTrailer)
	}
	if st.afterEnd {
		return fmt.Errorf("it has statements after %q", dumpTrailer)
	}
	if len(st.manifest) == 0 && st.manifestN < 0 {
		return nil
	}
	if st.manifestN != len(st.manifest) {
		return fmt.Errorf("its table list is incomplete: %d tables listed, %d announced", len(st.manifest), st.manifestN)
	}
	for _, t := range st.tables {
		if _, ok := st.manifest[t]; !ok {
			return fmt.Errorf("table %q is in the dump but not in its table list", t)
		}
	}
	for _, t := range st.manifestOrder {
		want := st.manifest[t]
		if !slices.Contains(st.tables, t) {
			return fmt.Errorf("table %q is listed with %d rows but the dump does not create it", t, want)
		}
		if got := st.rows[t]; got != want {
			return fmt.Errorf("table %q has %d rows in the dump, %d when it was written", t, got, want)
		}
	}
	return nil
}

// expected returns the row count of every table a restore must load: the
// manifest's, else the scan's.
func (st *dumpStats) expected() map[string]int64 {
	if len(st.manifest) > 0 || st.manifestN >= 0 {
		return st.manifest
	}
	out := map[string]int64{}
	for _, t := range st.tables {
		out[t] = st.rows[t]
	}
	return out
}
