package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/testworld"
)

// Deploy outputs from the config file: run writes them after the order
// and leaves them alone while nothing changed; a mode changed in the file
// is applied by the next run although nothing is due, and renew, run from
// cron without the file, keeps the new mode instead of writing the old
// one back; renew --force writes the new certificate.
func TestConfigDeployOutputsFollowTheFile(t *testing.T) {
	w := testworld.Start(t)
	runWorld = w
	out := t.TempDir()
	reloads := filepath.Join(t.TempDir(), "reloads")
	pem := filepath.Join(out, "web.pem")
	body := `reload_command = "echo reload >> ` + reloads + `"

[providers.main]
type = "world"
zones = ["example.com"]

[[certificate]]
name = "web"
names = ["www.example.com"]
install_pem = "` + pem + `"
install_fullchain = "` + filepath.Join(out, "web.crt") + `"
`
	f := worldConfig(t, w, body)
	state := filepath.Join(filepath.Dir(f), "state")
	run := func(args ...string) string {
		t.Helper()
		code, stdout, errs := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", args[0], code, stdout, errs)
		}
		return errs
	}
	count := func() int {
		b, _ := os.ReadFile(reloads)
		return strings.Count(string(b), "reload\n")
	}
	mode := func() os.FileMode {
		info, err := os.Stat(pem)
		if err != nil {
			t.Fatal(err)
		}
		return info.Mode().Perm()
	}

	errs := run("run", "--config", f)
	if !strings.Contains(errs, "web: installed pem "+pem+" (0600)") || count() != 1 {
		t.Fatalf("first run: %d reloads\n%s", count(), errs)
	}
	if errs := run("run", "--config", f); strings.Contains(errs, "installed") || count() != 1 {
		t.Fatalf("unchanged run: %d reloads\n%s", count(), errs)
	}

	changed := strings.Replace(body, "install_pem =", "install_mode = \"0640\"\ninstall_pem =", 1)
	if err := os.WriteFile(f, []byte(worldHead(t, w, filepath.Dir(f))+changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if errs := run("run", "--config", f, "--log-level", "debug"); !strings.Contains(errs, "web: not due") || !strings.Contains(errs, "installed pem "+pem+" (0640)") || count() != 2 || mode() != 0o640 {
		t.Fatalf("mode changed in the file: %d reloads, mode %04o\n%s", count(), mode(), errs)
	}
	if errs := run("renew", "--path", state); strings.Contains(errs, "installed") || count() != 2 || mode() != 0o640 {
		t.Fatalf("renew without the file: %d reloads, mode %04o\n%s", count(), mode(), errs)
	}

	before, _ := os.ReadFile(pem)
	w.Recursive.Advance(2 * time.Minute)
	if errs := run("renew", "--force", "--path", state); !strings.Contains(errs, "installed pem") || count() != 3 || mode() != 0o640 {
		t.Fatalf("renew --force: %d reloads, mode %04o\n%s", count(), mode(), errs)
	}
	if after, _ := os.ReadFile(pem); string(after) == string(before) {
		t.Error("the bundle still holds the old certificate")
	}
}
