package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// releaseLDFlags are the link flags .goreleaser.yaml passes, with the
// version goreleaser derives from tag v1.2.3.
const releaseLDFlags = "-s -w -X main.version=1.2.3"

// TestVersionOfReleaseBuild builds the binary as the release does, the
// tag's version set at link time: --version prints the tag. (What the go
// command records for `go install …@v1.2.3` and for builds in a clone is
// pinned in internal/version.)
func TestVersionOfReleaseBuild(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found:", err)
	}
	// No -trimpath: the packages are then already in the build cache from
	// this test's own build, and only the link runs again.
	bin := filepath.Join(t.TempDir(), "strictacme")
	goBuild(t, goBin, ".", "-ldflags", releaseLDFlags, "-o", bin, ".")
	assertVersion(t, bin, "strictacme version v1.2.3 (")
}

func goBuild(t *testing.T, goBin, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(goBin, append([]string{"build"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, out)
	}
}

func assertVersion(t *testing.T, bin, want string) {
	t.Helper()
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	if !strings.HasPrefix(string(out), want) {
		t.Fatalf("--version printed %q, want it to start with %q", out, want)
	}
}
