package testdb_test

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/strata-go/strata/internal/testdb"
)

const childEnv = "STRATA_TESTDB_CHILD"

const testEnv = "STRATA_TESTDB_EXAMPLE_DSN"

// TestGate runs DSN and Unreachable in child processes under each
// combination of environment variables and checks that the child skips or
// fails with the reason.
func TestGate(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "dsn":
		t.Logf("dsn=%s", testdb.DSN(t, testEnv))
		return
	case "unreachable":
		testdb.Unreachable(t, testEnv, errors.New("connection refused"))
		return
	}
	tests := []struct {
		name   string
		mode   string
		env    []string
		status string // SKIP, FAIL or PASS
		want   string
	}{
		{"unset skips", "dsn", nil, "SKIP",
			testEnv + " not set; see README (docker compose -f docker-compose.test.yml up -d)"},
		{"unset but required fails", "dsn", []string{testdb.RequireEnv + "=1"}, "FAIL",
			testEnv + " not set but " + testdb.RequireEnv + "=1"},
		{"set", "dsn", []string{testEnv + "=host=x"}, "PASS", "dsn=host=x"},
		{"unreachable skips", "unreachable", nil, "SKIP", "unreachable: connection refused"},
		{"unreachable but required fails", "unreachable", []string{testdb.RequireEnv + "=1"}, "FAIL",
			"unreachable (" + testdb.RequireEnv + "=1): connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestGate$", "-test.v")
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, testEnv+"=") && !strings.HasPrefix(kv, testdb.RequireEnv+"=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, childEnv+"="+tt.mode)
			cmd.Env = append(cmd.Env, tt.env...)
			out, err := cmd.CombinedOutput()
			if (err != nil) != (tt.status == "FAIL") {
				t.Errorf("child exit: %v, want the test to %s", err, tt.status)
			}
			if !strings.Contains(string(out), "--- "+tt.status+": TestGate ") || !strings.Contains(string(out), tt.want) {
				t.Errorf("child output lacks %s and %q:\n%s", tt.status, tt.want, out)
			}
		})
	}
}

func TestRandomName(t *testing.T) {
	a, b := testdb.RandomName(), testdb.RandomName()
	re := regexp.MustCompile(`^strata_test_[0-9a-f]{16}$`)
	if !re.MatchString(a) || !re.MatchString(b) {
		t.Errorf("names %q, %q do not match %s", a, b, re)
	}
	if a == b {
		t.Errorf("two names are both %q", a)
	}
}
