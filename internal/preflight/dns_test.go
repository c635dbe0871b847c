package preflight

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
)

func zoneFake(spec string) *fakeResolver {
	return &fakeResolver{spec: spec, records: map[string][]string{
		"example.com. SOA": {"example.com. 300 IN SOA ns.example.com. h.example.com. 1 2 3 4 300"},
	}}
}

// Each failure kind is reported with its usual cause and fix.
func TestEndpointsReasons(t *testing.T) {
	good := zoneFake("https://good/dns-query")
	bad := []*fakeResolver{
		{spec: "https://blocked/dns-query", err: &resolver.Error{Endpoint: "https://blocked/dns-query", Reason: "HTTP 403 Forbidden (a filtering proxy?)", Kind: resolver.KindHTTPStatus, HTTPStatus: 403}},
		{spec: "https://mitm/dns-query", err: &resolver.Error{Endpoint: "https://mitm/dns-query", Reason: "TLS: certificate signed by unknown authority", Kind: resolver.KindTLS}},
		{spec: "https://slow/dns-query", err: &resolver.Error{Endpoint: "https://slow/dns-query", Reason: "timeout after 5s", Kind: resolver.KindTimeout}},
	}
	rs := []resolver.Resolver{good, bad[0], bad[1], bad[2]}
	eps := Endpoints(context.Background(), rs, "example.com.")
	if !eps[0].OK || eps[0].Row.Status != OK {
		t.Errorf("good: %+v", eps[0])
	}
	for i, want := range []string{"blocked here", "--ca-cert", "no answer"} {
		e := eps[i+1]
		if e.OK || e.Row.Status != Warn || !strings.Contains(e.Row.Detail, want) {
			t.Errorf("%s: %+v, want %q", rs[i+1], e.Row, want)
		}
	}
	if len(Working(eps)) != 1 {
		t.Errorf("working: %v", Working(eps))
	}

	// The default quorum (a majority of those that answer) works with the
	// one that answers; a fixed quorum of 4 fails; quorum 1 works; a usable
	// fallback turns the failure into a warning.
	tg := Target{Strategy: "doh"}
	if row := StrategyRow(tg, eps, Row{}, nil); row.Status != OK || !strings.Contains(row.Detail, "1 of 4 resolvers answer (need a majority of those: 1)") {
		t.Errorf("default quorum: %+v", row)
	}
	tg.Quorum = 4
	if row := StrategyRow(tg, eps, Row{}, nil); row.Status != Fail || row.Code != exitcode.DNS || !strings.Contains(row.Detail, "needs 4 of 4 resolvers, 1 answer") {
		t.Errorf("quorum 4: %+v", row)
	}
	tg.Quorum = 1
	if row := StrategyRow(tg, eps, Row{}, nil); row.Status != OK {
		t.Errorf("quorum 1: %+v", row)
	}
	tg = Target{Strategy: "doh", Quorum: 4, Fallback: "wait"}
	if row := StrategyRow(tg, eps, Row{}, nil); row.Status != Warn || !strings.Contains(row.Detail, "fallback wait works") {
		t.Errorf("fallback: %+v", row)
	}
	if row := StrategyRow(Target{Strategy: "doh"}, eps[1:], Row{}, nil); row.Status != Fail || row.Code != exitcode.DNS || !strings.Contains(row.Detail, "none of the 3 resolvers answers") {
		t.Errorf("none answers: %+v", row)
	}
}

// TestResolverAnsweringNOTIMPForSOA: a filtering resolver that answers
// NOTIMP for SOA but TXT normally is what issuance needs, so it is ok and
// CAA is checked through it; one that answers REFUSED is not, and the row
// says so with the fix the issue path logs. Only TXT is asked of them,
// at the zone apex.
func TestResolverAnsweringNOTIMPForSOA(t *testing.T) {
	notimp := zoneFake("https://filter/dns-query")
	notimp.rcode = map[string]int{"example.com. SOA": dns.RcodeNotImplemented}
	refused := zoneFake("udp://192.0.2.1:53")
	refused.rcode = map[string]int{"example.com. TXT": dns.RcodeRefused}
	eps := Endpoints(context.Background(), []resolver.Resolver{notimp, refused}, "example.com.")
	if !eps[0].OK || eps[0].Row.Status != OK || eps[0].Row.Detail != "answers (TXT example.com: NXDOMAIN)" {
		t.Errorf("NOTIMP for SOA: %+v", eps[0])
	}
	if eps[1].OK || eps[1].Row.Status != Warn || !strings.Contains(eps[1].Row.Detail, "answers REFUSED") || !strings.Contains(eps[1].Row.Detail, "use a --resolver that answers") {
		t.Errorf("REFUSED: %+v", eps[1])
	}
	for _, f := range []*fakeResolver{notimp, refused} {
		if q := f.questions(); len(q) != 1 || q[0] != "example.com. TXT" {
			t.Errorf("%s was asked %v, want only example.com. TXT", f.spec, q)
		}
	}
	if row := StrategyRow(Target{Strategy: "doh"}, eps, Row{}, nil); row.Status != OK {
		t.Errorf("strategy: %+v", row)
	}
}

// Port 53 is not touched unless allowed; auto and doh do not allow it.
func TestPort53NotAllowed(t *testing.T) {
	r := zoneFake("https://good/dns-query")
	eps := Endpoints(context.Background(), []resolver.Resolver{r}, "example.com.")
	asked := len(r.questions())
	for _, s := range []string{"doh", "auto", "provider", "wait"} {
		row := Port53(context.Background(), Target{Strategy: s}, eps, nil)
		if row.Status != OK || row.Detail != "not probed (port 53 not allowed)" {
			t.Errorf("%s: %+v", s, row)
		}
	}
	if len(r.questions()) != asked {
		t.Errorf("questions asked for a port-53 probe that was not allowed: %v", r.questions()[asked:])
	}
}

