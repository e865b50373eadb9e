package migration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/strata-go/strata/internal/sqlsplit"
)

// Migration is one reversible step of a schema's history.
//
// Up and Down run in one transaction where the dialect has transactional DDL
// (PostgreSQL, SQLite) and on the locked connection otherwise (MySQL); see
// [Tx]. Embed [Base] for the defaults of the optional methods, or build a
// migration from closures with [Func] or from SQL text with [SQL].
type Migration interface {
	// ID identifies the migration for ever: unique, stable, never reused.
	ID() string
	// Up applies the migration.
	Up(ctx context.Context, tx *Tx) error
	// Down reverts what Up did.
	Down(ctx context.Context, tx *Tx) error
	// Validate checks preconditions right before Up, in the same
	// transaction. An error stops the run before Up.
	Validate(ctx context.Context, tx *Tx) error
	// Dependencies lists the IDs that must be applied first.
	Dependencies() []string
	// BackupRequired asks for a backup of the database before Up and Down.
	BackupRequired() bool
}

// Describer is an optional interface: a migration's one-line description,
// recorded in the version table and shown by Status.
type Describer interface {
	Description() string
}

// NonTransactional is an optional interface for migrations that must not
// run inside a transaction, such as PostgreSQL's CREATE INDEX CONCURRENTLY.
// The manager then runs them on the locked connection and records them dirty
// before and clean after, as it does for every migration on MySQL.
type NonTransactional interface {
	NoTransaction() bool
}

// Base gives a migration the defaults of the optional methods: Validate
// succeeds, no dependencies, no backup. Embed it:
//
//	type addEmail struct{ migration.Base }
//	func (addEmail) ID() string { return "0002_add_email" }
//	func (addEmail) Up(ctx context.Context, tx *migration.Tx) error { ... }
//	func (addEmail) Down(ctx context.Context, tx *migration.Tx) error { ... }
type Base struct{}

// Validate succeeds.
func (Base) Validate(context.Context, *Tx) error { return nil }

// Dependencies returns nil.
func (Base) Dependencies() []string { return nil }

// BackupRequired returns false.
func (Base) BackupRequired() bool { return false }

// Func is a migration built from closures, for migrations of a few lines:
//
//	&migration.Func{
//		Name:     "0002_add_email",
//		Requires: []string{"0001_users"},
//		UpFn: func(ctx context.Context, tx *migration.Tx) error {
//			_, err := tx.ExecContext(ctx, `ALTER TABLE users ADD COLUMN email TEXT`)
//			return err
//		},
//		DownFn: func(ctx context.Context, tx *migration.Tx) error {
//			return tx.DropColumn(ctx, "users", "email")
//		},
//	}
//
// Name, UpFn and DownFn are required; [NewManager] refuses a Func without
// them.
type Func struct {
	Name       string   // the ID
	Desc       string   // optional description
	Requires   []string // dependencies
	Backup     bool     // back up before Up and Down
	NoTx       bool     // run outside a transaction
	UpFn       func(ctx context.Context, tx *Tx) error
	DownFn     func(ctx context.Context, tx *Tx) error
	ValidateFn func(ctx context.Context, tx *Tx) error // optional
	// Sum is recorded as the migration's checksum ([Checksummer]); [SQL]
	// sets it from the text.
	Sum string
}

var (
	_ Migration        = (*Func)(nil)
	_ Describer        = (*Func)(nil)
	_ NonTransactional = (*Func)(nil)
	_ Checksummer      = (*Func)(nil)
)

// ID returns f.Name.
func (f *Func) ID() string { return f.Name }

// Description returns f.Desc.
func (f *Func) Description() string { return f.Desc }

// Dependencies returns f.Requires.
func (f *Func) Dependencies() []string { return f.Requires }

// BackupRequired returns f.Backup.
func (f *Func) BackupRequired() bool { return f.Backup }

// Checksum returns f.Sum.
func (f *Func) Checksum() string { return f.Sum }

// NoTransaction returns f.NoTx.
func (f *Func) NoTransaction() bool { return f.NoTx }

// Up calls f.UpFn.
func (f *Func) Up(ctx context.Context, tx *Tx) error {
	if f.UpFn == nil {
		return errors.New("no UpFn")
	}
	return f.UpFn(ctx, tx)
}

// Down calls f.DownFn.
func (f *Func) Down(ctx context.Context, tx *Tx) error {
	if f.DownFn == nil {
		return errors.New("no DownFn")
	}
	return f.DownFn(ctx, tx)
}

// Validate calls f.ValidateFn if set.
func (f *Func) Validate(ctx context.Context, tx *Tx) error {
	if f.ValidateFn == nil {
		return nil
	}
	return f.ValidateFn(ctx, tx)
}

func (f *Func) check() error {
	var missing []string
	if f.UpFn == nil {
		missing = append(missing, "UpFn")
	}
	if f.DownFn == nil {
		missing = append(missing, "DownFn")
	}
	if len(missing) > 0 {
		return fmt.Errorf("migration %q: Func without %s", f.Name, strings.Join(missing, " and "))
	}
	return nil
}

// SQL returns a migration that executes up and down as SQL text. The text
// is cut into statements the way the database's command-line client would
// (strings, quoted names, comments, dollar quotes, BEGIN ... END bodies
// and, on MySQL, DELIMITER lines; see migration/sqlfile.Split), and each
// runs on its own: MySQL runs one statement per call without
// multiStatements, and PostgreSQL would run several in one call as one
// implicit transaction, which CREATE INDEX CONCURRENTLY refuses. An error
// names the statement that failed and its line. Its checksum is
// [Checksum](up, down).
func SQL(id, up, down string, requires ...string) *Func {
	return &Func{
		Name:     id,
		Requires: requires,
		Sum:      Checksum(up, down),
		UpFn:     func(ctx context.Context, tx *Tx) error { return execSQL(ctx, tx, up) },
		DownFn:   func(ctx context.Context, tx *Tx) error { return execSQL(ctx, tx, down) },
	}
}

// execSQL runs the statements of text one by one.
func execSQL(ctx context.Context, tx *Tx, text string) error {
	stmts, err := sqlsplit.Split(text, sqlsplit.FlavorOf(tx.Dialect().Name()))
	if err != nil {
		return fmt.Errorf("split the SQL into statements: %w", err)
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.SQL); err != nil {
			if len(stmts) == 1 {
				return err
			}
			return fmt.Errorf("line %d: %w\n\tstatement: %s", st.Line, err, strings.ReplaceAll(st.SQL, "\n", "\n\t"))
		}
	}
	return nil
}

// MaxIDLength is the longest migration ID the version table holds.
const MaxIDLength = 255

// checkID reports why id cannot be a migration ID, or nil.
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("empty id")
	case len(id) > MaxIDLength:
		return fmt.Errorf("id %.20q... is longer than %d bytes", id, MaxIDLength)
	case strings.TrimSpace(id) != id:
		return fmt.Errorf("id %q has leading or trailing space", id)
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return fmt.Errorf("id %q contains a control character", id)
	}
	return nil
}

func description(m Migration) string {
	if d, ok := m.(Describer); ok {
		return d.Description()
	}
	return ""
}

func noTransaction(m Migration) bool {
	n, ok := m.(NonTransactional)
	return ok && n.NoTransaction()
}
