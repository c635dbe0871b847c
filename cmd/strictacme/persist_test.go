package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
	persistpkg "github.com/strictacme/strictacme/internal/persist"
	"github.com/strictacme/strictacme/internal/sandbox"
	"github.com/strictacme/strictacme/internal/testworld"
)

// cli runs the command line in process and returns stdout, stderr and the
// error run would turn into an exit code.
func cli(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// TestPersistCommand walks the command against the test world: print the
// record, publish it twice (one write), check it, then issue with
// --challenge dns-persist-01 and no --dns (no write).
func TestPersistCommand(t *testing.T) {
	w := testworld.Start(t)
	t.Cleanup(sandbox.Use(w.Provider()))
	state := t.TempDir()
	base := []string{"--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--path", state, "--accept-tos", "--resolver", w.DoHURL}
	persist := func(extra ...string) (string, string, error) {
		return cli(t, append(append([]string{"persist"}, base...), extra...)...)
	}

	out, errOut, err := persist("-d", "example.com", "-d", "*.example.com")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	want := `_validation-persist.example.com. 3600 IN TXT "` + testworld.DefaultCAAIdentity + `; accounturi=https://`
	if !strings.HasPrefix(out, want) || !strings.Contains(out, `; policy=wildcard"`) || strings.Count(out, "\n") != 1 {
		t.Errorf("stdout = %q, want one line starting %q with policy=wildcard", out, want)
	}
	if !strings.Contains(errOut, "caaIdentities") || !strings.Contains(errOut, "account created") {
		t.Errorf("stderr should name the source of the issuer and the account: %q", errOut)
	}

	w.API.ResetCounts()
	for i := 0; i < 2; i++ {
		_, errOut, err = persist("-d", "example.com", "-d", "*.example.com", "--apply", "--dns", sandbox.Provider)
		if err != nil {
			t.Fatalf("apply %d: %v\n%s", i+1, err, errOut)
		}
	}
	if w.API.Writes() != 1 || !strings.Contains(errOut, "already holds this record") {
		t.Errorf("provider writes = %d after two --apply, want 1; stderr %q", w.API.Writes(), errOut)
	}

	out, _, err = persist("-d", "*.example.com", "--check", "--json")
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	var res persistpkg.Report
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if !res.OK || len(res.Checks) != 1 || !res.Checks[0].OK || !res.Checks[0].Views[0].Authorizes || res.Issuers.Source != "directory" {
		t.Errorf("--check --json = %s", out)
	}

	out, _, err = persist("-d", "absent.example.net", "--check", "--issuer-source", "challenge")
	if exitcode.Of(err) != exitcode.Missing || !strings.Contains(out, "does not authorize: no TXT record") {
		t.Errorf("absent record: exit %d (%v), stdout %q", exitcode.Of(err), err, out)
	}

	w.API.ResetCounts()
	_, errOut, err = cli(t, append([]string{"issue", "--challenge", "dns-persist-01", "-d", "example.com", "-d", "*.example.com"}, base...)...)
	if err != nil {
		t.Fatalf("issue with dns-persist-01: %v\n%s", err, errOut)
	}
	if w.API.Writes() != 0 || !strings.Contains(errOut, "nothing to write") {
		t.Errorf("issue: provider writes %d; stderr %q", w.API.Writes(), errOut)
	}
}

// TestPersistFromConfig: --config takes the names of the certificates that
// list dns-persist-01, and the CA, trust roots, state directory and
// resolvers from [defaults].
func TestPersistFromConfig(t *testing.T) {
	w := testworld.Start(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strictacme.toml")
	body := fmt.Sprintf(`[defaults]
server = %q
ca_certs = [%q]
path = %q
accept_tos = true
resolvers = [%q]

[providers.main]
type = "exec"
program = "/bin/true"

[[certificate]]
name = "persisted"
names = ["a.example.com", "*.a.example.com"]
provider = "main"
challenges = ["dns-persist-01", "dns-01"]

[[certificate]]
name = "classic"
names = ["b.example.com"]
provider = "main"
`, w.DirectoryURL, w.TLSRootFile, filepath.Join(dir, "state"), w.DoHURL)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := cli(t, "persist", "--config", cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.HasPrefix(out, "_validation-persist.a.example.com. ") || strings.Contains(out, "b.example.com") || !strings.Contains(out, "policy=wildcard") {
		t.Errorf("stdout = %q", out)
	}
}
