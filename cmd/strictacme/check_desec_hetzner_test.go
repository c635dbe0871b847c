package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/preflight"
	"github.com/strictacme/strictacme/provider/desec/desectest"
	"github.com/strictacme/strictacme/provider/hetzner/hetznertest"
)

// check finds the deSEC domain (owns_qname) and reads it: a working token
// passes the provider row; a wrong one fails it with deSEC's 401 and what
// to do, without the token; nothing is written either way.
func TestCheckDesecToken(t *testing.T) {
	w := checkWorld(t)
	api := desectest.NewServer(desectest.Options{})
	t.Cleanup(api.Close)
	api.AddDomain("example.com", desectest.RRset{Type: "A", TTL: 3600, Records: []string{"192.0.2.10"}})
	t.Setenv("DESEC_ENDPOINT", api.URL())
	t.Setenv("DESEC_TOKEN", desectest.DefaultToken)
	checkProviderPasses(t, w, "desec")
	const wrong = "wrong-desec-token-000000000000"
	t.Setenv("DESEC_TOKEN", wrong)
	code, rep, r := checkProvider(t, w, "desec")
	if code != exitcode.DNS || r.Status != preflight.Fail || !strings.Contains(r.Detail, "HTTP 401") || !strings.Contains(r.Detail, "DESEC_TOKEN") || strings.Contains(dump(rep), wrong) {
		t.Errorf("wrong token: exit %d, %+v\n%s", code, r, dump(rep))
	}
	for _, req := range api.Requests() {
		if req.Method != http.MethodGet {
			t.Errorf("check sent %s %s", req.Method, req.Path)
		}
	}
}

// check lists the Hetzner zones and reads the zone's records: a working
// token passes; a zone moved to the Hetzner Console fails the row saying
// that the Cloud API is needed; nothing is written.
func TestCheckHetznerZoneMovedToTheConsole(t *testing.T) {
	w := checkWorld(t)
	api := hetznertest.NewServer(hetznertest.Options{})
	t.Cleanup(api.Close)
	api.AddZone("example.com", hetznertest.Record{Type: "A", Name: "@", Value: "192.0.2.10"})
	t.Setenv("HETZNER_ENDPOINT", api.URL())
	t.Setenv("HETZNER_API_KEY", hetznertest.DefaultToken)
	checkProviderPasses(t, w, "hetzner")
	api.MoveToConsole("example.com")
	code, rep, r := checkProvider(t, w, "hetzner")
	if code == 0 || r.Status != preflight.Fail || !strings.Contains(dump(rep), "Cloud API") {
		t.Errorf("moved zone: exit %d, %+v\n%s", code, r, dump(rep))
	}
	for _, req := range api.Requests() {
		if req.Method != http.MethodGet {
			t.Errorf("check sent %s %s", req.Method, req.Path)
		}
	}
}

// check with a Cloud API token lists the project's zones and reads the
// zone's RRsets through the Cloud API, writing nothing; a wrong token
// fails the row naming HETZNER_API_TOKEN; both tokens set is refused,
// naming which to drop.
func TestCheckHetznerCloudAPI(t *testing.T) {
	w := checkWorld(t)
	api := hetznertest.NewServer(hetznertest.Options{})
	t.Cleanup(api.Close)
	api.AddZone("example.com", hetznertest.Record{Type: "A", Name: "@", Value: "192.0.2.10"})
	t.Setenv("HETZNER_ENDPOINT", api.CloudURL())
	t.Setenv("HETZNER_API_TOKEN", hetznertest.DefaultToken)
	checkProviderPasses(t, w, "hetzner")
	for _, req := range api.Requests() {
		if req.Method != http.MethodGet || !strings.HasPrefix(req.Path, "/v1/") {
			t.Errorf("check sent %s %s", req.Method, req.Path)
		}
	}
	t.Setenv("HETZNER_API_TOKEN", "wrong-token-0123456789abcdef")
	if code, rep, r := checkProvider(t, w, "hetzner"); code == 0 || r.Status != preflight.Fail || !strings.Contains(dump(rep), "HETZNER_API_TOKEN") {
		t.Errorf("wrong token: exit %d, %+v\n%s", code, r, dump(rep))
	}
	t.Setenv("HETZNER_API_TOKEN", hetznertest.DefaultToken)
	t.Setenv("HETZNER_API_KEY", hetznertest.DefaultToken)
	code, out, errs := runCLI(t, append(checkArgs(t, w, "--dns", "hetzner", "-d", "example.com"), "--json")...)
	if code != 2 || !strings.Contains(out+errs, "unset HETZNER_API_KEY if the zone is in the Hetzner Console") || strings.Contains(out+errs, hetznertest.DefaultToken) {
		t.Errorf("both tokens: exit %d\n%s\n%s", code, out, errs)
	}
}
