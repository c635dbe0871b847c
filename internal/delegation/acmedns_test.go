package delegation

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
