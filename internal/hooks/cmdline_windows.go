package hooks

import (
	"os/exec"
	"syscall"
)

// setCmdLine hands cmdLine to CreateProcess as written (see ShellCommand).
func setCmdLine(cmd *exec.Cmd, cmdLine string) {
	if cmdLine == "" {
		return
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CmdLine = cmdLine
}
