package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository's root, from this package's directory.
const root = "../.."

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLicense: the MIT licence, in the exact wording licence detectors
// (pkg.go.dev's among them) recognise, with the copyright holder.
func TestLicense(t *testing.T) {
	text := readFile(t, "LICENSE")
	for _, want := range []string{
		"MIT License",
		"Copyright (c) 2026 The strata authors",
		"Permission is hereby granted, free of charge, to any person obtaining a copy",
		`THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
	if !strings.Contains(readFile(t, "README.md"), "[MIT licence](LICENSE)") {
		t.Errorf("README.md does not link the licence")
	}
}

// TestChangelog: Keep a Changelog's shape: an Unreleased section first,
// only its kinds of subsections, and a link for every version heading.
func TestChangelog(t *testing.T) {
	text := readFile(t, "CHANGELOG.md")
	versions := regexp.MustCompile(`(?m)^## \[([^\]]+)\]`).FindAllStringSubmatch(text, -1)
	if len(versions) == 0 || versions[0][1] != "Unreleased" {
		t.Fatalf("CHANGELOG.md: the first section is not [Unreleased]: %q", versions)
	}
	kinds := map[string]bool{"Added": true, "Changed": true, "Deprecated": true, "Removed": true, "Fixed": true, "Security": true}
	for _, m := range regexp.MustCompile(`(?m)^### (.*)$`).FindAllStringSubmatch(text, -1) {
		if !kinds[m[1]] {
			t.Errorf("CHANGELOG.md: subsection %q is not one of Keep a Changelog's", m[1])
		}
	}
	for _, v := range versions {
		if !strings.Contains(text, "\n["+v[1]+"]: ") {
			t.Errorf("CHANGELOG.md: no link for [%s]", v[1])
		}
	}
}

// section returns the README section that starts with heading (a line
// such as "## Deploying") up to the next heading of the same level.
func section(t *testing.T, readme, heading string) string {
	t.Helper()
	start := strings.Index(readme, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("README.md has no %q section", heading)
	}
	s := readme[start+1:]
	level := heading[:strings.Index(heading, " ")+1]
	if end := strings.Index(s[len(heading):], "\n"+level); end >= 0 {
		s = s[:len(heading)+end]
	}
	return s
}

// TestComposeHealthchecks: the servers count as healthy only once they
// accept TCP connections on the address the tests use. During its
// initialisation the postgres image runs a temporary server on the Unix
// socket only, which a socket check reports as ready too early.
func TestComposeHealthchecks(t *testing.T) {
	compose := readFile(t, "docker-compose.test.yml")
	services := map[string]string{}
	var name string
	for _, line := range strings.Split(compose, "\n") {
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && strings.HasSuffix(line, ":") {
			name = strings.TrimSuffix(strings.TrimSpace(line), ":")
			continue
		}
		if name != "" && strings.Contains(line, "test:") {
			services[name] = line
		}
	}
	for _, svc := range []struct{ name, want string }{
		{"postgres", "pg_isready -h 127.0.0.1"},
		{"mysql", "-h 127.0.0.1"},
	} {
		if !strings.Contains(services[svc.name], svc.want) {
			t.Errorf("docker-compose.test.yml: the %s healthcheck %q does not check TCP (%q)", svc.name, services[svc.name], svc.want)
		}
	}
	// The README's integration-test DSNs use the published ports.
	readme := readFile(t, "README.md")
	for _, port := range []string{"55432", "53306", "53307"} {
		if !strings.Contains(compose, "127.0.0.1:"+port+":") {
			t.Errorf("docker-compose.test.yml does not publish port %s", port)
		}
		if !strings.Contains(readme, port) {
			t.Errorf("README.md does not use port %s", port)
		}
	}
}

// TestCgoBuildError: the error the Deploying section quotes is the one a
// build without cgo prints.
func TestCgoBuildError(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command in PATH to build with: %v", err)
	}
	deploying := section(t, readFile(t, "README.md"), "## Deploying")
	const cmdLine = "$ CGO_ENABLED=0 go build ./examples/quickstart\n"
	i := strings.Index(deploying, cmdLine)
	if i < 0 {
		t.Fatalf("the Deploying section does not show %q", cmdLine)
	}
	quoted := deploying[i+len(cmdLine):]
	quoted = quoted[:strings.Index(quoted, "```")]

	cmd := exec.CommandContext(t.Context(), goTool, "build", "-o", os.DevNull, "./examples/quickstart")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the build without cgo succeeded:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(quoted), "\n") {
		if !strings.Contains(string(out), line+"\n") {
			t.Errorf("the build does not print %q; it prints:\n%s", line, out)
		}
	}
	if first := strings.SplitN(string(out), "\n", 3); len(first) < 2 || !strings.Contains(first[1], "CGO_ENABLED_1") {
		t.Errorf("the first error does not name the fix:\n%s", out)
	}
}

// TestModuleReady: what a release tag publishes: the module path users
// import, no replace directive (ignored by users, so the tagged module
// would build differently for them), and the Go version the README asks
// for.
func TestModuleReady(t *testing.T) {
	mod := readFile(t, "go.mod")
	if !strings.HasPrefix(mod, "module github.com/strata-go/strata\n") {
		t.Errorf("go.mod does not declare module github.com/strata-go/strata")
	}
	if regexp.MustCompile(`(?m)^\s*replace\b`).MatchString(mod) {
		t.Errorf("go.mod has a replace directive")
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if readme := readFile(t, "README.md"); !strings.Contains(readme, "You need Go "+m[1]+" or newer") {
		t.Errorf("README.md does not say Go %s or newer, which go.mod requires", m[1])
	}
}
