package main

import (
	"fmt"
	"net"
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

// register against a server with /lookup, the CNAME check going through
// it: the server finds example.com's name servers although the name is a
// CNAME into its own zone (whose name server address here is unreachable,
// so asking the wrong zone fails), and register exits 6 before the CNAME
// exists and 0 once it is in place.
func TestRegisterConfirmsCNAMEThroughLookup(t *testing.T) {
	w := testworld.Start(t)
	cfgPath := serveConfig(t, fmt.Sprintf("registration = \"open\"\nlookup_resolvers = [%q]", w.ResolverAddr))
	cfg, err := challengeserver.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.General.Records = []string{"@ NS ns1", "ns1 A 127.0.0.2"}
	_, port, _ := net.SplitHostPort(w.AuthAddr)
	srv := challengeservertest.StartOptions(t, cfg, challengeserver.Options{LookupPort: port})
	w.Forward("auth.example.org.", srv.DNSAddr)

	creds := filepath.Join(t.TempDir(), "acmedns.json")
	// No --resolver: the check must not need one, /lookup answers.
	args := []string{"register", "--server", srv.APIURL, "--credentials", creds, "-d", "example.com"}
	code, _, errs := runCLI(t, args...)
	if code != 6 || !strings.Contains(errs, "CNAME not in place yet") {
		t.Fatalf("CNAME missing: exit %d, stderr %q; want 6", code, errs)
	}
	cs, err := acmedns.LoadCredentials(creds)
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := cs.Lookup("example.com")
	if err := w.DNS.Add("_acme-challenge.example.com.", dns.TypeCNAME, 300, dns.Fqdn(acc.FullDomain)); err != nil {
		t.Fatal(err)
	}
	w.Clock.Advance(time.Hour) // past the resolver's negative cache
	if code, out, errs := runCLI(t, args...); code != 0 || !strings.Contains(errs, "every CNAME is in place") {
		t.Fatalf("CNAME in place: exit %d, stdout %q, stderr %q; want 0", code, out, errs)
	}
}

// serve --check says where /lookup finds zones (the machine's resolvers
// unless api.lookup_resolvers is set) and warns, without refusing, about
// acme-dns keys it ignores, such as the HSTS keys of its current sample.
func TestServeCheckLookupSourceAndIgnoredKeys(t *testing.T) {
	code, out, errs := runCLI(t, "serve", "--config", serveConfig(t, "hsts_enabled = true\nhsts_max_age = 31536000"), "--check")
	if code != 0 || !strings.Contains(out, "/lookup finds zones through this machine's resolvers") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and the machine's resolvers named", code, out, errs)
	}
	want := regexp.MustCompile(`(?m)^warning: .*serve\.toml:12: api\.hsts_enabled: ignored \(no HSTS header: .*\)\nwarning: .*serve\.toml:13: api\.hsts_max_age: ignored`)
	if !want.MatchString(errs) {
		t.Fatalf("stderr %q: want a warning per HSTS key with its line", errs)
	}
	code, out, errs = runCLI(t, "serve", "--config", serveConfig(t, `lookup_resolvers = ["127.0.0.1:5353", "https://dns.example/dns-query"]`), "--check")
	if code != 0 || !strings.Contains(out, "/lookup finds zones through api.lookup_resolvers: 127.0.0.1:5353, https://dns.example/dns-query") || errs != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = runCLI(t, "serve", "--config", serveConfig(t, `lookup_resolvers = ["dns.example"]`), "--check")
	if code != 2 || !strings.Contains(errs, "serve.toml:12: api.lookup_resolvers:") {
		t.Fatalf("bad resolver: exit %d, stderr %q", code, errs)
	}
}
