package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// TestKeyPastedWhereAPathOrNameBelongs: a secret given to a setting that
// expects a file path or a variable name (--namecheap-api-key-file,
// --eab-hmac-key-file, api_key_env and api_key_file in a config file) is a
// usage error that says it looks like a key, and the secret is in nothing
// the binary wrote: stdout, stderr, --json, the state directory.
func TestKeyPastedWhereAPathOrNameBelongs(t *testing.T) {
	const ncKey = "9f3c2a7b1e0d4c6a8b5f7e2d1c0b9a87"           // Namecheap's shape: 32 hex digits
	const hmac = "zWlS1Tj3cG8mQ2yV7nR4kX0pE6hB9dU5aF_-oL3iN2s" // base64url EAB HMAC key
	t.Setenv("NAMECHEAP_API_USER", "ops")
	t.Setenv("NAMECHEAP_API_KEY", "")
	t.Setenv("NAMECHEAP_CLIENT_IP", "198.51.100.7")
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	issue := []string{"issue", "--server", "https://127.0.0.1:1/directory", "--accept-tos", "--path", state, "--json", "-d", "example.com", "--dns", "namecheap"}
	conf := filepath.Join(dir, "strictacme.toml")
	keyFile := filepath.Join(dir, "namecheap.key")
	if err := os.WriteFile(keyFile, []byte("k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		secret, want, toml string
		args               []string
	}{
		"--namecheap-api-key-file": {secret: ncKey, want: "--namecheap-api-key-file: that looks like a key, not a path",
			args: append(issue, "--namecheap-api-key-file", ncKey)},
		"--eab-hmac-key-file": {secret: hmac, want: "--eab-hmac-key-file: that looks like a key, not a path",
			args: append(issue, "--namecheap-api-key-file", keyFile, "--eab-kid", "kid-1", "--eab-hmac-key-file", hmac)},
		"api_key_env": {secret: ncKey, want: `key "api_key_env": that looks like a key, not the name of an environment variable`,
			toml: "api_key_env = \"" + ncKey + "\"", args: []string{"run", "--config", conf, "--json"}},
		"api_key_file": {secret: ncKey, want: `key "api_key_file": that looks like a key, not a path`,
			toml: "api_key_file = \"" + ncKey + "\"", args: []string{"run", "--config", conf, "--json"}},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.toml != "" {
				body := "[defaults]\npath = \"" + state + "\"\naccept_tos = true\n\n[providers.nc]\ntype = \"namecheap\"\napi_user = \"ops\"\n" + tc.toml +
					"\n\n[[certificate]]\nname = \"web\"\nnames = [\"example.com\"]\nprovider = \"nc\"\n"
				if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != exitcode.Usage || !strings.Contains(stderr+stdout, tc.want) {
				t.Fatalf("exit %d, want %d saying %q\nstdout: %s\nstderr: %s", code, exitcode.Usage, tc.want, stdout, stderr)
			}
			if err := os.MkdirAll(state, 0o700); err != nil { // whatever the run left there, if anything
				t.Fatal(err)
			}
			assertNothingHolds(t, tc.secret, stdout, stderr, state)
		})
	}
}
