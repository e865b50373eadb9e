package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-go/strata/migration/cli"
)

// TestMain lets the test binary act as a program that embeds the command
// line under "app migrate", for the shells the completion tests start.
func TestMain(m *testing.M) {
	if os.Getenv("STRATA_CLI_TEST_AS_APP") == "1" {
		args := os.Args[1:]
		if len(args) == 0 || args[0] != "migrate" {
			os.Exit(cli.ExitUsage)
		}
		os.Exit(cli.Run(context.Background(), args[1:], testMigrations(), cli.WithProgramName("app migrate")))
	}
	os.Exit(m.Run())
}

// TestComplete: what __complete, which the scripts call, answers for the
// words typed so far (the last one under the cursor).
func TestComplete(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		want  []string // the candidates, without descriptions
	}{
		{name: "commands", words: []string{"st"}, want: []string{"status"}},
		{name: "every command", words: []string{""}, want: []string{"adopt", "backup", "baseline", "completion", "create", "down", "drift", "graph",
			"help", "history", "pending", "plan", "repair", "restore", "status", "up", "validate", "version"}},
		{name: "global flags before the command", words: []string{"--d"}, want: []string{"--dialect", "--dsn"}},
		{name: "command flags and global flags", words: []string{"up", "--t"}, want: []string{"--table", "--to"}},
		{name: "a single-letter flag", words: []string{"status", "-v"}, want: []string{"-v"}},
		{name: "migration IDs for --to", words: []string{"down", "--to", "000"}, want: []string{"0001_users", "0002_posts", "0003_tags"}},
		{name: "migration IDs for baseline", words: []string{"baseline", "0002"}, want: []string{"0002_posts"}},
		{name: "migration IDs for repair after flags", words: []string{"--dsn", "x.db", "repair", "--applied", ""}, want: []string{"0001_users", "0002_posts", "0003_tags"}},
		{name: "the command after a flag's value", words: []string{"--table", "up", "do"}, want: []string{"down"}},
		{name: "dialects", words: []string{"--dialect", "s"}, want: []string{"sqlite"}},
		{name: "directories", words: []string{"create", "--dir", ""}, want: []string{":dirs"}},
		{name: "files", words: []string{"restore", ""}, want: []string{":files"}},
		{name: "shells", words: []string{"completion", ""}, want: []string{"bash", "fish", "zsh"}},
		{name: "help topics", words: []string{"help", "re"}, want: []string{"repair", "restore"}},
		{name: "nothing after the argument", words: []string{"baseline", "0001_users", ""}},
		{name: "nothing for a free value", words: []string{"--dsn", ""}},
		{name: "nothing after --", words: []string{"create", "--", "--"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, testMigrations(), nil, append([]string{"__complete", "--"}, tt.words...)...)
			if r.code != cli.ExitOK {
				t.Fatalf("exit code %d\n%s", r.code, r.stderr)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
				if line != "" {
					got = append(got, strings.SplitN(line, "\t", 2)[0])
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("__complete %q = %q, want %q", tt.words, got, tt.want)
			}
		})
	}
	r := run(t, testMigrations(), nil, "help")
	if strings.Contains(r.stdout, "__complete") {
		t.Errorf("help lists the hidden command:\n%s", r.stdout)
	}
}

