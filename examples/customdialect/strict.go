package main

import (
	"database/sql"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/sqlite"
)

// Name is the name the dialect registers under.
const Name = "sqlite-strict"

// Dialect is SQLite with a STRICT version table. Use [New].
type Dialect struct {
	*sqlite.Dialect
}

var (
	_ dialect.Dialect       = (*Dialect)(nil)
	_ dialect.Hooks         = (*Dialect)(nil)
	_ dialect.ColumnDropper = (*Dialect)(nil)
	_ dialect.Opener        = (*Dialect)(nil)
)

// New returns the dialect.
func New() *Dialect { return &Dialect{Dialect: sqlite.New()} }

// Name returns "sqlite-strict".
func (*Dialect) Name() string { return Name }

// VersionTableDDL creates the version table, with the columns
// dialect.VersionTableColumns lists, as a STRICT table (SQLite 3.37 or
// newer): SQLite then refuses values of the wrong type instead of storing
// them. STRICT tables know only INTEGER, REAL, TEXT, BLOB and ANY,
// so the time is TEXT (the driver writes it as text anyway) and the flag
// an INTEGER checked to be 0 or 1.
func (d *Dialect) VersionTableDDL(table string) []string {
	return []string{`CREATE TABLE IF NOT EXISTS ` + dialect.QuoteTable(d, table) + ` (
	id          TEXT    NOT NULL PRIMARY KEY,
	seq         INTEGER NOT NULL UNIQUE CHECK (seq > 0),
	description TEXT    NOT NULL DEFAULT '',
	applied_at  TEXT    NOT NULL,
	duration_us INTEGER NOT NULL DEFAULT 0 CHECK (duration_us >= 0),
	dirty       INTEGER NOT NULL DEFAULT 0 CHECK (dirty IN (0, 1)),
	fingerprint TEXT    NOT NULL DEFAULT '',
	schema_fingerprint TEXT NOT NULL DEFAULT ''
) STRICT`}
}

// Open opens the SQLite file at path as [sqlite.Open] does. It is the
// optional [dialect.Opener] interface: the command line opens databases of
// this dialect with it.
func (*Dialect) Open(path string) (*sql.DB, error) { return sqlite.Open(path) }
