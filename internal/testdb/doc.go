// Package testdb gives tests a database of their own on a real PostgreSQL
// or MySQL/MariaDB server, created with a random name and dropped when the
// test ends. It imports no driver: the subpackages pgtest and mytest do,
// each importing only its own server's driver.
//
// The servers are named by environment variables holding a DSN of a user
// allowed to create databases:
//
//	STRATA_TEST_POSTGRES_DSN  e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
//	STRATA_TEST_MYSQL_DSN     e.g. root@tcp(127.0.0.1:3306)/test
//
// A test whose variable is unset, or whose server cannot be reached, is
// skipped with the reason, unless STRATA_TEST_REQUIRE_SERVERS=1 (as CI
// sets), which turns the skip into a failure.
package testdb
