package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challengeserver"
	"github.com/strictacme/strictacme/internal/challengeserver/challengeservertest"
	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/acmedns"
)

// serveConfig writes a serve config on loopback ephemeral ports with an
// SQLite store in a temporary directory; extra is appended to [api].
func serveConfig(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	body := fmt.Sprintf(`[general]
listen = ["127.0.0.1:0"]
domain = "auth.example.org"
nsname = "ns1.auth.example.org"
nsadmin = "hostmaster@example.org"

[database]
connection = %q

[api]
listen = ["127.0.0.1:0"]
%s
`, filepath.Join(dir, "db.sqlite"), extra)
	f := filepath.Join(dir, "serve.toml")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// serve --check: a good file is OK (exit 0); a broken one is one line
// naming the file, line and key (exit 2).
func TestServeCheck(t *testing.T) {
	good := serveConfig(t, `registration = "open"`)
	code, out, errs := runCLI(t, "serve", "--config", good, "--check")
	if code != 0 || !strings.Contains(out, "OK (zone auth.example.org, sqlite store, registration open, tls none)") {
		t.Fatalf("good config: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	bad := serveConfig(t, `registration = "maybe"`)
	code, out, errs = runCLI(t, "serve", "--config", bad, "--check")
	want := regexp.MustCompile(`^strictacme: .*serve\.toml:12: api\.registration: "maybe": want closed, token or open\n$`)
	if code != 2 || out != "" || !want.MatchString(errs) {
		t.Fatalf("broken config: exit %d, stdout %q, stderr %q; want exit 2 and one line naming line 12 and api.registration", code, out, errs)
	}

	unknown := serveConfig(t, `lookup_per_minute = 5`)
	code, _, errs = runCLI(t, "serve", "--config", unknown, "--check")
	if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "serve.toml:12: api.lookup_per_minute: unknown key") {
		t.Fatalf("unknown key: exit %d, stderr %q", code, errs)
	}

	acme := serveConfig(t, "tls = \"letsencryptstaging\"\nacme_names = [\"api.auth.example.org\"]")
	code, out, errs = runCLI(t, "serve", "--config", acme, "--check")
	if code != 0 || !strings.Contains(out, "tls acme)") {
		t.Fatalf("acme-dns's letsencryptstaging: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	outside := serveConfig(t, "tls = \"acme\"\nacme_accept_tos = true\nacme_names = [\"api.example.org\"]")
	code, _, errs = runCLI(t, "serve", "--config", outside, "--check")
	if code != 2 || !strings.Contains(errs, "serve.toml:14: api.acme_names: \"api.example.org\" must be the zone apex auth.example.org or a name under it") {
		t.Fatalf("name outside the zone: exit %d, stderr %q", code, errs)
	}
	notos := serveConfig(t, "tls = \"acme\"")
	code, _, errs = runCLI(t, "serve", "--config", notos, "--check")
	if code != 2 || !strings.Contains(errs, "serve.toml:12: api.tls: tls = \"acme\" needs acme_accept_tos = true") {
		t.Fatalf("acme without accepting the terms: exit %d, stderr %q", code, errs)
	}

	code, _, errs = runCLI(t, "serve", "--config", filepath.Join(t.TempDir(), "none.toml"), "--check")
	if code != 2 || !strings.Contains(errs, "no such file") {
		t.Fatalf("missing file: exit %d, stderr %q", code, errs)
	}
}

// What serve refuses at start is refused by --check too, before anything is
// opened: one line naming the file, line and key, exit 2 for both.
func TestServeRefusesWhatCheckRefuses(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	present := filepath.Join(t.TempDir(), "present")
	if err := os.WriteFile(present, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	edit := func(extra, old, repl string) string {
		f := serveConfig(t, extra)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(strings.Replace(string(b), old, repl, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, tc := range []struct{ name, path, want string }{
		{"token file missing", serveConfig(t, "registration = \"token\"\nadmin_token_file = "+fmt.Sprintf("%q", missing)),
			"serve.toml:13: api.admin_token_file: open " + missing + ": no such file or directory"},
		{"TLS certificate file missing", serveConfig(t, "tls = \"cert\"\ntls_cert_fullchain = "+fmt.Sprintf("%q", missing)+"\ntls_cert_privkey = "+fmt.Sprintf("%q", present)),
			"serve.toml:13: api.tls_cert_fullchain: open " + missing + ": no such file or directory"},
		{"domain with a space", edit("", `domain = "auth.example.org"`, `domain = "auth example.org"`),
			`serve.toml:3: general.domain: "auth example.org": invalid character ' ' in label "auth example"`},
		{"bad static record", edit("", `domain = "auth.example.org"`, "domain = \"auth.example.org\"\nrecords = [\"ns1 A not-an-ip\"]"),
			`serve.toml:4: general.records: "ns1 A not-an-ip" is not a zone-file record`},
		{"DNS port out of range", edit("", `listen = ["127.0.0.1:0"]`, `listen = ["127.0.0.1:99999"]`),
			`serve.toml:2: general.listen: "127.0.0.1:99999": port "99999" is not a number from 0 to 65535`},
		{"API port out of range", edit("", "[api]\nlisten = [\"127.0.0.1:0\"]", "[api]\nlisten = [\"127.0.0.1:99999\"]"),
			`serve.toml:11: api.listen: "127.0.0.1:99999": port "99999"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{{"serve", "--config", tc.path, "--check"}, {"serve", "--config", tc.path}} {
				code, out, errs := runCLI(t, args...)
				if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "strictacme: "+tc.path[:strings.LastIndex(tc.path, "/")]) || !strings.Contains(errs, tc.want) {
					t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", args, code, out, errs, tc.want)
				}
			}
		})
	}
}

// startServe runs a challenge server from the config file at path until the
// test ends.
func startServe(t *testing.T, path string) *challengeserver.Server {
	t.Helper()
	cfg, err := challengeserver.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return challengeservertest.StartConfig(t, cfg).Server
}

// register against a running server without /lookup: the account is saved
// (0600), the CNAME printed; exit 6 while the CNAME is missing (checked
// over DoH), 0 once it is in place, and a second run reuses the account.
func TestRegisterAgainstServe(t *testing.T) {
	w := testworld.Start(t)
	srv := startServe(t, serveConfig(t, "registration = \"open\"\nlookup = false"))
	api := "http://" + srv.APIAddrs()[0].String()
	creds := filepath.Join(t.TempDir(), "state", "acmedns.json")
	args := []string{"register", "--server", api, "--credentials", creds,
		"--resolver", w.DoHURL, "--ca-cert", w.TLSRootFile, "-d", "example.com", "-d", "*.example.com"}

	code, out, errs := runCLI(t, args...)
	if code != 6 {
		t.Fatalf("CNAME missing: exit %d, want 6; stdout %q stderr %q", code, out, errs)
	}
	fi, err := os.Stat(creds)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", fi.Mode().Perm())
	}
	cs, err := acmedns.LoadCredentials(creds)
	if err != nil {
		t.Fatal(err)
	}
	acc, ok := cs.Lookup("example.com")
	if !ok || len(cs) != 1 {
		t.Fatalf("credentials %v: want one account for example.com (the wildcard shares it)", cs)
	}
	wantLine := "_acme-challenge.example.com. CNAME " + strings.TrimSuffix(acc.FullDomain, ".") + ".\n"
	if out != wantLine || !strings.HasSuffix(acc.FullDomain, ".auth.example.org") {
		t.Fatalf("stdout %q, want %q", out, wantLine)
	}
	if !strings.Contains(errs, "CNAME not in place yet for _acme-challenge.example.com") || strings.Contains(errs, acc.Password) {
		t.Fatalf("stderr %q", errs)
	}
	if _, ok := srv.View.Lookup(strings.TrimSuffix(acc.FullDomain, ".auth.example.org")); !ok {
		t.Fatal("the server does not know the new subdomain")
	}

	if err := w.DNS.Add("_acme-challenge.example.com.", dns.TypeCNAME, 300, dns.Fqdn(acc.FullDomain)); err != nil {
		t.Fatal(err)
	}
	w.Clock.Advance(time.Hour) // past the resolver's negative cache
	code, out2, errs := runCLI(t, args...)
	if code != 0 || out2 != wantLine || strings.Contains(errs, "registered") {
		t.Fatalf("CNAME in place: exit %d, stdout %q, stderr %q; want exit 0, the same CNAME, no new account", code, out2, errs)
	}
	if cs2, _ := acmedns.LoadCredentials(creds); len(cs2) != 1 {
		t.Fatalf("a second run registered again: %v", cs2)
	}
}
