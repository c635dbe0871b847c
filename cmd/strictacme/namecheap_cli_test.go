package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

// publishNamecheapTXT copies the _acme-challenge TXT rows of a fake
// Namecheap zone to the test world's authoritative server after every
// setHosts, as Namecheap's name servers would publish them.
func publishNamecheapTXT(t *testing.T, w *testworld.World, nc *namecheaptest.Server, zone string) {
	nc.OnCall(func(cmd string) {
		if cmd != namecheaptest.SetHosts {
			return
		}
		rrs, _ := w.DNS.Records(zone + ".")
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeTXT && strings.HasPrefix(rr.Header().Name, "_acme-challenge") {
				w.DNS.RemoveRR(rr)
			}
		}
		for _, h := range nc.Hosts(zone) {
			if h.Type == "TXT" && strings.HasPrefix(h.Name, "_acme-challenge") {
				if err := w.DNS.Add(h.Name+"."+zone+".", dns.TypeTXT, 60, h.Address); err != nil {
					t.Errorf("publishing %s: %v", h.Name, err)
				}
			}
		}
	})
}

// TestIssueNamecheapZoneHoldingOnlyOurRecord: the zone holds nothing but
// our challenge record at clean-up time, so removing it would send an
// empty host list, which is never sent. The certificate is stored, but the
// run exits with the DNS code, the provider's warning and the record
// reach the step log (stderr) and --json, the record stays in
// journal.json, and the API key appears nowhere the binary wrote.
func TestIssueNamecheapZoneHoldingOnlyOurRecord(t *testing.T) {
	w := testworld.Start(t)
	nc := namecheaptest.NewServer(namecheaptest.Options{RateLimit: -1})
	t.Cleanup(nc.Close)
	nc.AddZone("example.com", namecheaptest.ZoneOptions{})
	publishNamecheapTXT(t, w, nc, "example.com")
	t.Setenv("NAMECHEAP_API_USER", nc.APIUser())
	t.Setenv("NAMECHEAP_API_KEY", nc.APIKey())
	t.Setenv("NAMECHEAP_ENDPOINT", nc.URL())
	t.Setenv("NAMECHEAP_CLIENT_IP", "203.0.113.7")
	t.Setenv("NAMECHEAP_LOCK_DIR", t.TempDir())
	state := filepath.Join(t.TempDir(), "state")
	code, stdout, stderr := runCLI(t, "issue", "--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--accept-tos",
		"--resolver", w.DoHURL, "--path", state, "--dns", "namecheap", "-d", "example.com", "--json")
	if code != exitcode.DNS {
		t.Fatalf("exit %d, want %d (DNS)\n%s", code, exitcode.DNS, stderr)
	}
	for _, want := range []string{
		"namecheap ClientIp ip=203.0.113.7 source=configured",
		"warning: namecheap: not sending an empty host list; the record(s) stay in the zone zone=example.com records=1",
		"certificate obtained, but clean-up failed",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "cleaned up") {
		t.Errorf("stderr claims a clean-up:\n%s", stderr)
	}
	if !strings.Contains(stdout, `_acme-challenge TXT`) || !strings.Contains(stdout, "no host records") {
		t.Errorf("--json does not name the record left behind:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(state, "certificates", "example.com", "fullchain.pem")); err != nil {
		t.Fatal(err)
	}
	journal, err := os.ReadFile(filepath.Join(state, "journal.json"))
	if err != nil || !strings.Contains(string(journal), "_acme-challenge.example.com.") {
		t.Fatalf("journal.json: %v\n%s", err, journal)
	}
	if hosts := nc.Hosts("example.com"); len(hosts) != 1 || hosts[0].Name != "_acme-challenge" {
		t.Fatalf("zone: %+v", hosts)
	}
	assertNothingHolds(t, nc.APIKey(), stdout, stderr, state)
}

// assertNothingHolds fails if secret is in any of the outputs or in any
// file under dir.
func assertNothingHolds(t *testing.T, secret, stdout, stderr, dir string) {
	t.Helper()
	if strings.Contains(stdout, secret) || strings.Contains(stderr, secret) {
		t.Error("the secret is in the output")
	}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err // directories, and symlinks to what the walk reaches anyway
		}
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), secret) {
			t.Errorf("the secret is in %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIssueNamecheapMXZoneWithManagedMailIsRefused: a zone whose mail
// Namecheap manages (EmailType GMAIL) but which holds MX rows lost them in
// a run that exited 0. The write is refused before anything is sent,
// naming the rows and the fix; the run fails and the MX row stays. (The
// provider's tests cover writes the API damages; here the built-in call
// budget would make the repair's extra calls take seconds.)
func TestIssueNamecheapMXZoneWithManagedMailIsRefused(t *testing.T) {
	w := testworld.Start(t)
	nc := namecheaptest.NewServer(namecheaptest.Options{RateLimit: -1})
	t.Cleanup(nc.Close)
	nc.AddZone("example.com", namecheaptest.ZoneOptions{EmailType: "GMAIL", Hosts: []namecheaptest.Host{
		{Name: "@", Type: "A", Address: "192.0.2.10", TTL: "1799", IsActive: true},
		{Name: "@", Type: "MX", Address: "aspmx.l.google.com.", MXPref: "1", TTL: "1800", IsActive: true},
	}})
	before := nc.Hosts("example.com")
	publishNamecheapTXT(t, w, nc, "example.com")
	t.Setenv("NAMECHEAP_API_USER", nc.APIUser())
	t.Setenv("NAMECHEAP_API_KEY", nc.APIKey())
	t.Setenv("NAMECHEAP_ENDPOINT", nc.URL())
	t.Setenv("NAMECHEAP_CLIENT_IP", "203.0.113.7")
	t.Setenv("NAMECHEAP_LOCK_DIR", t.TempDir())
	state := filepath.Join(t.TempDir(), "state")
	code, stdout, stderr := runCLI(t, "issue", "--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--accept-tos",
		"--resolver", w.DoHURL, "--path", state, "--dns", "namecheap", "-d", "example.com", "--json")
	if code != exitcode.DNS {
		t.Fatalf("exit %d, want %d (DNS)\n%s", code, exitcode.DNS, stderr)
	}
	for _, want := range []string{"EmailType GMAIL", "@ MX aspmx.l.google.com.", "Custom MX", "nothing was changed"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if nc.Calls("setHosts") != 0 || len(nc.Hosts("example.com")) != len(before) {
		t.Fatalf("zone written: %+v", nc.Hosts("example.com"))
	}
	assertNothingHolds(t, nc.APIKey(), stdout, stderr, state)
}
