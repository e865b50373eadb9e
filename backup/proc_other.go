//go:build !linux

package backup

import "os/exec"

// runTied runs cmd, killed when its context is done. Outside Linux there
// is no portable way to have the kernel kill it when this process dies.
func runTied(cmd *exec.Cmd) error { return cmd.Run() }

// processAlive cannot tell here: a temporary file is removed once stale.
func processAlive(pid int) bool { return true }

// removeOldOptionDirs does nothing here; see the Linux version.
func removeOldOptionDirs() {}
