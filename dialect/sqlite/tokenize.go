package sqlite

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// This file splits the SQL that SQLite keeps in sqlite_schema into tokens,
// for the parser in sqlparse.go and the readers of the table rebuild and
// the schema inspector: every kind of quoting and comment SQLite knows,
// with each token's place in the text, and identifiers compared and folded
// the way SQLite compares and folds them (ASCII letters only).

type sqlTokKind uint8

const (
	tkWord   sqlTokKind = iota // bare identifier or keyword
	tkQuoted                   // "ident", `ident` or [ident]
	tkString                   // 'string'
	tkBlob                     // x'hex'
	tkNumber                   // 12, 1.5e3, 0x1F
	tkPunct                    // one character: ( ) , ; . or one of an operator's
)

type sqlToken struct {
	kind     sqlTokKind
	text     string // as written
	pos, end int32  // byte offsets in the source; int32 keeps tokens small
}

// sqlTokens splits SQL text into tokens, dropping white space and comments.
// It fails on an unterminated quote or blob literal.
func sqlTokens(s string) ([]sqlToken, error) {
	toks, err := lexSQL(s)
	if err != nil {
		return nil, err
	}
	return toks, nil
}

// lexSQL is sqlTokens for readers that must not fail, like the schema
// inspector: with the error about an unterminated quote or blob literal it
// returns the tokens all the same, the unterminated one running to the end
// of the text.
func lexSQL(s string) ([]sqlToken, error) {
	if len(s) > math.MaxInt32 {
		return nil, errors.New("SQL text longer than 2 GiB")
	}
	toks := make([]sqlToken, 0, len(s)/4)
	var err error
	for i := 0; i < len(s); {
		c, start := s[i], i
		kind := tkPunct
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			if i = after(s, i, '\n'); i < 0 {
				i = len(s)
			}
			continue
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if k := strings.Index(s[i+2:], "*/"); k >= 0 {
				i += 2 + k + 2
			} else {
				i = len(s) // SQLite accepts an unterminated comment at the end
			}
			continue
		case c == '\'' || c == '"' || c == '`':
			kind = tkQuoted
			if c == '\'' {
				kind = tkString
			}
			i = after(s, i+1, c)
			for i > 0 && i < len(s) && s[i] == c { // a doubled quote stands for itself
				i = after(s, i+1, c)
			}
			if i < 0 {
				err = fmt.Errorf("unterminated %c quote at offset %d", c, start)
			}
		case c == '[':
			if kind, i = tkQuoted, after(s, i, ']'); i < 0 {
				err = fmt.Errorf("unterminated [ quote at offset %d", start)
			}
		case (c == 'x' || c == 'X') && i+1 < len(s) && s[i+1] == '\'':
			if kind, i = tkBlob, after(s, i+2, '\''); i < 0 {
				err = fmt.Errorf("unterminated blob literal at offset %d", start)
			}
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			kind = tkNumber
			hex := c == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X')
			for i++; i < len(s); i++ {
				d := s[i]
				// The sign of an exponent is part of the number, but
				// 0x1E+1 is a sum.
				sign := (d == '+' || d == '-') && (s[i-1] == 'e' || s[i-1] == 'E') && !hex
				if d != '.' && !isIdentByte(d, false) && !sign {
					break
				}
			}
		case isIdentByte(c, true):
			kind = tkWord
			for i++; i < len(s) && isIdentByte(s[i], false); i++ {
			}
		default:
			i++
		}
		if i < 0 {
			i = len(s)
		}
		toks = append(toks, sqlToken{kind, s[start:i], int32(start), int32(i)})
	}
	return toks, err
}

// after returns the index just past the first c in s from s[i], or -1.
func after(s string, i int, c byte) int {
	if k := strings.IndexByte(s[i:], c); k >= 0 {
		return i + k + 1
	}
	return -1
}

func isIdentByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= 0x80:
		return true
	case c >= '0' && c <= '9', c == '$':
		return !first
	}
	return false
}

// is reports whether t is the bare keyword kw (case-insensitive).
func (t sqlToken) is(kw string) bool {
	return t.kind == tkWord && foldEq(t.text, kw)
}

func (t sqlToken) punct(p string) bool { return t.kind == tkPunct && t.text == p }

// name returns the identifier t stands for, unquoted; ok is false when t
// cannot be a name.
func (t sqlToken) name() (string, bool) {
	switch t.kind {
	case tkWord, tkQuoted, tkString:
		return t.ident(), true
	}
	return "", false
}

// ident returns t unquoted if it is quoted, and as written otherwise.
func (t sqlToken) ident() string {
	if t.kind == tkQuoted || t.kind == tkString {
		return unquoteIdent(t.text)
	}
	return t.text
}

func unquoteIdent(s string) string {
	if len(s) < 2 {
		return s
	}
	switch s[0] {
	case '"':
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	case '`':
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	case '\'':
		return strings.ReplaceAll(s[1:len(s)-1], `''`, `'`)
	case '[':
		return s[1 : len(s)-1]
	}
	return s
}

// foldEq reports whether a and b are the same identifier to SQLite, which
// folds the case of the ASCII letters A to Z only (sqlite3StrICmp): "é" and
// "É", "k" and the Kelvin sign, are different names.
func foldEq(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if x, y := a[i], b[i]; x != y && lowerByte(x) != lowerByte(y) {
			return false
		}
	}
	return true
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// lowerASCII folds s the way SQLite folds identifiers: A to Z only. Bytes
// that are not ASCII, valid UTF-8 or not, are left as they are.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerByte(b[j])
			}
			return string(b)
		}
	}
	return s
}

// upperASCII is lowerASCII's counterpart, for keywords.
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// sqlKeywords are SQLite's keywords (https://sqlite.org/lang_keywords.html).
var sqlKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH
		AUTOINCREMENT BEFORE BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT
		CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT
		DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE
		EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP
		GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO
		IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL
		NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE
		RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT
		ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER
		UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT`) {
		m[k] = true
	}
	return m
}()

func isKeyword(s string) bool { return sqlKeywords[upperASCII(s)] }
