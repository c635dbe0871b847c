package main

import (
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/preflight"
	"github.com/strictacme/strictacme/provider/cloudflare/cloudflaretest"
	"github.com/strictacme/strictacme/provider/digitalocean/digitaloceantest"
)

// check reads a Cloudflare zone through the API: a token that can read
// it passes; one without DNS:Edit on the zone fails (at the zone read that
// looks for a CNAME at the challenge name) with the permission named, and
// nothing is written either way.
func TestCheckCloudflareTokenPermissions(t *testing.T) {
	const narrow = "narrow-token-00000000000000000000000000"
	for _, tt := range []struct {
		name, token string
		code        int
		status      preflight.Status
		want        string
	}{
		{"token with Zone:Read and DNS:Edit", cloudflaretest.DefaultToken, 0, preflight.OK, "zone example.com via provider cloudflare"},
		{"token with Zone:Read only", narrow, exitcode.DNS, preflight.Fail, "DNS:Edit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := checkWorld(t)
			api := cloudflaretest.NewServer(cloudflaretest.Options{Tokens: map[string]cloudflaretest.Token{
				cloudflaretest.DefaultToken: {ZoneRead: true, DNSEdit: true},
				narrow:                      {ZoneRead: true},
			}})
			t.Cleanup(api.Close)
			api.AddZone("example.com", cloudflaretest.Record{Name: "example.com", Type: "A", Content: "192.0.2.10"})
			t.Setenv("CLOUDFLARE_DNS_API_TOKEN", tt.token)
			t.Setenv("CLOUDFLARE_BASE_URL", api.URL())
			code, rep, _ := runCheckJSON(t, checkArgs(t, w, "--dns", "cloudflare", "-d", "example.com")...)
			found := false
			for _, r := range rep.Rows {
				if r.Status == tt.status && strings.Contains(r.Detail, tt.want) {
					found = true
				}
			}
			if code != tt.code || !found || strings.Contains(dump(rep), tt.token) {
				t.Errorf("exit %d, no %s row saying %q\n%s", code, tt.status, tt.want, dump(rep))
			}
			if n := api.Count("POST batch"); n != 0 {
				t.Errorf("check sent %d batches", n)
			}
		})
	}
}

// check lists the DigitalOcean account's domains and reads the domain: a
// revoked token fails the provider row saying so, and nothing is written.
func TestCheckDigitalOceanRevokedToken(t *testing.T) {
	w := checkWorld(t)
	api := digitaloceantest.NewServer(digitaloceantest.Options{})
	t.Cleanup(api.Close)
	api.AddDomain("example.com", digitaloceantest.Record{Type: "A", Name: "@", Data: "192.0.2.10"})
	t.Setenv("DO_API_URL", api.URL())
	t.Setenv("DO_AUTH_TOKEN", digitaloceantest.DefaultToken)
	checkProviderPasses(t, w, "digitalocean")
	t.Setenv("DO_AUTH_TOKEN", "dop_v1_revoked")
	code, rep, r := checkProvider(t, w, "digitalocean")
	if code != exitcode.DNS || r.Status != preflight.Fail || !strings.Contains(r.Detail, "token is not valid") {
		t.Errorf("revoked token: exit %d, %+v\n%s", code, r, dump(rep))
	}
	if n := api.Count("POST records") + api.Count("DELETE record"); n != 0 {
		t.Errorf("check sent %d writes", n)
	}
}
