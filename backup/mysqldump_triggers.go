package backup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// The server keeps a trigger's statement as it was written, and the dump
// tools write it back as it is (split into executable comments):
//
//	/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`%`*/ /*!50003 TRIGGER tr BEFORE INSERT ON app.t FOR EACH ROW SET NEW.a = 1 */;;
//
// A trigger written with its database (ON app.t, or TRIGGER app.tr)
// cannot be created in the scratch database a restore loads into: the
// server refuses a trigger and a table in different databases. Restore
// therefore copies the dump to the client through rewriteTriggers, which
// removes from the header of every CREATE TRIGGER statement (up to FOR
// EACH ROW) the qualifiers that name the dumped database, and changes
// nothing else. The body is left as it is: once the tables are swapped
// in, the names it qualifies are the restored tables.

// errForeignTrigger reports a dump with a trigger whose name or table a
// restore cannot place in the database it restores: it is qualified with
// another database than the dumped one.
var errForeignTrigger = errors.New("trigger of another database")

// maxTriggerHeader bounds what rewriteTriggers holds back of a statement
// while it decides whether it is a CREATE TRIGGER: a header longer than
// that is passed on unchanged.
const maxTriggerHeader = 64 << 10

// rewriteTriggers copies the dump from src to dst, removing from the
// headers of CREATE TRIGGER statements the database qualifiers that name
// db, or the database the dump's header line names (-- Host: ...
// Database: name, in its first lines). Names are compared exactly, or
// regardless of case if fold is set (the server's lower_case_table_names
// is not 0). Where removing a qualifier would join two words
// (TRIGGER`app`.tr), a space takes its place. A qualifier naming another
// database is an error wrapping [errForeignTrigger]; what was copied
// before it has been written to dst.
func rewriteTriggers(dst io.Writer, src io.Reader, db string, fold bool) error {
	_, err := newTriggerRewriter(dst, src, db, fold).run()
	return err
}

// checkTriggers reads the dump at path as a restore into db would, and
// returns rewriteTriggers' error.
func checkTriggers(path, db string, fold bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return rewriteTriggers(io.Discard, f, db, fold)
}

