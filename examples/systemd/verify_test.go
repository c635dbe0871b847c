// Package systemd holds the example systemd units; this test checks them
// with systemd-analyze verify.
package systemd

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// units are every example unit, here and in examples/serve.
var units = []string{"strictacme-renew.service", "strictacme-renew.timer", "../serve/strictacme-serve.service"}

// TestUnitsVerify runs systemd-analyze verify on the example units. The
// binary path is replaced by /bin/true because verify checks that ExecStart
// is executable and strictacme is not installed here.
func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd); the units are not verified")
	}
	dir := t.TempDir()
	var paths []string
	for _, name := range units {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(data), "/usr/local/bin/strictacme", "/bin/true")
		p := filepath.Join(dir, filepath.Base(name))
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, paths...)...).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "Failed to connect") || strings.Contains(string(out), "System has not been booted with systemd") {
			t.Skipf("systemd-analyze cannot run in this container: %s", out)
		}
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	if len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify printed warnings:\n%s", out)
	}
}

// TestUnitsStartWithoutOptionalPaths pins that a unit starts on a host that
// lacks a folder it may write to (node_exporter's textfile collector): with
// ProtectSystem=strict, systemd fails the start (status 226/NAMESPACE) on a
// ReadWritePaths= entry that does not exist unless it is prefixed with "-".
// Only the unit's own StateDirectory= is created by systemd and may go
// without the prefix.
func TestUnitsStartWithoutOptionalPaths(t *testing.T) {
	for _, name := range units {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		var state []string
		var rw []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
			if !ok || strings.HasPrefix(key, "#") {
				continue
			}
			switch key {
			case "StateDirectory":
				for _, d := range strings.Fields(val) {
					state = append(state, "/var/lib/"+d)
				}
			case "ReadWritePaths":
				rw = append(rw, strings.Fields(val)...)
			}
		}
		f.Close()
		for _, p := range rw {
			if strings.HasPrefix(p, "-") {
				continue
			}
			own := false
			for _, s := range state {
				own = own || p == s || strings.HasPrefix(p, s+"/")
			}
			if !own {
				t.Errorf("%s: ReadWritePaths=%s fails the start where %s does not exist; write -%s", name, p, p, p)
			}
		}
	}
}
