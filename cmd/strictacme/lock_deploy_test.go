package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The run lock of a state directory is held while the deploy hook runs:
// another run started meanwhile must not store a newer certificate under
// the hook's feet (it waits, or exits 7).
func TestDeployHookRunsUnderTheRunLock(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("needs flock(1) to probe the lock from the hook")
	}
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	probe := filepath.Join(dir, "probe")
	// flock -n exits 1 when another open file holds the lock.
	hook := "flock -n " + filepath.Join(state, "lock") + " true; echo $? > " + probe
	code, _, stderr := runCLI(t, "sandbox", "--path", state, "--deploy-hook", hook)
	if code != 0 {
		t.Fatalf("sandbox exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(probe)
	if err != nil {
		t.Fatalf("the deploy hook did not run: %v", err)
	}
	if got := strings.TrimSpace(string(b)); got != "1" {
		t.Fatalf("flock -n in the deploy hook exited %s: the run lock was free while the hook ran", got)
	}
}
