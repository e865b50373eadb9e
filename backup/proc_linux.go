//go:build linux

package backup

import (
	"os/exec"
	"runtime"
	"syscall"
)

// runTied runs cmd in a process group of its own, killed as a whole when
// cmd's context is done, with SIGKILL sent to it by the kernel if this
// process dies first (PR_SET_PDEATHSIG).
//
// The kernel sends the signal when the thread that started the child
// exits, not the process, so the goroutine stays on its thread until the
// child has been waited for: the Go runtime never ends a locked thread
// while the goroutine runs.
func runTied(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return killGroup(cmd) }
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Wait()
}

func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
