//go:build unix

package proc

import (
	"os/exec"
	"syscall"
)

func group(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.Cancel = func() error {
		// The negative pid is the group: the shell and every child.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
