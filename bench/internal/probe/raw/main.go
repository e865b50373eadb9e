// Command raw is the probe program of the raw tool; see package probe.
package main

import (
	"os"

	"github.com/strata-go/strata/bench/internal/probe"
	"github.com/strata-go/strata/bench/internal/tools/rawtool"
)

func main() { os.Exit(probe.Main(rawtool.Tool(), os.Args[1:])) }
