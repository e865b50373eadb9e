// Command goose is the probe program of the goose tool; see package probe.
package main

import (
	"os"

	"github.com/strata-go/strata/bench/internal/probe"
	"github.com/strata-go/strata/bench/internal/tools/goosetool"
)

func main() { os.Exit(probe.Main(goosetool.Tool(), os.Args[1:])) }
