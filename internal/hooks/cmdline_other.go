//go:build !windows

package hooks

import "os/exec"

// setCmdLine does nothing: outside Windows a program gets its arguments as
// a list, not as one command line to parse.
func setCmdLine(*exec.Cmd, string) {}
