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

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

// Environment variables read by the helpers.
const (
	PostgresEnv = "STRATA_TEST_POSTGRES_DSN"
	MySQLEnv    = "STRATA_TEST_MYSQL_DSN"
	RequireEnv  = "STRATA_TEST_REQUIRE_SERVERS"
)

// NamePrefix starts the name of every database the helpers create, so that
// leftovers of killed test runs are easy to find and drop.
const NamePrefix = "strata_test_"

// Required reports whether STRATA_TEST_REQUIRE_SERVERS=1, which makes a
// missing or unreachable server fail tests instead of skipping them.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// DSN returns the DSN in the environment variable env. If it is unset, the
// test is skipped, or failed if servers are [Required].
func DSN(t testing.TB, env string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn != "" {
		return dsn
	}
	if Required() {
		t.Fatalf("%s not set but %s=1", env, RequireEnv)
	}
	t.Skipf("%s not set; see README (docker compose -f docker-compose.test.yml up -d)", env)
	return ""
}

// Unreachable skips the test, or fails it if servers are [Required],
// because the server named by env could not be used.
func Unreachable(t testing.TB, env string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("server of %s unreachable (%s=1): %v", env, RequireEnv, err)
	}
	t.Skipf("server of %s unreachable: %v", env, err)
}

// RandomName returns a fresh database name: [NamePrefix] and 16 hex digits.
func RandomName() string {
	b := make([]byte, 8)
	rand.Read(b) // never fails: crypto/rand crashes the program rather than return an error
	return NamePrefix + hex.EncodeToString(b)
}
