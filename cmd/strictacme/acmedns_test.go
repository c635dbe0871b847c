package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challengeserver/challengeservertest"
	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/acmedns"
)

// TestIssueWithAcmeDNS: "strictacme issue --dns acmedns" with an existing
// goacmedns credentials file, against our challenge server: the CA
// validates through the server, the client sends no DNS query.
func TestIssueWithAcmeDNS(t *testing.T) {
	w := testworld.Start(t)
	srv := challengeservertest.Start(t, challengeservertest.Config(t, ""))
	w.Forward(challengeservertest.Zone+".", srv.DNSAddr)
	api := srv.APIURL

	acct, err := acmedns.Register(context.Background(), api, acmedns.RegisterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	credsFile := filepath.Join(state, "acmedns.json")
	if err := (acmedns.Credentials{"example.com": acct}).Save(credsFile); err != nil {
		t.Fatal(err)
	}
	if err := w.DNS.Add("_acme-challenge.example.com.", dns.TypeCNAME, 300, dns.Fqdn(acct.FullDomain)); err != nil {
		t.Fatal(err)
	}
	w.Recursive.ResetCounts()
	code := run([]string{"issue", "--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--accept-tos",
		"--resolver", w.DoHURL, "--path", state, "--dns", "acmedns",
		"-d", "example.com", "-d", "*.example.com"})
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(state, "certificates", "example.com", "fullchain.pem")); err != nil {
		t.Fatal(err)
	}
	if n := w.Recursive.Queries(); n != 0 {
		t.Errorf("client sent %d DNS queries, want 0", n)
	}

	// Without credentials: one line, usage exit code.
	code = run([]string{"issue", "--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--path", t.TempDir(), "--dns", "acmedns", "-d", "example.com"})
	if code != 2 {
		t.Errorf("missing credentials: exit %d, want 2", code)
	}
}

// The acmedns provider works from the config file too, and the stored
// certificate renews with the same credentials file without the file.
func TestConfigWithAcmeDNS(t *testing.T) {
	w := testworld.Start(t)
	srv := challengeservertest.Start(t, challengeservertest.Config(t, ""))
	w.Forward(challengeservertest.Zone+".", srv.DNSAddr)
	acct, err := acmedns.Register(context.Background(), srv.APIURL, acmedns.RegisterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	credsFile := filepath.Join(t.TempDir(), "acme-dns accounts.json")
	if err := (acmedns.Credentials{"example.com": acct}).Save(credsFile); err != nil {
		t.Fatal(err)
	}
	if err := w.DNS.Add("_acme-challenge.example.com.", dns.TypeCNAME, 300, dns.Fqdn(acct.FullDomain)); err != nil {
		t.Fatal(err)
	}
	f := worldConfig(t, w, `
[providers.adns]
type = "acmedns"
credentials = "`+credsFile+`"

[[certificate]]
name = "adns"
names = ["example.com"]
provider = "adns"
`)
	if code, out, errs := runCLI(t, "run", "--config", f); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errs)
	}
	w.Recursive.Advance(2 * time.Minute)
	state := filepath.Join(filepath.Dir(f), "state")
	if code, out, errs := runCLI(t, "renew", "--force", "--path", state); code != 0 || !strings.Contains(errs, "adns: renewed") {
		t.Fatalf("renew: exit %d\n%s\n%s", code, out, errs)
	}
}

// An acme-dns account whose _acme-challenge CNAME is missing, with its
// credentials in place: check, issue, run and renew all stop with exit 6
// and the record to add before any order reaches the CA, the server here
// being acme-dns itself (no /lookup), so the CNAME is asked through the
// resolvers. renew meets it after the CNAME was removed from a stored
// certificate's zone.
func TestMissingAcmeDNSCNAMEStopsBeforeAnyOrder(t *testing.T) {
	w := testworld.Start(t)
	srv := challengeservertest.Start(t, challengeservertest.Config(t, "lookup = false"))
	w.Forward(challengeservertest.Zone+".", srv.DNSAddr)
	acct, err := acmedns.Register(context.Background(), srv.APIURL, acmedns.RegisterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	credsFile := filepath.Join(dir, "acmedns.json")
	if err := (acmedns.Credentials{"example.com": acct}).Save(credsFile); err != nil {
		t.Fatal(err)
	}
	f := worldConfig(t, w, `
[providers.adns]
type = "acmedns"
credentials = "`+credsFile+`"

[[certificate]]
name = "adns"
names = ["example.com", "*.example.com"]
provider = "adns"
`)
	state := filepath.Join(filepath.Dir(f), "state")
	flags := []string{"--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--accept-tos", "--resolver", w.DoHURL,
		"--path", t.TempDir(), "--dns", "acmedns", "--acmedns-credentials", credsFile, "-d", "example.com", "-d", "*.example.com"}
	fix := "_acme-challenge.example.com. CNAME " + strings.TrimSuffix(acct.FullDomain, ".") + "."
	stops := func(args ...string) {
		t.Helper()
		w.CA.ResetRequests()
		code, out, errs := runCLI(t, args...)
		if code != 6 || !strings.Contains(out+errs, fix) {
			t.Errorf("%s: exit %d, want 6 naming %q\n%s\n%s", args[0], code, fix, out, errs)
		}
		if n := w.CA.Requests(testworld.PathNewOrder); n != 0 {
			t.Errorf("%s: %d new-order requests reached the CA", args[0], n)
		}
	}
	stops(append([]string{"check"}, flags...)...)
	stops(append([]string{"issue"}, flags...)...)
	stops("run", "--config", f)

	if err := w.DNS.Add("_acme-challenge.example.com.", dns.TypeCNAME, 300, dns.Fqdn(acct.FullDomain)); err != nil {
		t.Fatal(err)
	}
	w.Recursive.Advance(2 * time.Hour) // past the negative answers cached above
	if code, out, errs := runCLI(t, "run", "--config", f); code != 0 {
		t.Fatalf("run with the CNAME in place: exit %d\n%s\n%s", code, out, errs)
	}
	if _, err := w.DNS.Remove("_acme-challenge.example.com.", dns.TypeCNAME); err != nil {
		t.Fatal(err)
	}
	w.Recursive.Advance(2 * time.Hour)
	stops("renew", "--force", "--path", state)
}
