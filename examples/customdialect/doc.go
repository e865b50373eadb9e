// Command customdialect shows a dialect that is not built in: "sqlite-strict",
// SQLite with a version table declared STRICT, so that SQLite enforces the
// column types it otherwise only suggests. It registers the dialect and
// runs the strata command line with it:
//
//	go run ./examples/customdialect up        # ./customdialect.db
//	go run ./examples/customdialect status
//	go run ./examples/customdialect --dsn /tmp/other.db down --all --yes
//
// A dialect is any type that implements dialect.Dialect. This one embeds
// the SQLite dialect, so it inherits its quoting, locking, foreign-key
// hooks and table rebuilds, and overrides Name and VersionTableDDL. Its
// Open method (the optional dialect.Opener interface) lets the command line
// open its databases without cli.WithOpener.
//
// Its tests run the manager through it and the lock conformance suite
// (lock/locktest) against its locker, as the built-in dialects' tests do.
package main
