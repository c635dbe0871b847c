package delegation

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/acmedns"
)

// Whether a domain's challenge name is delegated to its acme-dns account,
// asked of a strictacme serve's /lookup when it has one and of the
// resolvers when it is acme-dns itself (no /lookup).
func TestAcmeDNSCNAMEInPlace(t *testing.T) {
	w := testworld.Start(t)
	const full = "d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.org"
	cname(t, w, "_acme-challenge.published.example.com.", full+".")
	acc := acmedns.Account{FullDomain: full, Username: "u", Password: "p"}
	answer := func(ns ...string) acmedns.LookupResult {
		res := acmedns.LookupResult{Name: "_acme-challenge.example.com.", Type: "CNAME"}
		for _, n := range ns {
			s := acmedns.LookupServer{NS: n}
			if !strings.HasPrefix(n, "stale") {
				s.Answer = []string{"_acme-challenge.example.com.\t300\tIN\tCNAME\t" + strings.ToUpper(full) + "."}
			}
			res.Servers = append(res.Servers, s)
		}
		return res
	}
	tests := []struct {
		name   string
		domain string
		status int // of POST /lookup
		reply  acmedns.LookupResult
		ok     bool
		why    string
		asked  bool // the resolvers were asked
	}{
		{"every authoritative server has it", "example.com", 200, answer("ns1.example.com.", "ns2.example.com."), true, "", false},
		{"one authoritative server lacks it", "example.com", 200, answer("ns1.example.com.", "stale.example.com."), false, "not at stale.example.com.", false},
		{"no authoritative server found", "example.com", 200, answer(), false, "no authoritative servers found", false},
		{"lookup fails", "example.com", 500, answer(), false, "500", false},
		{"acme-dns without lookup, CNAME published", "published.example.com", 404, answer(), true, "", true},
		{"acme-dns without lookup, no CNAME", "*.absent.example.com", 404, answer(), false, "_acme-challenge.absent.example.com. has no CNAME (NXDOMAIN", true},
		{"acme-dns refusing the method", "published.example.com", 405, answer(), true, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/lookup" || r.Header.Get("X-Api-User") != "u" {
					http.Error(rw, "bad request", http.StatusBadRequest)
					return
				}
				if tt.status != 200 {
					http.Error(rw, http.StatusText(tt.status), tt.status)
					return
				}
				_ = json.NewEncoder(rw).Encode(tt.reply)
			}))
			defer srv.Close()
			asked := false
			c := AcmeDNSCheck{Client: srv.Client(), Server: srv.URL, Resolvers: func() ([]resolver.Resolver, error) {
				asked = true
				return doh(t, w), nil
			}}
			ok, why := c.InPlace(context.Background(), acc, tt.domain)
			if ok != tt.ok || !strings.Contains(why, tt.why) || (tt.ok && why != "") {
				t.Errorf("in place %v (%q), want %v (%q)", ok, why, tt.ok, tt.why)
			}
			if asked != tt.asked {
				t.Errorf("resolvers asked: %v, want %v", asked, tt.asked)
			}
		})
	}
}

