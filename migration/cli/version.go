package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// ModulePath is the module path of strata.
const ModulePath = "github.com/strata-go/strata"

// Version returns the version of the strata module built into the program,
// from its build information: a release such as "v1.2.0", a pseudo-version,
// or "devel" when the program was built inside a strata checkout or without
// module information.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if bi.Main.Path == ModulePath {
		return moduleVersion(bi.Main)
	}
	for _, d := range bi.Deps {
		if d.Path == ModulePath {
			if d.Replace != nil {
				return moduleVersion(*d.Replace)
			}
			return moduleVersion(*d)
		}
	}
	return "devel"
}

func moduleVersion(m debug.Module) string {
	if m.Version == "" || m.Version == "(devel)" {
		return "devel"
	}
	return m.Version
}

func runVersion(_ context.Context, e *env) error {
	fmt.Fprintf(e.stdout, "strata %s (%s %s/%s)\n", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path != "" && bi.Main.Path != ModulePath {
		fmt.Fprintf(e.stdout, "%s %s\n", bi.Main.Path, moduleVersion(bi.Main))
	}
	return nil
}
