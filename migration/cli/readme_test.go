package cli

import (
	"os"
	"strings"
	"testing"
)

// TestREADMECommandLine: the README's command line section lists every
// command and every environment variable, with the flag it stands for.
func TestREADMECommandLine(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "\n## Command line")
	if start < 0 {
		t.Fatal("README.md has no Command line section")
	}
	section := readme[start:]
	if end := strings.Index(section[1:], "\n## "); end >= 0 {
		section = section[:end+1]
	}
	for _, c := range commands {
		if c.hidden {
			continue
		}
		if !strings.Contains(section, "| `"+c.name) && !strings.Contains(section, ", `"+c.name) {
			t.Errorf("README.md's command table lacks %s", c.name)
		}
	}
	rows := map[string]string{} // variable -> its table row
	for _, line := range strings.Split(section, "\n") {
		if i := strings.Index(line, "| `STRATA_"); i >= 0 {
			v := line[i+3:]
			rows[v[:strings.Index(v, "`")]] = line
		}
	}
	want := map[string]string{DefaultDSNEnv: "dsn"}
	for _, f := range envFlags {
		want[f.env] = f.flag
	}
	for v, flag := range want {
		row, ok := rows[v]
		if !ok {
			t.Errorf("README.md's table of environment variables lacks %s", v)
			continue
		}
		dash := "--"
		if len(flag) == 1 {
			dash = "-"
		}
		if !strings.Contains(row, "`"+dash+flag) && !strings.Contains(row, " "+dash+flag) {
			t.Errorf("README.md: the row of %s does not name %s%s: %s", v, dash, flag, row)
		}
	}
	for v := range rows {
		if _, ok := want[v]; !ok {
			t.Errorf("README.md documents %s, which the command line does not read", v)
		}
	}
}
