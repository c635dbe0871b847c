// Package systemd holds the example systemd units; this test checks them
// with systemd-analyze verify.
package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnitsVerify runs systemd-analyze verify on the example units. The
// binary path is replaced by /bin/true because verify checks that ExecStart
// is executable and strictacme is not installed here.
func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd); the units are not verified")
	}
	dir := t.TempDir()
	var units []string
	for _, name := range []string{"strictacme-renew.service", "strictacme-renew.timer"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(data), "/usr/local/bin/strictacme", "/bin/true")
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		units = append(units, p)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, units...)...).CombinedOutput()
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
