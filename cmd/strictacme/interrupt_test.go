package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/testworld"
)

// TestSIGINTMidOrderLeavesNothing runs the real binary, lets it write the
// challenge records, then sends SIGINT while it waits for propagation: it
// must remove the records, empty its journal, store nothing and exit 130.
func TestSIGINTMidOrderLeavesNothing(t *testing.T) {
	bin, err := exec.LookPath("strictacme") // installed in $PATH by testscript.Main
	if err != nil {
		t.Skip("strictacme test command not in $PATH:", err)
	}
	w := testworld.Start(t)
	state := t.TempDir()
	cmd := exec.Command(bin, "issue", "-d", "sigint.example.com", "-d", "*.sigint.example.com")
	cmd.Env = append(worldEnv(w, state),
		"STRICTACME_PROPAGATION=wait", "STRICTACME_PROPAGATION_WAIT=1h", "STRICTACME_TIMEOUT=2h")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for challengeTXT(w) < 2 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("records never written:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want status 130\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "strictacme: interrupted") {
		t.Errorf("the last line does not say the run was interrupted:\n%s", out.String())
	}
	if n := challengeTXT(w); n != 0 {
		t.Errorf("%d challenge record(s) left after SIGINT\n%s", n, out.String())
	}
	st := &store.Store{Root: state}
	if es, err := st.Journal().Entries(); err != nil || len(es) != 0 {
		t.Errorf("journal after SIGINT: %v, %v", es, err)
	}
	if names, _ := st.ListCertificates(); len(names) != 0 {
		t.Errorf("certificates stored: %v", names)
	}
}

// SIGINT while the exec provider's script runs (it is killed with the
// process group and says "exit status -1"): the run is interrupted, not
// failed. --json says exit code 130 with the certificate being ordered
// "interrupted" and the one not reached "not-reached"; no renewal state
// records a failure; stderr says "interrupted".
func TestSIGINTDuringExecProviderScriptIsAnInterrupt(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a shell script as the exec provider")
	}
	bin, err := exec.LookPath("strictacme")
	if err != nil {
		t.Skip("strictacme test command not in $PATH:", err)
	}
	w := testworld.Start(t)
	dir := t.TempDir()
	state, entered := filepath.Join(dir, "state"), filepath.Join(dir, "entered")
	script := filepath.Join(dir, "dns.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = present ] || exit 0\n: > "+entered+"\nsleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "strictacme.toml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`[defaults]
server = %q
ca_certs = [%q]
path = %q
accept_tos = true
propagation = "wait"
propagation_wait = "1s"

[providers.x]
type = "exec"
program = %q
zones = ["example.com"]

[[certificate]]
names = ["a.example.com"]
provider = "x"

[[certificate]]
names = ["b.example.com"]
provider = "x"
`, w.DirectoryURL, w.TLSRootFile, state, script)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", conf, "--json")
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(entered); err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("the script never ran:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want status 130\n%s", err, stderr.String())
	}
	var doc struct {
		ExitCode     int    `json:"exit_code"`
		Error        string `json:"error"`
		Failed       int    `json:"failed"`
		Certificates []struct {
			Name, Status string
		} `json:"certificates"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout.String())
	}
	if doc.ExitCode != 130 || !strings.HasPrefix(doc.Error, "interrupted") || doc.Failed != 0 {
		t.Errorf("--json exit_code %d, error %q, failed %d; want 130, interrupted, none failed", doc.ExitCode, doc.Error, doc.Failed)
	}
	got := map[string]string{}
	for _, c := range doc.Certificates {
		got[c.Name] = c.Status
	}
	if got["a.example.com"] != "interrupted" || got["b.example.com"] != "not-reached" {
		t.Errorf("statuses %v, want a interrupted and b not-reached\n%s", got, stdout.String())
	}
	if !strings.Contains(stderr.String(), "strictacme: interrupted") {
		t.Errorf("stderr does not say interrupted:\n%s", stderr.String())
	}
	for _, n := range []string{"a.example.com", "b.example.com"} {
		if data, err := os.ReadFile(filepath.Join(state, "certificates", n, "renewal.json")); err == nil {
			t.Errorf("%s: renewal state recorded after the interrupt: %s", n, data)
		}
	}
}
