package sqlfile

import "github.com/strata-go/strata/internal/sqlsplit"

// Statement is one SQL statement of a file, without its terminator.
type Statement = sqlsplit.Statement

// SyntaxError reports text the splitter cannot end: an unterminated string
// literal, quoted identifier, dollar-quoted body or block comment.
type SyntaxError = sqlsplit.SyntaxError

// Flavor says which quoting rules [Split] follows where the dialects
// differ.
type Flavor = sqlsplit.Flavor

// Flavors.
const (
	// Standard: PostgreSQL and SQLite. A backslash is an ordinary
	// character in '...' (PostgreSQL's E'...' excepted); $tag$ ... $tag$
	// quotes a body.
	Standard = sqlsplit.Standard
	// MySQL: a backslash escapes the next character in '...' and "...",
	// # begins a comment, and a DELIMITER line changes the terminator as
	// in the mysql client.
	MySQL = sqlsplit.MySQL
)

// Split cuts src into statements at the terminator (";", or what a MySQL
// DELIMITER line sets), ignoring terminators inside string literals, quoted
// identifiers, comments, dollar-quoted bodies and the BEGIN ... END body of
// a CREATE TRIGGER, PROCEDURE, FUNCTION or EVENT. Statements that are empty
// or only comments are dropped.
func Split(src string, f Flavor) ([]Statement, error) { return sqlsplit.Split(src, f) }

// FlavorOf returns the [Flavor] of the dialect named name.
func FlavorOf(dialectName string) Flavor { return sqlsplit.FlavorOf(dialectName) }
