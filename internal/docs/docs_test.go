package docs

import (
	"os"
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
