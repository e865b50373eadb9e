// Package postgres is the PostgreSQL dialect of strata, on pgx/v5 through
// database/sql.
//
// Importing the package registers the dialect under "postgres" (for
// [dialect.Lookup]) and pgx's database/sql driver under [DriverName]:
//
//	db, err := sql.Open(postgres.DriverName, "postgres://app@db:5432/app")
//	...
//	m, err := migration.NewManager(db, postgres.New(), migrations)
//
// The dialect also opens databases itself ([Dialect.Open], the optional
// [dialect.Opener] the command line uses), from a postgres:// URL or
// keyword/value settings.
//
// DDL is transactional: each migration and its version table row commit or
// roll back together. Migrators are serialised by a session-level advisory
// lock ([lock.Postgres]) keyed on the database, schema and version table, so
// applications with different version tables in one database never block
// each other.
//
// The version table is created in current_schema() (the first existing
// schema of the search_path), or in the schema a qualified name
// "schema.table" gives. That schema must exist: strata does not create it.
//
// This package needs no cgo.
package postgres
