package migration

import (
	"time"
)

// Direction is the way a migration runs.
type Direction string

// Directions.
const (
	DirectionUp   Direction = "up"
	DirectionDown Direction = "down"
)

// Result reports one migration a run applied or rolled back. When a run
// fails, the last Result is the failed migration, with Err set.
type Result struct {
	ID          string
	Description string
	Direction   Direction
	Duration    time.Duration
	// Backup is the file the database was backed up to before the
	// migration, if it asked for a backup.
	Backup string
	Err    error
}

// State is where a migration stands in a database.
type State string

// States reported by [Manager.Status].
const (
	StatePending State = "pending"
	StateApplied State = "applied"
	// StateDirty: started but not finished where DDL is not
	// transactional; see [ErrDirty].
	StateDirty State = "dirty"
	// StateUnknown: applied, but this binary does not know the migration
	// (a newer binary applied it).
	StateUnknown State = "unknown"
	// StateRunning: recorded dirty while another migrator holds the
	// migration lock: a run is applying or rolling back the migration,
	// or has just done so and not yet recorded it clean. Ask again when
	// the run is over.
	StateRunning State = "running"
)

// Status is one migration's state, as [Manager.Status] reports it.
type Status struct {
	ID           string
	Description  string
	State        State
	Dependencies []string
	// Applied records, for applied, dirty and unknown migrations, when
	// the migration was applied, how long it took and in which order.
	AppliedAt time.Time
	Duration  time.Duration
	Seq       int64
	// Baselined reports a migration recorded by [Manager.Baseline]
	// without running.
	Baselined bool
	// Changed reports an applied migration whose checksum differs from
	// the one recorded when it was applied: its text was edited since
	// ([ErrChecksum]).
	Changed bool
}

// Record is one row of the version table.
type Record struct {
	ID          string
	Seq         int64 // the order in which migrations were applied, from 1
	Description string
	AppliedAt   time.Time // UTC
	Duration    time.Duration
	Dirty       bool
	// Baselined reports a row written by [Manager.Baseline]: the
	// migration was recorded as applied without running. The version
	// table marks it by beginning its description with [BaselineMark].
	Baselined bool
	// Known reports whether this binary has the migration.
	Known bool
	// SchemaFingerprint digests the schema as the last run that applied
	// this migration, or rolled back to it, left it, where the dialect can
	// describe its schema; empty for rows that were not the newest when a
	// run ended.
	SchemaFingerprint string
	// Checksum is the migration's checksum when it was applied
	// ([Checksummer]); empty if it has none or was applied before strata
	// recorded checksums.
	Checksum string

	fingerprint string
}

// Target says what a run does: which direction, and how far.
type Target struct {
	Direction Direction
	// ID limits the run. Up: apply ID and its unapplied ancestors only.
	// Down: roll back every applied migration that is neither ID nor an
	// ancestor of ID. Empty: Up applies everything pending, Down rolls
	// back the last applied migration (or everything, with All).
	ID string
	// All rolls back every applied migration (Down only).
	All bool
	// Count rolls back the Count most recently applied migrations, newest
	// first (Down only; 0 means one, unless ID or All says otherwise).
	// Fewer are rolled back when fewer are applied.
	Count int
}

// Step is one migration a run would apply or roll back, as [Manager.Plan]
// reports it.
type Step struct {
	ID             string
	Description    string
	Direction      Direction
	BackupRequired bool
	NoTransaction  bool
	// SQL, Preview and PreviewNote are set by [Manager.PlanSQL]: the
	// statements the step would execute, how they were obtained
	// ([PreviewFile], [PreviewDryRun]), and why they are not known when
	// Preview is [PreviewNone].
	SQL         []string
	Preview     string
	PreviewNote string
}