// triggerRewriter is the state of rewriteTriggers. It lexes the dump the
// way the client does (quoted strings and identifiers, comments, the
// DELIMITER command) and reads the contents of executable comments as
// statement text.
type triggerRewriter struct {
	in   *countReader
	r    *bufio.Reader
	w    *bufio.Writer
	dbs  []string
	fold bool

	delim     string
	lineStart bool // the last byte copied ended a line
	inStmt    bool
	inExec    bool // inside a /*! ... */ comment

	// the header being read: its bytes and tokens
	raw  []byte
	hdr  bool // reading a header: keep all of raw, and the values
	toks []hdrToken
	eof  bool
	// cuts are the input offsets of the removed qualifiers, [start, end)
	// pairs, recorded for tests.
	cuts []int64
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func newTriggerRewriter(dst io.Writer, src io.Reader, db string, fold bool) *triggerRewriter {
	in := &countReader{r: src}
	return &triggerRewriter{in: in, r: bufio.NewReaderSize(in, 64<<10), w: bufio.NewWriterSize(dst, 64<<10),
		dbs: []string{db}, fold: fold, delim: ";", lineStart: true}
}

// pos is the input offset of the next byte to read.
func (t *triggerRewriter) pos() int64 { return t.in.n - int64(t.r.Buffered()) }

// run copies everything and returns the cuts it made.
func (t *triggerRewriter) run() ([]int64, error) {
	err := t.copy()
	if ferr := t.w.Flush(); err == nil {
		err = ferr
	}
	return t.cuts, err
}

// rewriteSpecial are the bytes the copy must look at inside a statement.
var rewriteSpecial = func() (t [256]bool) {
	for _, c := range []byte("'\"`-#/*\n") {
		t[c] = true
	}
	return t
}()

func (t *triggerRewriter) copy() error {
	for {
		if t.lineStart && !t.inStmt {
			if done, err := t.delimiterCommand(); err != nil || done {
				if err != nil {
					return err
				}
				continue
			}
		}
		if t.inStmt {
			// Copy in bulk what cannot start a string, a comment or the
			// statement's end.
			if buf, _ := t.r.Peek(t.r.Buffered()); len(buf) > 0 {
				n := 0
				for n < len(buf) && !rewriteSpecial[buf[n]] && buf[n] != t.delim[0] {
					n++
				}
				if n > 0 {
					t.w.Write(buf[:n])
					t.lineStart = false
					t.r.Discard(n)
				}
			}
		}
		b, err := t.r.Peek(1)
		if len(b) == 0 {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		c := b[0]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			t.r.Discard(1)
			t.w.WriteByte(c)
			t.lineStart = c == '\n'
			continue
		case t.startsDelimiter():
			t.r.Discard(len(t.delim))
			t.w.WriteString(t.delim)
			t.lineStart, t.inStmt = false, false
			continue
		}
		if !t.inStmt && (isWordByte(c) || t.execOpen() > 0) {
			if err := t.header(); err != nil {
				return err
			}
			t.inStmt = true
			continue
		}
		// One token, copied as it is.
		t.raw = t.raw[:0]
		kind, _, err := t.token()
		if err != nil {
			return err
		}
		t.w.Write(t.raw)
		t.lineStart = len(t.raw) > 0 && t.raw[len(t.raw)-1] == '\n'
		if kind != tkComment && kind != tkExecClose {
			t.inStmt = true
		}
	}
}

// delimiterCommand copies the client's DELIMITER command at the start of
// a line; done reports whether there was one.
func (t *triggerRewriter) delimiterCommand() (done bool, err error) {
	const kw = "DELIMITER "
	b, _ := t.r.Peek(len(kw))
	if len(b) < len(kw) || !strings.EqualFold(string(b), kw) {
		return false, nil
	}
	line, err := t.r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	t.w.WriteString(line)
	t.lineStart = strings.HasSuffix(line, "\n")
	if d := strings.TrimSpace(line[len(kw):]); d != "" {
		t.delim = d
	}
	return true, nil
}

func (t *triggerRewriter) startsDelimiter() bool {
	b, _ := t.r.Peek(len(t.delim))
	return string(b) == t.delim
}

// execOpen returns the length of the executable comment's opening at the
// reader (/*!50003 or /*M!100000), or 0.
func (t *triggerRewriter) execOpen() int {
	b, _ := t.r.Peek(16)
	if len(b) < 3 || b[0] != '/' || b[1] != '*' {
		return 0
	}
	i := 2
	if i < len(b) && b[i] == 'M' {
		i++
	}
	if i >= len(b) || b[i] != '!' {
		return 0
	}
	i++
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

type tokenKind int

const (
	tkEOF tokenKind = iota
	tkComment
	tkExecOpen
	tkExecClose
	tkWord
	tkIdent  // `quoted`, unquoted
	tkString // 'quoted' or "quoted", unquoted
	tkPunct
)

// token reads one token (a run of white space counts as a comment),
// appending its bytes to t.raw, and returns its kind and value.
func (t *triggerRewriter) token() (tokenKind, string, error) {
	b, err := t.r.Peek(2)
	if len(b) == 0 {
		if errors.Is(err, io.EOF) {
			return tkEOF, "", nil
		}
		return tkEOF, "", err
	}
	c := b[0]
	next := byte(0)
	if len(b) > 1 {
		next = b[1]
	}
	switch {
	case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		for {
			b, _ := t.r.Peek(1)
			if len(b) == 0 || b[0] != ' ' && b[0] != '\t' && b[0] != '\r' && b[0] != '\n' {
				return tkComment, "", nil
			}
			t.take(1)
		}
	case c == '#' || c == '-' && next == '-' && t.dashComment():
		line, err := t.r.ReadString('\n')
		t.raw = append(t.raw, line...)
		if err != nil && !errors.Is(err, io.EOF) {
			return tkEOF, "", err
		}
		if len(t.dbs) == 1 && t.pos() < 1024 && strings.HasPrefix(line, "-- Host: ") {
			if _, db, ok := strings.Cut(line, "Database: "); ok {
				if db = strings.TrimRight(db, "\r\n"); db != "" {
					t.dbs = append(t.dbs, db)
				}
			}
		}
		return tkComment, "", nil
	case c == '/' && next == '*':
		if n := t.execOpen(); n > 0 && !t.inExec {
			t.take(n)
			t.inExec = true
			return tkExecOpen, "", nil
		}
		return tkComment, "", t.blockComment()
	case c == '*' && next == '/' && t.inExec:
		t.take(2)
		t.inExec = false
		return tkExecClose, "", nil
	case c == '`':
		s, err := t.quoted('`')
		return tkIdent, s, err
	case c == '\'' || c == '"':
		s, err := t.quoted(c)
		return tkString, s, err
	case isWordByte(c):
		// A word ends where the delimiter starts ($$ after a word, say).
		start := len(t.raw)
		for {
			buf, _ := t.r.Peek(max(1, t.r.Buffered()))
			n := 0
			for n < len(buf) && isWordByte(buf[n]) && buf[n] != t.delim[0] {
				n++
			}
			t.take(n)
			if n < len(buf) && buf[n] == t.delim[0] && (len(t.raw) == start || !t.startsDelimiter()) {
				t.take(1)
				continue
			}
			if n < len(buf) || n == 0 {
				break
			}
		}
		return tkWord, string(t.raw[start:]), nil
	}
	t.take(1)
	return tkPunct, string(c), nil
}

// dashComment reports whether the "--" at the reader starts a comment.
func (t *triggerRewriter) dashComment() bool {
	b, _ := t.r.Peek(3)
	return len(b) == 2 || len(b) == 3 && (b[2] == ' ' || b[2] == '\t' || b[2] == '\n' || b[2] == '\r')
}

// spill writes out what a long token outside a header has read so far.
func (t *triggerRewriter) spill() {
	if !t.hdr && len(t.raw) > 64<<10 {
		t.w.Write(t.raw)
		t.raw = t.raw[:0]
	}
}

// take moves n buffered bytes to t.raw.
func (t *triggerRewriter) take(n int) {
	b, _ := t.r.Peek(n)
	t.raw = append(t.raw, b...)
	t.r.Discard(len(b))
}

// blockComment reads a /* */ comment.
func (t *triggerRewriter) blockComment() error {
	t.take(2)
	for {
		buf, err := t.r.Peek(max(2, t.r.Buffered()))
		if len(buf) < 2 {
			t.take(len(buf))
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			return nil // unterminated: the client's error
		}
		if i := strings.Index(string(buf), "*/"); i >= 0 {
			t.take(i + 2)
			return nil
		}
		t.take(len(buf) - 1)
		t.spill()
	}
}

// quoted reads a string or identifier quoted with q, with backslash
// escapes (not in identifiers) and doubled quotes, and returns its value.
func (t *triggerRewriter) quoted(q byte) (string, error) {
	t.take(1)
	var v []byte
	for {
		// Take in bulk what cannot end the string.
		if buf, _ := t.r.Peek(t.r.Buffered()); len(buf) > 0 {
			n := 0
			for n < len(buf) && buf[n] != q && buf[n] != '\\' {
				n++
			}
			if t.hdr {
				v = append(v, buf[:n]...)
			}
			t.take(n)
			t.spill()
		}
		c, err := t.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return string(v), nil // unterminated: the client's error
			}
			return "", err
		}
		t.raw = append(t.raw, c)
		switch {
		case c == '\\' && q != '`':
			d, err := t.r.ReadByte()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return string(v), nil
				}
				return "", err
			}
			t.raw = append(t.raw, d)
			v = append(v, c, d)
		case c == q:
			if b, _ := t.r.Peek(1); len(b) == 1 && b[0] == q {
				t.r.Discard(1)
				t.raw = append(t.raw, q)
				v = append(v, q)
				continue
			}
			return string(v), nil
		default:
			v = append(v, c)
		}
	}
}