// No delegation configured: routing asks no DNS question at all, so no
// challenge name can end up in a negative cache (RFC 2308).
func TestRoutesAskNothingWithoutDelegation(t *testing.T) {
	r := zoneFake("https://good/dns-query")
	set, err := providers.NewSet(providers.Entry{Name: "p", Suffix: "example.com", Zone: "example.com", Provider: nopProvider{}})
	if err != nil {
		t.Fatal(err)
	}
	routes := Routes(context.Background(), Target{Identifiers: []string{"example.com", "*.example.com", "www.example.com"}, Providers: set, Resolvers: []resolver.Resolver{r}})
	if len(routes) != 2 || routes[0].Zone != "example.com." || routes[1].Challenge != "_acme-challenge.www.example.com." {
		t.Fatalf("routes: %+v", routes)
	}
	if q := r.questions(); len(q) != 0 {
		t.Errorf("asked %v", q)
	}
	rows := DelegationRows(routes)
	if rows[0].Status != OK || rows[0].Detail != "_acme-challenge.example.com → _acme-challenge.example.com (zone example.com via provider p)" {
		t.Errorf("%+v", rows[0])
	}
	// A name no provider serves.
	routes = Routes(context.Background(), Target{Identifiers: []string{"example.org"}, Providers: set})
	if rows := DelegationRows(routes); rows[0].Status != Fail || rows[0].Code != exitcode.Usage || !strings.Contains(rows[0].Detail, "no configured DNS provider serves _acme-challenge.example.org") {
		t.Errorf("%+v", rows[0])
	}
}

// A delegation refusal is a Fail with the delegation's own explanation.
func TestRoutesDelegationRefused(t *testing.T) {
	refuse := delegateFunc(func(context.Context, string) (string, error) {
		return "", errors.New("CNAME loop: a -> b -> a; fix the CNAME records")
	})
	routes := Routes(context.Background(), Target{Identifiers: []string{"example.com"}, Delegate: refuse})
	rows := DelegationRows(routes)
	if rows[0].Status != Fail || rows[0].Code != exitcode.DNS || !strings.Contains(rows[0].Detail, "CNAME loop") {
		t.Errorf("%+v", rows[0])
	}
}

func TestProviderRowsReadOnly(t *testing.T) {
	p := &recordingProvider{}
	set, _ := providers.NewSet(providers.Entry{Name: "p", Zone: "example.com", Provider: p})
	routes := Routes(context.Background(), Target{Identifiers: []string{"example.com", "www.example.com"}, Providers: set})
	rows := ProviderRows(context.Background(), set, routes)
	if len(rows) != 1 || rows[0].Status != OK || !strings.Contains(rows[0].Detail, "zone example.com readable (2 records)") {
		t.Fatalf("%+v", rows)
	}
	if p.reads != 1 || p.writes != 0 {
		t.Errorf("reads %d, writes %d", p.reads, p.writes)
	}
	p.err = errors.New("HTTP 401: bad token")
	rows = ProviderRows(context.Background(), set, routes)
	if rows[0].Status != Fail || rows[0].Code != exitcode.DNS || !strings.Contains(rows[0].Detail, "credentials of provider p") {
		t.Errorf("%+v", rows[0])
	}
}

func TestProgramRow(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.sh")
	if row := ProgramRow("provider exec", "program", missing); row.Status != Fail || row.Code != exitcode.Usage || !strings.Contains(row.Detail, "no such file") {
		t.Errorf("missing: %+v", row)
	}
	plain := filepath.Join(dir, "hook.sh")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if row := ProgramRow("provider exec", "program", plain); row.Status != Fail || !strings.Contains(row.Detail, "chmod +x") {
		t.Errorf("not executable: %+v", row)
	}
	if err := os.Chmod(plain, 0o700); err != nil {
		t.Fatal(err)
	}
	if row := ProgramRow("provider exec", "program", plain); row.Status != OK || !strings.Contains(row.Detail, "cannot be probed without writing") {
		t.Errorf("executable: %+v", row)
	}
	if row := ProgramRow("provider exec", "program", dir); row.Status != Fail || !strings.Contains(row.Detail, "directory") {
		t.Errorf("directory: %+v", row)
	}
}

type delegateFunc func(context.Context, string) (string, error)

func (f delegateFunc) Delegate(ctx context.Context, fqdn string) (string, error) { return f(ctx, fqdn) }

// nopProvider can neither read nor report; it only satisfies the interface.
type nopProvider struct{}

func (nopProvider) AppendRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, errors.New("must not write")
}
func (nopProvider) DeleteRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, errors.New("must not write")
}

// recordingProvider counts reads and writes.
type recordingProvider struct {
	reads, writes int
	err           error
}

func (p *recordingProvider) GetRecords(context.Context, string) ([]libdns.Record, error) {
	p.reads++
	if p.err != nil {
		return nil, p.err
	}
	return []libdns.Record{libdns.TXT{Name: "@", Text: "v=spf1 -all"}, libdns.TXT{Name: "x", Text: "y"}}, nil
}
func (p *recordingProvider) AppendRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	p.writes++
	return nil, nil
}
func (p *recordingProvider) DeleteRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	p.writes++
	return nil, nil
}
