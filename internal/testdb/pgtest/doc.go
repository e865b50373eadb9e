// Package pgtest creates a PostgreSQL database of its own for a test, on the
// server named by STRATA_TEST_POSTGRES_DSN; see package testdb.
package pgtest
