// Package schema describes database schemas as comparable values: the
// model behind strata's round-trip tests ([migrationtest]) and drift
// detection ([migration.Manager.Drift]).
//
// A [Schema] lists the tables (columns with type, nullability, default,
// collation and generation; primary key; indexes on columns or expressions,
// unique or partial; foreign keys with their actions; CHECK and UNIQUE
// constraints), views, triggers and other objects of one schema,
// normalised so that two databases built by the same DDL describe as equal
// values. [Compare] returns a readable [Diff]: what was added, removed or
// changed, object by object.
//
// Reading a schema is an optional dialect capability, [Inspector], which
// the built-in dialects implement; [Inspect] calls it:
//
//	before, err := schema.Inspect(ctx, postgres.New(), db, schema.Options{Exclude: []string{"strata_migrations"}})
//	// ... run a migration and its Down ...
//	after, err := schema.Inspect(ctx, postgres.New(), db, schema.Options{Exclude: []string{"strata_migrations"}})
//	if d := schema.Compare(before, after); !d.Empty() {
//		fmt.Println(d)
//	}
//
// # What is compared
//
// Objects are matched by name; constraints without a name (possible on
// SQLite only) by definition. Names the database makes up are kept where
// users can use them (PostgreSQL's "t_pkey", MySQL's "t_ibfk_1") and
// dropped where they cannot (SQLite's internal "sqlite_autoindex_t_1"
// indexes are described as the UNIQUE constraints they implement).
// Definitions are compared as the database reports them: PostgreSQL's
// deparsed expressions, MySQL's information_schema, SQLite's stored SQL
// with white space and comments normalised. The order of columns is part
// of a table (see [IgnoreColumnOrder]); everything else is sorted.
//
// Data is not part of a schema: neither rows nor sequence counters.
//
// [migrationtest]: https://pkg.go.dev/github.com/strata-go/strata/migration/migrationtest
// [migration.Manager.Drift]: https://pkg.go.dev/github.com/strata-go/strata/migration#Manager.Drift
package schema
