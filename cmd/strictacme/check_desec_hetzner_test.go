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
	code, rep, _ := runCheckJSON(t, checkArgs(t, w, "--dns", "desec", "-d", "example.com")...)
	if r := row(t, rep, "provider desec"); code != 0 || r.Status != preflight.OK {
		t.Fatalf("working token: exit %d, %+v\n%s", code, r, dump(rep))
	}
	const wrong = "wrong-desec-token-000000000000"
	t.Setenv("DESEC_TOKEN", wrong)
	code, rep, _ = runCheckJSON(t, checkArgs(t, w, "--dns", "desec", "-d", "example.com")...)
	r := row(t, rep, "provider desec")
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
	code, rep, _ := runCheckJSON(t, checkArgs(t, w, "--dns", "hetzner", "-d", "example.com")...)
	if r := row(t, rep, "provider hetzner"); code != 0 || r.Status != preflight.OK {
		t.Fatalf("working token: exit %d, %+v\n%s", code, r, dump(rep))
	}
	api.MoveToConsole("example.com")
	code, rep, _ = runCheckJSON(t, checkArgs(t, w, "--dns", "hetzner", "-d", "example.com")...)
	r := row(t, rep, "provider hetzner")
	if code == 0 || r.Status != preflight.Fail || !strings.Contains(dump(rep), "Cloud API") {
		t.Errorf("moved zone: exit %d, %+v\n%s", code, r, dump(rep))
	}
	for _, req := range api.Requests() {
		if req.Method != http.MethodGet {
			t.Errorf("check sent %s %s", req.Method, req.Path)
		}
	}
}
