package sqlsplit

import (
	"fmt"
	"strings"
)

// Statement is one SQL statement of a file, without its terminator.
type Statement struct {
	SQL  string
	Line int // where the statement begins, from 1
}

// SyntaxError reports text the splitter cannot end: an unterminated string
// literal, quoted identifier, dollar-quoted body or block comment.
type SyntaxError struct {
	Line int // where the unterminated construct begins
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Flavor says which quoting rules [Split] follows where the dialects
// differ.
type Flavor int

// Flavors.
const (
	// Standard: PostgreSQL and SQLite. A backslash is an ordinary
	// character in '...' (PostgreSQL's E'...' excepted); $tag$ ... $tag$
	// quotes a body.
	Standard Flavor = iota
	// MySQL: a backslash escapes the next character in '...' and "...",
	// # begins a comment, and a DELIMITER line changes the terminator as
	// in the mysql client.
	MySQL
)

// FlavorOf returns the [Flavor] of the dialect named name.
func FlavorOf(dialectName string) Flavor {
	if dialectName == "mysql" {
		return MySQL
	}
	return Standard
}

// Split cuts src into statements at the terminator (";", or what a MySQL
// DELIMITER line sets), ignoring terminators inside string literals, quoted
// identifiers, comments, dollar-quoted bodies and the BEGIN ... END body of
// a CREATE TRIGGER, PROCEDURE, FUNCTION or EVENT. Statements that are empty
// or only comments are dropped.
func Split(src string, f Flavor) ([]Statement, error) {
	s := splitter{src: src, flavor: f, delim: ";", line: 1}
	return s.run()
}

type splitter struct {
	src    string
	flavor Flavor
	delim  string
	i      int
	line   int // line of src[i]
	out    []Statement

	// the statement being read
	start, startLine int
	hasCode          bool
	words            []string // its first significant words, upper-cased
	kindSeen         bool     // CREATE and the kind of object were read
	routine          bool     // a CREATE TRIGGER/PROCEDURE/FUNCTION/EVENT
	depth            int      // BEGIN/CASE ... END nesting inside a routine
	afterEnd         bool     // the previous word was END
	endDec           bool     // and it closed a block
}

// advance moves past n bytes, counting lines.
func (s *splitter) advance(n int) {
	s.line += strings.Count(s.src[s.i:s.i+n], "\n")
	s.i += n
}

func (s *splitter) run() ([]Statement, error) {
	s.begin()
	for s.i < len(s.src) {
		if s.atLineStart() && s.flavor == MySQL && !s.hasCode {
			if d, n, ok := delimiterLine(s.src[s.i:]); ok {
				s.delim = d
				s.advance(n)
				s.begin()
				continue
			}
		}
		if (s.depth == 0 || s.delim != ";") && strings.HasPrefix(s.src[s.i:], s.delim) {
			s.emit(s.i)
			s.advance(len(s.delim))
			s.begin()
			continue
		}
		c := s.src[s.i]
		switch {
		case c == '-' && strings.HasPrefix(s.src[s.i:], "--"), c == '#' && s.flavor == MySQL:
			n := strings.IndexByte(s.src[s.i:], '\n')
			if n < 0 {
				n = len(s.src) - s.i
			}
			s.advance(n)
		case c == '/' && strings.HasPrefix(s.src[s.i:], "/*"):
			n := strings.Index(s.src[s.i+2:], "*/")
			if n < 0 {
				return nil, &SyntaxError{Line: s.line, Msg: "unterminated block comment"}
			}
			s.advance(n + 4)
		case c == '\'' || c == '"' || c == '`':
			s.code()
			esc := s.flavor == MySQL && c != '`'
			if c == '\'' && s.i > 0 && (s.src[s.i-1] == 'E' || s.src[s.i-1] == 'e') && (s.i < 2 || !isWord(s.src[s.i-2])) {
				esc = true // PostgreSQL's E'...'
			}
			if err := s.quoted(c, esc); err != nil {
				return nil, err
			}
			s.afterEnd = false
		case c == '$' && s.flavor == Standard && (s.i == 0 || !isWord(s.src[s.i-1])):
			s.code()
			tag, ok := dollarTag(s.src[s.i:])
			if !ok {
				s.advance(1)
				continue
			}
			n := strings.Index(s.src[s.i+len(tag):], tag)
			if n < 0 {
				return nil, &SyntaxError{Line: s.line, Msg: "unterminated dollar-quoted text " + tag}
			}
			s.advance(n + 2*len(tag))
			s.afterEnd = false
		case isWordStart(c):
			s.code()
			j := s.i + 1
			for j < len(s.src) && isWord(s.src[j]) && (s.delim == ";" || !strings.HasPrefix(s.src[j:], s.delim)) {
				j++
			}
			s.word(strings.ToUpper(s.src[s.i:j]))
			s.advance(j - s.i)
		default:
			if !isSpace(c) {
				s.code()
				s.afterEnd = false
			}
			s.advance(1)
		}
	}
	s.emit(len(s.src))
	return s.out, nil
}

func (s *splitter) atLineStart() bool {
	return s.i == 0 || s.src[s.i-1] == '\n'
}

// begin starts a new statement at s.i.
func (s *splitter) begin() {
	s.start, s.startLine, s.hasCode = s.i, s.line, false
	s.words, s.kindSeen, s.routine, s.depth, s.afterEnd = s.words[:0], false, false, 0, false
}

// code notes that the statement has more than comments and space; the
// first time, the statement begins here.
func (s *splitter) code() {
	if !s.hasCode {
		s.hasCode, s.start, s.startLine = true, s.i, s.line
	}
}

func (s *splitter) emit(end int) {
	if !s.hasCode {
		return
	}
	text := strings.TrimRightFunc(s.src[s.start:end], func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	s.out = append(s.out, Statement{SQL: text, Line: s.startLine})
}

// quoted moves past a literal or identifier quoted by q, doubled q standing
// for itself, and a backslash escaping the next byte if esc.
func (s *splitter) quoted(q byte, esc bool) error {
	line := s.line
	j := s.i + 1
	for j < len(s.src) {
		switch c := s.src[j]; {
		case esc && c == '\\':
			j += 2
			continue
		case c == q:
			if j+1 < len(s.src) && s.src[j+1] == q {
				j += 2
				continue
			}
			s.advance(j + 1 - s.i)
			return nil
		}
		j++
	}
	what := map[byte]string{'\'': "string literal", '"': "quoted identifier", '`': "quoted identifier"}[q]
	return &SyntaxError{Line: line, Msg: "unterminated " + what}
}

// objectKinds are the words after CREATE that say what is created.
var objectKinds = map[string]bool{
	"TABLE": true, "INDEX": true, "VIEW": true, "SEQUENCE": true, "TYPE": true, "SCHEMA": true,
	"DATABASE": true, "EXTENSION": true, "DOMAIN": true, "ROLE": true, "USER": true,
	"MATERIALIZED": true, "POLICY": true, "RULE": true, "UNIQUE": true, "COLLATION": true,
	"TRIGGER": true, "PROCEDURE": true, "FUNCTION": true, "EVENT": true,
}

var routineKinds = map[string]bool{"TRIGGER": true, "PROCEDURE": true, "FUNCTION": true, "EVENT": true}

// word tracks the keywords that decide where a routine's body ends.
func (s *splitter) word(w string) {
	afterEnd := s.afterEnd
	s.afterEnd = false
	if !s.routine {
		if !s.kindSeen && len(s.words) < 16 {
			s.words = append(s.words, w)
			if s.words[0] == "CREATE" && len(s.words) > 1 && objectKinds[w] {
				s.kindSeen, s.routine = true, routineKinds[w]
			}
		}
		return
	}
	switch w {
	case "BEGIN", "CASE":
		if afterEnd && w == "CASE" {
			return // END CASE: END already closed the CASE
		}
		s.depth++
	case "END":
		s.endDec = s.depth > 0
		if s.endDec {
			s.depth--
		}
		s.afterEnd = true
	case "IF", "LOOP", "WHILE", "REPEAT":
		if afterEnd && s.endDec {
			// END IF and the like close blocks that were never counted:
			// undo END's decrement.
			s.depth++
		}
	}
}

// delimiterLine recognises a mysql client "DELIMITER x" line at the start of
// src, returning the new terminator and the length of the line.
func delimiterLine(src string) (string, int, bool) {
	n := strings.IndexByte(src, '\n')
	line := src
	if n >= 0 {
		line = src[:n+1]
	}
	f := strings.Fields(line)
	if len(f) != 2 || !strings.EqualFold(f[0], "DELIMITER") {
		return "", 0, false
	}
	return f[1], len(line), true
}

// dollarTag returns the $tag$ at the start of src.
func dollarTag(src string) (string, bool) {
	for j := 1; j < len(src); j++ {
		c := src[j]
		if c == '$' {
			return src[:j+1], true
		}
		if !(isWordStart(c) || (j > 1 && c >= '0' && c <= '9')) {
			return "", false
		}
	}
	return "", false
}

func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isWord(c byte) bool { return isWordStart(c) || c >= '0' && c <= '9' || c == '$' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
