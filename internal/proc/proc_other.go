//go:build !unix

package proc

import "os/exec"

// group leaves exec.Cmd's default Cancel: the program alone is killed
// (TerminateProcess on Windows); WaitDelay still bounds the wait for pipes
// its children hold.
func group(*exec.Cmd) {}