// The Delegator asks, for a challenge name an acme-dns provider writes,
// whether the CNAME to the account is in place, the same question
// "strictacme register" asks: absent at an authoritative server stops with
// the record to add (exit 6) before anything is ordered; a /lookup that
// cannot find the servers is logged and the record written as before; a
// name of an account-less domain is left to the write, which names the fix.
func TestDelegatorVerifiesTheAcmeDNSCNAME(t *testing.T) {
	const full = "d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.org"
	tests := []struct {
		name    string
		servers []string // name servers /lookup reports; "stale" ones lack the CNAME
		fqdn    string
		missing bool
		log     string
	}{
		{"in place at every server", []string{"ns1.example.com.", "ns2.example.com."}, "_acme-challenge.example.com.", false, "CNAME verified"},
		{"absent at one server", []string{"ns1.example.com.", "stale.example.com."}, "_acme-challenge.example.com.", true, ""},
		{"servers not found", nil, "_acme-challenge.example.com.", false, "could not be verified: no authoritative servers found"},
		{"no account for the domain", []string{"ns1.example.com."}, "_acme-challenge.other.example.", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				res := acmedns.LookupResult{Name: tt.fqdn, Type: "CNAME"}
				for _, n := range tt.servers {
					s := acmedns.LookupServer{NS: n}
					if !strings.HasPrefix(n, "stale") {
						s.Answer = []string{tt.fqdn + "\t300\tIN\tCNAME\t" + full + "."}
					}
					res.Servers = append(res.Servers, s)
				}
				_ = json.NewEncoder(rw).Encode(res)
			}))
			defer srv.Close()
			p := &acmedns.Provider{ServerURL: srv.URL, HTTPClient: srv.Client(),
				Credentials: acmedns.Credentials{"example.com": {FullDomain: full, Username: "u", Password: "p"}}}
			set, err := providers.NewSet(providers.Entry{Name: "adns", Provider: p})
			if err != nil {
				t.Fatal(err)
			}
			var logs []string
			d, _ := New(Rules{})
			d.Providers, d.Log = set, func(l string) { logs = append(logs, l) }
			got, err := d.Delegate(context.Background(), tt.fqdn)
			var m interface{ MissingRecord() bool }
			switch {
			case tt.missing:
				if !errors.As(err, &m) || !m.MissingRecord() || !strings.Contains(err.Error(), "add the record _acme-challenge.example.com. CNAME "+full+".") {
					t.Fatalf("Delegate = %q, %v; want the missing record named", got, err)
				}
			case err != nil || got != tt.fqdn:
				t.Fatalf("Delegate = %q, %v; want %s itself", got, err, tt.fqdn)
			}
			if joined := strings.Join(logs, "\n"); !strings.Contains(joined, tt.log) {
				t.Errorf("log %q, want %q", joined, tt.log)
			}
		})
	}
}

// register's set-up: accounts for the domains without one are created on
// the server and saved in a credentials file whose folder is made first;
// a second run registers nothing; a wildcard shares its apex's account; a
// server refusing is a DNS failure and an unreadable file a usage error.
func TestAcmeDNSSetupRegistersOnlyWhatIsMissing(t *testing.T) {
	registered := 0
	refuse := false
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/register" || refuse {
			http.Error(rw, `{"error":"forbidden"}`, http.StatusForbidden)
			return
		}
		registered++
		_ = json.NewEncoder(rw).Encode(map[string]string{
			"username": "u" + strconv.Itoa(registered), "password": "p", "subdomain": "s" + strconv.Itoa(registered),
			"fulldomain": "s" + strconv.Itoa(registered) + ".auth.example.org",
		})
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "new folder", "acmedns.json")
	setup := AcmeDNSSetup{Server: srv.URL, CredentialsFile: file, Domains: []string{"example.com", "*.example.com", "www.example.com"}, Options: acmedns.RegisterOptions{HTTPClient: srv.Client()}}
	needs, err := setup.Ensure(context.Background())
	if err != nil || len(needs) != 2 || !needs[0].Registered || needs[0].Domain != "example.com" || registered != 2 {
		t.Fatalf("first run: %+v, %v (%d registered); want example.com and www.example.com registered", needs, err, registered)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", info, err)
	}
	needs, err = setup.Ensure(context.Background())
	if err != nil || len(needs) != 2 || needs[0].Registered || needs[1].Registered || registered != 2 {
		t.Errorf("second run: %+v, %v (%d registered); want both from the file", needs, err, registered)
	}

	refuse = true
	setup.Domains = []string{"other.example.net"}
	if _, err := setup.Ensure(context.Background()); exitcode.Of(err) != exitcode.DNS {
		t.Errorf("refused: %v (exit %d), want exit %d", err, exitcode.Of(err), exitcode.DNS)
	}
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Ensure(context.Background()); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("damaged file: %v (exit %d), want exit %d", err, exitcode.Of(err), exitcode.Usage)
	}
}
