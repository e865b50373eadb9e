//go:build linux

package backup

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
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

// processAlive reports whether a process with the pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// removeOldOptionDirs removes the private directories in which earlier
// versions wrote the MySQL password for the tools, and which a killed
// backup or restore left behind: the password must not stay on disk.
// Only this user's directories holding nothing but that file go, and only
// once they are [oldOptionDirAge] old: an older version's backup running
// beside this one (a rolling upgrade) may be about to start its tool.
func removeOldOptionDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "strata-backup-*"))
	for _, d := range dirs {
		fi, err := os.Lstat(d)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < oldOptionDirAge {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Getuid() {
			continue
		}
		ents, err := os.ReadDir(d)
		if err != nil || len(ents) > 1 || len(ents) == 1 && ents[0].Name() != "client.cnf" {
			continue
		}
		os.RemoveAll(d)
	}
}
