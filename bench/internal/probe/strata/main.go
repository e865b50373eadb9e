// Command strata is the probe program of the strata tool; see package probe.
package main

import (
	"os"

	"github.com/strata-go/strata/bench/internal/probe"
	"github.com/strata-go/strata/bench/internal/tools/stratatool"
)

func main() { os.Exit(probe.Main(stratatool.Tool(), os.Args[1:])) }
