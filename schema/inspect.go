package schema

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/strata-go/strata/dialect"
)

// ErrNotSupported is returned by [Inspect] for a dialect that does not
// implement [Inspector].
var ErrNotSupported = errors.New("schema: dialect cannot inspect schemas")

// Inspector is an optional interface of a [dialect.Dialect]: it describes
// the schema of the database q is connected to. The built-in dialects
// implement it.
//
// InspectSchema must describe the schema unqualified names resolve to (the
// current schema on PostgreSQL, the current database on MySQL, "main" on
// SQLite), leaving out the tables opts excludes with everything that
// belongs to them (their indexes, constraints and triggers), the database's
// own bookkeeping (sqlite_sequence, statistics tables) and objects that
// belong to extensions. It must report what the database knows in a form
// that does not depend on how the schema was built: two databases built by
// the same DDL must describe as equal values, for example on PostgreSQL
// columns dropped and added again leave gaps in attnum that must not show.
// Names the database generates must be kept where users can refer to them
// (PostgreSQL's "t_pkey", MySQL's "t_ibfk_1") and left out where they
// cannot (SQLite's "sqlite_autoindex_t_1"). The returned Schema need not be
// normalised: [Inspect] normalises it.
//
// It must only read, and must work on a *sql.Conn inside or outside a
// transaction.
type Inspector interface {
	InspectSchema(ctx context.Context, q dialect.Execer, opts Options) (*Schema, error)
}

// Options says what an [Inspector] leaves out.
type Options struct {
	// Exclude are tables to leave out, as a migration manager is
	// configured with them: "name", or "schema.name" for a table in a
	// named schema (or database, on MySQL; attached database, on
	// SQLite). The migration manager excludes its version table and the
	// table it records schemas in.
	Exclude []string
}

// Excluded reports whether table, in the schema called current (the one
// being described), is one of o.Exclude. An unqualified entry matches in
// any schema being described. fold compares names case-insensitively, for
// databases whose table names are (SQLite, usually MySQL).
func (o Options) Excluded(current, table string, fold bool) bool {
	eq := func(a, b string) bool { return a == b }
	if fold {
		eq = strings.EqualFold
	}
	for _, x := range o.Exclude {
		s, n, qualified := strings.Cut(x, ".")
		if !qualified {
			n = s
		}
		if eq(n, table) && (!qualified || eq(s, current)) {
			return true
		}
	}
	return false
}

// Inspect describes the schema of the database q is connected to, through
// d's [Inspector], and normalises the result. A dialect without one is
// [ErrNotSupported].
func Inspect(ctx context.Context, d dialect.Dialect, q dialect.Execer, opts Options) (*Schema, error) {
	in, ok := d.(Inspector)
	if !ok {
		return nil, fmt.Errorf("%w: %s does not implement schema.Inspector", ErrNotSupported, d.Name())
	}
	s, err := in.InspectSchema(ctx, q, opts)
	if err != nil {
		return nil, fmt.Errorf("inspect %s schema: %w", d.Name(), err)
	}
	if s == nil {
		s = &Schema{}
	}
	s.Normalize()
	return s, nil
}
