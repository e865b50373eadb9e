package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/strata-go/strata/bench/internal/tools"
	"github.com/strata-go/strata/bench/internal/tools/goosetool"
	"github.com/strata-go/strata/bench/internal/tools/migratetool"
	"github.com/strata-go/strata/bench/internal/tools/rawtool"
	"github.com/strata-go/strata/bench/internal/tools/stratatool"
)

const benchModule = "github.com/strata-go/strata/bench"

// allTools returns the contenders in the order reports list them.
func allTools() []tools.Tool {
	return []tools.Tool{rawtool.Tool(), stratatool.Tool(), stratatool.AtomicTool(), goosetool.Tool(), migratetool.Tool()}
}

// toolKey is the name -tools knows a tool by.
func toolKey(t tools.Tool) string {
	if t.Probe != "" {
		return t.Probe
	}
	return "atomic"
}

func toolKeys() []string {
	var keys []string
	for _, t := range allTools() {
		keys = append(keys, toolKey(t))
	}
	return keys
}

// selected returns the tools cfg selects that run on dialect.
func selected(cfg config, dialect string, pred func(tools.Tool) bool) []tools.Tool {
	var ts []tools.Tool
	for _, t := range allTools() {
		if slices.Contains(cfg.tools, toolKey(t)) && t.Runs(dialect) && (pred == nil || pred(t)) {
			ts = append(ts, t)
		}
	}
	return ts
}

// probeSet starts probe programs.
type probeSet struct {
	bins     map[string]string // probe name -> program; empty in self mode
	self     string            // the compare binary, in self mode
	describe string
}

// command returns the command that runs the probe of tool with args.
func (p probeSet) command(ctx context.Context, tool tools.Tool, args []string) (*exec.Cmd, error) {
	if p.self != "" {
		return exec.CommandContext(ctx, p.self, append([]string{"probe", tool.Probe}, args...)...), nil
	}
	bin, ok := p.bins[tool.Probe]
	if !ok {
		return nil, fmt.Errorf("no probe program for %s", tool.Name)
	}
	return exec.CommandContext(ctx, bin, args...), nil
}

// makeProbes builds one small program per tool from internal/probe, or, with
// -probes self, uses the running binary.
func makeProbes(ctx context.Context, cfg config) (probeSet, error) {
	if cfg.probes == "self" {
		exe, err := os.Executable()
		if err != nil {
			return probeSet{}, fmt.Errorf("find own executable for -probes self: %w", err)
		}
		return probeSet{self: exe, describe: "the compare binary re-executed with a probe role (all tools linked into one program)"}, nil
	}
	modDir, err := moduleDir(ctx)
	if err != nil {
		return probeSet{}, fmt.Errorf("-probes build needs the go command and the bench module (run from bench/, or use -probes self): %w", err)
	}
	dir := filepath.Join(cfg.dir, "probes")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return probeSet{}, err
	}
	p := probeSet{bins: map[string]string{}}
	var sizes []string
	for _, t := range allTools() {
		if t.Probe == "" {
			continue
		}
		bin := filepath.Join(dir, "probe-"+t.Probe)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./internal/probe/"+t.Probe)
		cmd.Dir = modDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return probeSet{}, fmt.Errorf("go build probe %s: %w\n%s", t.Probe, err, out)
		}
		p.bins[t.Probe] = bin
		if fi, err := os.Stat(bin); err == nil {
			sizes = append(sizes, fmt.Sprintf("%s %.1f MB", t.Name, float64(fi.Size())/1e6))
		}
	}
	p.describe = "one program per tool built from bench/internal/probe/<tool> with `go build` (sizes: " + strings.Join(sizes, ", ") + ")"
	return p, nil
}

// moduleDir returns the directory of the bench module's go.mod, as the go
// command finds it from the working directory.
func moduleDir(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			if f[1] != benchModule {
				return "", fmt.Errorf("%s is module %s, not %s", gomod, f[1], benchModule)
			}
			return filepath.Dir(gomod), nil
		}
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}
