package egress

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startWorld runs this test binary's world test (the test named world)
// inside namespace ns with the environment setting ("NAME=value") that
// tells it where to write, and waits until it has written
// dir/world.json, which it decodes into info. The returned builder collects the world's output for
// failure messages; the world stops when t ends.
func startWorld(t *testing.T, ns, world, setting, dir string, info any) *strings.Builder {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^"+world+"$", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), setting)
	stop, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop.Close(); _ = cmd.Wait() })
	for deadline := time.Now().Add(time.Minute); ; {
		b, err := os.ReadFile(filepath.Join(dir, "world.json"))
		if err == nil && json.Unmarshal(b, info) == nil {
			return &out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the world did not start:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serveWorld is the world process's side of startWorld: it writes info
// to dir/world.json in one rename, so the test never reads half of it,
// and returns when its stdin closes.
func serveWorld(t *testing.T, dir string, info any) {
	t.Helper()
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "world.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "world.json")); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
}
