//go:build !unix

package proc

import "os/exec"

// group leaves the default: the program alone is killed; WaitDelay still
// bounds the wait for pipes its children hold.
func group(*exec.Cmd) {}