// TestCompletionScripts: each script is what the golden file holds, and
// completes in the real shell (skipped, saying so, where the shell is not
// installed): the program's prefix word, commands, flags and migration IDs,
// and nothing for another subcommand of the program.
func TestCompletionScripts(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The shells run the program as "app", found on PATH.
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, "app")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		line string // the command line, the cursor at its end
		want string // the candidates, sorted, joined by "|"
	}{
		{"app mi", "migrate"},
		{"app migrate st", "status"},
		{"app migrate up --t", "--table|--to"},
		{"app migrate --dialect sq", "sqlite"},
		{"app migrate down --to 0002", "0002_posts"},
		{"app migrate baseline 000", "0001_users|0002_posts|0003_tags"},
		{"app serve x", ""},
	}
	// Each shell's driver prints, for each line, the candidates joined by |.
	drivers := map[string]func(script string) []string{
		"bash": func(script string) []string {
			var b strings.Builder
			b.WriteString("source " + script + "\n")
			for _, c := range cases {
				b.WriteString("COMP_WORDS=(" + shellWords(c.line) + "); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _app_strata_complete\n")
				b.WriteString("echo \"[$(printf '%s\\n' \"${COMPREPLY[@]}\" | grep -v '^$' | sort | paste -sd'|')]\"\n")
			}
			return []string{"bash", "--norc", "-c", b.String()}
		},
		"zsh": func(script string) []string {
			var b strings.Builder
			b.WriteString("compdef() { :; }\ncompadd() { shift; print -rl -- \"$@\"; }\n_describe() { print -rl -- \"${(@P)4%%:*}\"; }\n_files() { :; }\n")
			b.WriteString("source " + script + "\n")
			for _, c := range cases {
				b.WriteString("words=(" + shellWords(c.line) + "); CURRENT=$#words; echo \"[$(_app_strata_complete | sort | paste -sd'|')]\"\n")
			}
			return []string{"zsh", "-f", "-c", b.String()}
		},
		"fish": func(script string) []string {
			var b strings.Builder
			b.WriteString("source " + script + "\n")
			for _, c := range cases {
				b.WriteString("set -l r (complete -C " + shellQuote(c.line) + " | string replace -r '\\t.*' '' | sort | paste -sd'|'); echo \"[$r]\"\n")
			}
			return []string{"fish", "--no-config", "-c", b.String()}
		},
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		t.Run(sh, func(t *testing.T) {
			r := run(t, testMigrations(), []cli.Option{cli.WithProgramName("app migrate")}, "completion", sh)
			if r.code != cli.ExitOK {
				t.Fatalf("exit code %d\n%s", r.code, r.stderr)
			}
			golden(t, filepath.Join("testdata", "completion", "app."+sh), r.stdout)
			if _, err := exec.LookPath(sh); err != nil {
				if os.Getenv("STRATA_TEST_REQUIRE_SHELLS") != "" {
					t.Fatalf("%s is not installed and STRATA_TEST_REQUIRE_SHELLS is set", sh)
				}
				t.Skipf("%s is not installed: the script is checked against its golden file only (set STRATA_TEST_REQUIRE_SHELLS=1 to make this a failure)", sh)
			}
			script := filepath.Join(t.TempDir(), "completion."+sh)
			if err := os.WriteFile(script, []byte(r.stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			argv := drivers[sh](script)
			cmd := exec.CommandContext(t.Context(), argv[0], argv[1:]...)
			cmd.Env = append(os.Environ(), "STRATA_CLI_TEST_AS_APP=1", "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "STRATA_DSN=")
			cmd.Dir = t.TempDir()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", sh, err, out)
			}
			// Each case prints "[candidates]".
			var lines []string
			for _, l := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
					lines = append(lines, l[1:len(l)-1])
				}
			}
			if len(lines) != len(cases) {
				t.Fatalf("%s printed %d results for %d cases:\n%s", sh, len(lines), len(cases), out)
			}
			for i, c := range cases {
				if lines[i] != c.want {
					t.Errorf("%s: %q completes to %q, want %q", sh, c.line, lines[i], c.want)
				}
			}
		})
	}
	t.Run("unknown shell", func(t *testing.T) {
		r := run(t, testMigrations(), nil, "completion", "tcsh")
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, `unknown shell "tcsh"`) {
			t.Errorf("exit code %d, stderr:\n%s", r.code, r.stderr)
		}
	})
}

// shellWords quotes the words of line for a bash or zsh array, keeping an
// empty last word when line ends with a space.
func shellWords(line string) string {
	words := strings.Split(line, " ")
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	return strings.Join(words, " ")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// FuzzComplete: whatever words are typed, __complete answers with exit
// code 0 and only candidates that extend the word under the cursor, or a
// directive for the shell.
func FuzzComplete(f *testing.F) {
	for _, seed := range []string{"", "st", "up --t", "down --to 000", "--dialect s", "restore ", "create -- --x",
		"--dsn=x.db repair ", "help re", "completion ", "--table up do", "-v -", "baseline 0001_users "} {
		f.Add(seed)
	}
	ms := testMigrations()
	f.Fuzz(func(t *testing.T, line string) {
		words := strings.Split(line, " ")
		r := run(t, ms, nil, append([]string{"__complete", "--"}, words...)...)
		if r.code != cli.ExitOK {
			t.Fatalf("__complete %q: exit code %d\n%s", words, r.code, r.stderr)
		}
		cur := words[len(words)-1]
		for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
			if l == "" || l == ":files" || l == ":dirs" {
				continue
			}
			value, _, ok := strings.Cut(l, "\t")
			if !ok || !strings.HasPrefix(value, cur) {
				t.Errorf("__complete %q: candidate %q does not extend %q", words, l, cur)
			}
		}
	})
}
