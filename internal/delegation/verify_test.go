package delegation

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/testworld"
)

// An explicit challenge alias whose public CNAME is missing: the order is
// not placed and nothing is written (the CA would fail every authorization
// and spend the failed-validation limit); exit code 6 names the record to
// add. Only type CNAME is asked, at the challenge name, never anything
// about the name the record would be written at.
func TestChallengeAliasWithoutCNAMEStoppedBeforeOrder(t *testing.T) {
	w := testworld.Start(t)
	set := twoProviders(t, w)
	d, err := New(Rules{Alias: "acme.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	d.Providers, d.Resolvers, d.Verify = set, doh(t, w), true
	w.Recursive.ResetCounts()
	w.API.ResetCounts()
	_, log, err := obtain(t, w, set, d, "a.example.com")
	if code := exitcode.Of(err); code != exitcode.Missing {
		t.Fatalf("exit code %d (%v), want %d\n%s", code, err, exitcode.Missing, log)
	}
	if !strings.Contains(err.Error(), "add the record _acme-challenge.a.example.com. CNAME _acme-challenge.acme.example.net.") {
		t.Errorf("error lacks the record to add: %v", err)
	}
	if strings.Contains(log, "order ") || w.API.Writes() != 0 {
		t.Errorf("order placed or records written (%d writes):\n%s", w.API.Writes(), log)
	}
	if q := w.Recursive.QueriesFor("_acme-challenge.a.example.com.", dns.TypeCNAME); q != 1 {
		t.Errorf("%d CNAME questions at the challenge name, want 1", q)
	}
	if n := asked(w, "_acme-challenge.acme.example.net.") + w.Recursive.QueriesFor("_acme-challenge.a.example.com.", dns.TypeTXT); n != 0 {
		t.Errorf("%d other question(s) before the write", n)
	}
}

// A challenge target whose CNAME points elsewhere is refused the same way;
// one that points right is verified, logged and issued.
func TestChallengeTargetCNAMEVerified(t *testing.T) {
	w := testworld.Start(t)
	set := twoProviders(t, w)
	cname(t, w, "_acme-challenge.a.example.com.", "wrong.example.net.")
	d, _ := New(Rules{Targets: map[string]string{"a.example.com": "right.example.net"}})
	d.Providers, d.Resolvers, d.Verify = set, doh(t, w), true
	_, err := d.Delegate(context.Background(), "_acme-challenge.a.example.com.")
	var wt *WrongTargetError
	if !errors.As(err, &wt) || !wt.MissingRecord() || !strings.Contains(err.Error(), "point the CNAME at right.example.net.") {
		t.Fatalf("err = %v, want a WrongTargetError", err)
	}

	cname(t, w, "_acme-challenge.a.example.com.", "right.example.net.")
	w.Recursive.Flush() // the old CNAME is cached for its TTL
	d, _ = New(Rules{Targets: map[string]string{"a.example.com": "right.example.net"}})
	d.Providers, d.Resolvers, d.Verify = set, doh(t, w), true
	var dlog logBuf
	d.Log = dlog.add
	recs, log, err := obtain(t, w, set, d, "a.example.com")
	if err != nil || recs[0].Target != "right.example.net." {
		t.Fatalf("Obtain: %v\n%s", err, log)
	}
	if !strings.Contains(dlog.String(), "CNAME verified through") {
		t.Errorf("log: %s", dlog.String())
	}
}

// A resolver that cannot be reached does not stop the order: verification
// is a guard, not a requirement, on a network that blocks the resolvers.
func TestChallengeAliasUnverifiableStillIssued(t *testing.T) {
	w := testworld.Start(t)
	set := twoProviders(t, w)
	cname(t, w, "_acme-challenge.a.example.com.", "_acme-challenge.acme.example.net.")
	dead, err := resolver.New("udp://127.0.0.1:9", resolver.Options{Timeout: 200e6})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := New(Rules{Alias: "acme.example.net"})
	d.Providers, d.Resolvers, d.Verify = set, []resolver.Resolver{dead}, true
	var dlog logBuf
	d.Log = dlog.add
	if _, log, err := obtain(t, w, set, d, "a.example.com"); err != nil {
		t.Fatalf("Obtain: %v\n%s", err, log)
	}
	if !strings.Contains(dlog.String(), "could not be verified") {
		t.Errorf("log: %s", dlog.String())
	}
}