type hdrToken struct {
	kind       tokenKind
	val        string
	start, end int // in t.raw
}

// at returns the i-th significant token of the header, reading as far as
// needed; comments and the executable comments' delimiters are skipped.
// Past the end of the statement (its delimiter, or the end of the input),
// or of maxTriggerHeader, it returns a tkEOF token.
func (t *triggerRewriter) at(i int) (hdrToken, error) {
	for len(t.toks) <= i && !t.eof {
		if len(t.raw) > maxTriggerHeader || t.startsDelimiter() {
			t.eof = true
			break
		}
		start := len(t.raw)
		kind, val, err := t.token()
		if err != nil {
			return hdrToken{}, err
		}
		switch kind {
		case tkEOF:
			t.eof = true
		case tkComment, tkExecOpen, tkExecClose:
		default:
			t.toks = append(t.toks, hdrToken{kind: kind, val: val, start: start, end: len(t.raw)})
		}
	}
	if i < len(t.toks) {
		return t.toks[i], nil
	}
	return hdrToken{kind: tkEOF}, nil
}

// header reads the start of a statement and copies it, without the
// qualifiers naming the dumped database if it is a CREATE TRIGGER.
func (t *triggerRewriter) header() error {
	t.raw, t.toks, t.eof, t.hdr = t.raw[:0], t.toks[:0], false, true
	start := t.pos()
	var cuts [][2]int
	err := t.parseHeader(&cuts)
	t.hdr = false
	if err != nil {
		return err
	}
	prev := 0
	for _, c := range cuts {
		t.w.Write(t.raw[prev:c[0]])
		if c[0] > 0 && c[1] < len(t.raw) && isWordByte(t.raw[c[0]-1]) && isWordByte(t.raw[c[1]]) {
			t.w.WriteByte(' ') // TRIGGER`app`.tr: keep the words apart
		}
		t.cuts = append(t.cuts, start+int64(c[0]), start+int64(c[1]))
		prev = c[1]
	}
	t.w.Write(t.raw[prev:])
	t.lineStart = len(t.raw) > 0 && t.raw[len(t.raw)-1] == '\n'
	return nil
}

