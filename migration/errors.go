package migration

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrCycle: the dependencies form a cycle; the error text shows it.
	ErrCycle = errors.New("migration: dependency cycle")
	// ErrMissingDependency: a migration depends on an ID no migration has.
	ErrMissingDependency = errors.New("migration: missing dependency")
	// ErrDuplicateID: two migrations share an ID.
	ErrDuplicateID = errors.New("migration: duplicate id")
	// ErrInvalidID: an ID is empty, too long, or has control characters or
	// surrounding space.
	ErrInvalidID = errors.New("migration: invalid id")
	// ErrUnknownMigration: a target or repair names an ID that is neither a
	// known migration nor (for repair) a row of the version table.
	ErrUnknownMigration = errors.New("migration: unknown migration")
	// ErrDirty: a migration started without finishing where DDL is not
	// transactional; nothing runs until it is repaired with
	// [Manager.Repair].
	ErrDirty = errors.New("migration: dirty")
	// ErrUnknownApplied: rolling back would pass a migration that is applied
	// but unknown to this binary (a newer binary applied it).
	ErrUnknownApplied = errors.New("migration: applied migration unknown to this binary")
	// ErrTransactionEnded: a migration run in a transaction ended it
	// itself, executing COMMIT or ROLLBACK. What it ran before may be
	// committed or not, what it ran after was committed statement by
	// statement: the migration is recorded dirty, to be inspected and
	// repaired.
	ErrTransactionEnded = errors.New("migration: the migration ended its transaction itself (COMMIT or ROLLBACK in its SQL)")
)

// Steps named by [Error]. StepState covers what a run does around the
// migrations themselves: reading or creating the version table (and
// refusing a dirty or foreign one), and setting the locked connection up
// and back (its saved session; the dialect's Hooks, such as SQLite's PRAGMA
// foreign_keys; beginning the transaction of an atomic run or a dry run).
const (
	StepValidate = "validate"
	StepUp       = "up"
	StepDown     = "down"
	StepBackup   = "backup"
	StepLock     = "lock"
	StepState    = "state"  // the version table read, the connection set up
	StepRecord   = "record" // writing the version table
	StepRestore  = "restore"
	StepDrift    = "drift" // comparing the schema with the recorded one before a run
)

// Error is returned when a run fails; it names the migration (empty for
// steps that concern no single migration, such as taking the lock) and the
// step, and wraps the cause.
type Error struct {
	ID   string
	Step string
	Err  error
}

// Error reads "migration ID: step: cause", or "migration: step: cause"
// when no single migration is concerned.
func (e *Error) Error() string {
	if e.ID == "" {
		return "migration: " + e.Step + ": " + e.Err.Error()
	}
	return "migration " + e.ID + ": " + e.Step + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// PanicError is the cause of an [Error] when a migration panicked. The
// transaction, if any, was rolled back.
type PanicError struct {
	Value any
	Stack []byte
}

// Error reads "panic: " and the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

func stepErr(id, step string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{ID: id, Step: step, Err: err}
}
