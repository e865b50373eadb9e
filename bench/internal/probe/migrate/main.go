// Command migrate is the probe program of the migrate tool; see package probe.
package main

import (
	"os"

	"github.com/strata-go/strata/bench/internal/probe"
	"github.com/strata-go/strata/bench/internal/tools/migratetool"
)

func main() { os.Exit(probe.Main(migratetool.Tool(), os.Args[1:])) }