func (t *triggerRewriter) parseHeader(cuts *[][2]int) error {
	i := 0
	word := func(w string) (bool, error) {
		tk, err := t.at(i)
		if err != nil || tk.kind != tkWord || !strings.EqualFold(tk.val, w) {
			return false, err
		}
		i++
		return true, nil
	}
	punct := func(p string) (bool, error) {
		tk, err := t.at(i)
		if err != nil || tk.kind != tkPunct || tk.val != p {
			return false, err
		}
		i++
		return true, nil
	}
	// name reads [qualifier .] name; q is the qualifier's token, if any.
	name := func() (q *hdrToken, dot, n hdrToken, ok bool, err error) {
		isName := func(tk hdrToken) bool {
			return tk.kind == tkWord || tk.kind == tkIdent || tk.kind == tkString && t.raw[tk.start] == '"'
		}
		a, err := t.at(i)
		if err != nil || !isName(a) {
			return nil, dot, n, false, err
		}
		d, err := t.at(i + 1)
		if err != nil {
			return nil, dot, n, false, err
		}
		if d.kind != tkPunct || d.val != "." {
			i++
			return nil, dot, a, true, nil
		}
		b, err := t.at(i + 2)
		if err != nil || !isName(b) {
			return nil, dot, n, false, err
		}
		i += 3
		return &a, d, b, true, nil
	}
	type step func() (bool, error)
	optional := func(steps ...step) error {
		save := i
		for _, s := range steps {
			if ok, err := s(); err != nil || !ok {
				i = save
				return err
			}
		}
		return nil
	}
	w := func(s string) step { return func() (bool, error) { return word(s) } }

	if ok, err := word("CREATE"); err != nil || !ok {
		return err
	}
	if err := optional(w("OR"), w("REPLACE")); err != nil {
		return err
	}
	if ok, err := word("DEFINER"); err != nil {
		return err
	} else if ok {
		if ok, err := punct("="); err != nil || !ok {
			return err
		}
		user, err := t.at(i)
		if err != nil || user.kind != tkWord && user.kind != tkIdent && user.kind != tkString {
			return err
		}
		i++
		if user.kind == tkWord && strings.EqualFold(user.val, "CURRENT_USER") {
			if err := optional(func() (bool, error) { return punct("(") }, func() (bool, error) { return punct(")") }); err != nil {
				return err
			}
		} else if ok, err := punct("@"); err != nil {
			return err
		} else if ok {
			host, err := t.at(i)
			if err != nil || host.kind != tkWord && host.kind != tkIdent && host.kind != tkString {
				return err
			}
			i++
		}
	}
	if ok, err := word("TRIGGER"); err != nil || !ok {
		return err
	}
	if err := optional(w("IF"), w("NOT"), w("EXISTS")); err != nil {
		return err
	}
	tq, tdot, trig, ok, err := name()
	if err != nil || !ok {
		return err
	}
	// BEFORE INSERT, AFTER UPDATE, ... up to ON.
	for n := 0; ; n++ {
		tk, err := t.at(i)
		if err != nil || n == 8 || tk.kind != tkWord && (tk.kind != tkPunct || tk.val != ",") {
			return err
		}
		i++
		if tk.kind == tkWord && strings.EqualFold(tk.val, "ON") {
			break
		}
	}
	oq, odot, table, ok, err := name()
	if err != nil || !ok {
		return err
	}
	if ok, err := word("FOR"); err != nil || !ok {
		return err
	}
	for _, q := range []struct {
		q    *hdrToken
		dot  hdrToken
		what string
	}{{tq, tdot, "its name"}, {oq, odot, "its table " + t.raw2(oq, table)}} {
		if q.q == nil {
			continue
		}
		if !t.dumped(q.q.val) {
			return fmt.Errorf("%w: trigger %q: %s names database %q, not the dumped one (%q): a restore cannot create it",
				errForeignTrigger, trig.val, q.what, q.q.val, t.dbs[len(t.dbs)-1])
		}
		*cuts = append(*cuts, [2]int{q.q.start, q.dot.end})
	}
	return nil
}

// raw2 returns the text of a qualified name as written, for messages.
func (t *triggerRewriter) raw2(q *hdrToken, n hdrToken) string {
	if q == nil {
		return string(t.raw[n.start:n.end])
	}
	return string(t.raw[q.start:n.end])
}

// dumped reports whether db names the dumped database.
func (t *triggerRewriter) dumped(db string) bool {
	for _, d := range t.dbs {
		if d == db || t.fold && strings.EqualFold(d, db) {
			return true
		}
	}
	return false
}
