package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/redact"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/cloudflare"
)

// TestHookAndDNSScriptEchoingSecretsLeakNothing: a deploy hook that prints
// its whole environment and the keys, and a DNS script that fails with the
// key in its last stderr line, once leaked NAMECHEAP_API_KEY and the EAB
// key into stderr, --json and renewal.json. Nothing the binary writes
// (stdout, stderr, --json, any file of the state directory) holds either
// key; the hook's environment lacks them; renewal.json is 0600.
func TestHookAndDNSScriptEchoingSecretsLeakNothing(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("needs curl for the DNS script")
	}
	const (
		eabKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
		ncKey  = "ncsecret0123456789abcdef0123456789"
	)
	w, err := testworld.New(testworld.Options{EABKeys: map[string]string{"kid-1": eabKey}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	dir := t.TempDir()
	failFlag := filepath.Join(dir, "fail")
	// The DNS script works until failFlag exists; then it dumps its
	// environment and fails quoting both keys (written into it literally:
	// strictacme no longer gives them to it).
	script := "#!/bin/sh\nif [ -e " + failFlag + " ]; then env >&2; echo \"denied: key " + ncKey + " eab " + eabKey + "\" >&2; exit 1; fi\n" +
		strings.TrimPrefix(hookScript, "#!/bin/sh\n")
	prog := filepath.Join(dir, "dns.sh")
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EXEC_PATH", prog)
	t.Setenv("HOOK_LOG", filepath.Join(dir, "dns.log"))
	t.Setenv("API_CA", w.TLSRootFile)
	t.Setenv("API_URL", w.APIURL)
	t.Setenv("API_TOKEN", w.APIToken)
	t.Setenv("NAMECHEAP_API_KEY", ncKey)
	t.Setenv("STRICTACME_EAB_HMAC_KEY", eabKey)
	state := filepath.Join(dir, "state")
	// The hook prints its environment and, from a file of its own, both
	// keys (the command line itself is stored as a setting).
	hookFile := filepath.Join(dir, "deploy.sh")
	if err := os.WriteFile(hookFile, []byte("env\necho \"the key is "+ncKey+" and "+eabKey+"\" >&2\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	hook := "sh " + hookFile
	common := []string{"--ca-cert", w.TLSRootFile, "--path", state, "--json", "--deploy-hook", hook}

	code, out1, err1 := runCLI(t, append([]string{"issue", "--server", w.DirectoryURL, "--accept-tos", "--eab-kid", "kid-1",
		"--resolver", w.DoHURL, "--dns", "exec", "-d", "example.com"}, common...)...)
	if code != 0 {
		t.Fatalf("issue: exit %d\n%s", code, err1)
	}
	if !strings.Contains(err1, "STRICTACME_CERT_NAME=example.com") || !strings.Contains(err1, "PATH=") {
		t.Fatalf("the deploy hook's environment is not in stderr:\n%s", err1)
	}
	for _, v := range []string{"NAMECHEAP_API_KEY=", "STRICTACME_EAB_HMAC_KEY=", "API_TOKEN="} {
		if strings.Contains(err1, v) {
			t.Errorf("the deploy hook was given %s", v)
		}
	}
	if !strings.Contains(err1, "the key is "+redact.Mask+" and "+redact.Mask) {
		t.Errorf("the hook's line is not redacted:\n%s", err1)
	}

	if err := os.WriteFile(failFlag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out2, err2 := runCLI(t, append([]string{"renew", "--force", "--eab-kid", "kid-1"}, common...)...)
	if code == exitcode.OK {
		t.Fatalf("renew with a failing DNS script exited 0\n%s", err2)
	}
	if !strings.Contains(err2, "denied: key "+redact.Mask) || !strings.Contains(out2, "denied: key "+redact.Mask) {
		t.Errorf("the script's error line is not in stderr and --json, redacted:\nstderr:\n%s\nstdout:\n%s", err2, out2)
	}
	sf := filepath.Join(state, "certificates", "example.com", renewal.StateFile)
	st, err := os.Stat(sf)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", sf, st.Mode().Perm())
	}
	if b, _ := os.ReadFile(sf); !strings.Contains(string(b), redact.Mask) {
		t.Errorf("renewal.json does not keep the redacted error:\n%s", b)
	}
	for _, secret := range []string{ncKey, eabKey} {
		assertNothingHolds(t, secret, out1+out2, err1+err2, state)
	}
}

// A provider secret in the environment is redacted from what any command
// prints, even one that never builds that provider: the secret variables
// come from the provider registry, not a list of their own.
func TestEverySecretVariableIsRedactedBeforeAnyProviderReadsIt(t *testing.T) {
	const secret = "s3cr3t-Tok3n-Value-9q"
	t.Setenv(cloudflare.EnvDNSToken, secret)
	_, stdout, stderr := runCLI(t, "issue", "--path", t.TempDir(), "--server", secret, "-d", "a.example.com", "--dns", "exec")
	if strings.Contains(stdout+stderr, secret) {
		t.Fatalf("secret printed:\n%s\n%s", stdout, stderr)
	}
	if !strings.Contains(stderr, "--server") {
		t.Fatalf("no --server refusal:\n%s", stderr)
	}
}
