// Package mytest creates a MySQL/MariaDB database of its own for a test, on
// the server named by STRATA_TEST_MYSQL_DSN; see package testdb.
package mytest
