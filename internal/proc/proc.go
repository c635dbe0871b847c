// Package proc starts operator programs (hooks, DNS scripts) so that
// stopping them stops everything they started.
//
// A shell hook that starts a child (a service reload that forks, a script
// running curl) leaves that child holding the output pipe when only the
// shell is killed: the run then waits for the pipe to close, past
// --timeout and past SIGTERM. Group starts the program in its own process
// group, kills the whole group when the context ends, and bounds the wait
// for the pipes after the program exits.
//
// On Windows there are no process groups to signal: the context's end kills
// the program alone (exec.Cmd's default Cancel, TerminateProcess), and
// children it started keep running; WaitDelay still bounds the wait for
// pipes they hold, so the run is not held past --timeout.
package proc

import (
	"os/exec"
	"time"
)

// DefaultWaitDelay is how long Group lets output pipes stay open after the
// program exited or was killed, for children that still hold them.
const DefaultWaitDelay = 2 * time.Second

// Group prepares cmd (before Start): on Unix its own process group, killed
// as a whole (SIGKILL) when cmd's context ends (on Windows the program
// alone), and at most waitDelay (0 means DefaultWaitDelay) of waiting for
// its pipes once the program is gone.
func Group(cmd *exec.Cmd, waitDelay time.Duration) {
	if waitDelay <= 0 {
		waitDelay = DefaultWaitDelay
	}
	cmd.WaitDelay = waitDelay
	group(cmd)
}
