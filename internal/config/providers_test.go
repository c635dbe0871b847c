package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/propagation"
)

// With Namecheap and an exec script in one file, each certificate's check
// follows the providers that write its own records: the Namecheap
// certificate waits out Namecheap's serving lag and confirms through its
// read-back, while the certificate delegated into the script's zone
// neither waits Namecheap's lag nor loses anything to the script's lack of
// a read-back.
func TestEachCertificateWaitsForItsOwnProviders(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `
[defaults]
resolvers = ["https://127.0.0.1:1/dns-query"]

[providers.namecheap]
type = "namecheap"
zones = ["example.com"]
api_user = "u"
api_key_file = "` + key + `"
client_ip = "192.0.2.1"

[providers.script]
type = "exec"
zones = ["acme.example.net"]
program = "/bin/true"

[[certificate]]
name = "namecheap-zone"
names = ["example.com", "*.example.com"]

[[certificate]]
name = "delegated-to-script"
names = ["intranet.example.com"]
challenge_alias = "acme.example.net"

[[certificate]]
name = "script-zone"
names = ["host.acme.example.net"]
`
	f, err := Parse("strictacme.toml", []byte(src), Options{Lookup: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	describe := map[string]string{}
	for _, c := range f.Certificates {
		p, err := plan.Build(c.Settings, plan.BuildOptions{Path: dir, Lookup: func(string) (string, bool) { return "", false }})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		describe[c.Name] = propagation.Describe(p.Strategy)
	}
	if d := describe["namecheap-zone"]; !strings.Contains(d, "serving lag") || !strings.Contains(d, "confirm the write through the provider's read-back") {
		t.Errorf("namecheap-zone: %q; want Namecheap's lag with its read-back confirm", d)
	}
	for _, name := range []string{"delegated-to-script", "script-zone"} {
		if d := describe[name]; strings.Contains(d, "lag") || strings.Contains(d, "read-back") {
			t.Errorf("%s: %q; the script's zone has no lag and no read-back", name, d)
		}
	}
}

// A certificate without "name" keeps the folder earlier releases stored it
// in: the first name without "*.", in lower case. A wildcard-first
// certificate stored as "example.com" must not be looked for under
// "_wildcard.example.com", or run would order it afresh under a new name.
func TestCertificateWithoutNameKeepsItsStoredFolder(t *testing.T) {
	const exec = "\n[providers.x]\ntype = \"exec\"\nprogram = \"/bin/true\"\n"
	for _, tc := range []struct{ names, want string }{
		{`["*.Example.com", "example.com"]`, "example.com"},
		{`["*.example.org"]`, "example.org"},
		{`["WWW.example.net", "*.example.net"]`, "www.example.net"},
	} {
		src := "[[certificate]]\nnames = " + tc.names + "\nprovider = \"x\"\n" + exec
		f, err := Parse("strictacme.toml", []byte(src), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Certificates[0].Name; got != tc.want {
			t.Errorf("names %s: stored as %q, want %q", tc.names, got, tc.want)
		}
	}
}
