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
