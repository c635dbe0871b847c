package providers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// zoneFinderDown is a provider whose API is down while finding a zone.
type zoneFinderDown struct{ writer }

func (zoneFinderDown) ZoneFor(context.Context, string) (string, error) {
	return "", errors.New("namecheap getHosts: no answer from the API")
}

// TestProviderOutageWhileFindingTheZoneIsADNSFailure: an outage during
// zone discovery exited 2 (usage) although the same outage during the
// write exits 4. A provider failure while routing is exit code DNS; a name
// no configured provider serves stays a usage error.
func TestProviderOutageWhileFindingTheZoneIsADNSFailure(t *testing.T) {
	set, err := NewSet(Entry{Name: "namecheap", Suffix: "example.com", Provider: zoneFinderDown{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, fqdn string
		code       int
	}{
		{"provider API down", "_acme-challenge.example.com.", exitcode.DNS},
		{"no provider for the name", "_acme-challenge.example.org.", exitcode.Usage},
	} {
		_, err := set.Route(context.Background(), tt.fqdn)
		if got := exitcode.Of(err); got != tt.code {
			t.Errorf("%s: exit code %d, want %d (%v)", tt.name, got, tt.code, err)
		}
	}
}

// zoneLister is a provider whose account holds the listed zones.
type zoneLister struct {
	writer
	zones []string
}

func (z zoneLister) ListZones(context.Context) ([]libdns.Zone, error) {
	var out []libdns.Zone
	for _, n := range z.zones {
		out = append(out, libdns.Zone{Name: n})
	}
	return out, nil
}

// Each record goes to the provider of the longest matching suffix, into
// the zone that provider says holds it: an explicit zone, the account's
// deepest listed zone, or the registered domain. No DNS is asked.
func TestRouteLongestSuffixWinsAndFindsTheZone(t *testing.T) {
	set, err := NewSet(
		Entry{Name: "default", Provider: writer{}},
		Entry{Name: "namecheap", Suffix: "example.com", Provider: zoneLister{zones: []string{"example.com.", "dev.example.com."}}},
		Entry{Name: "freedns", Suffix: "lab.example.org", Zone: "example.org", Provider: writer{}},
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ fqdn, entry, zone string }{
		{"_acme-challenge.www.example.com.", "namecheap", "example.com."},
		{"_acme-challenge.x.DEV.example.com", "namecheap", "dev.example.com."},
		{"_acme-challenge.host.lab.example.org.", "freedns", "example.org."},
		{"_acme-challenge.shop.example.co.uk.", "default", "example.co.uk."},
	} {
		got, err := set.Route(context.Background(), tc.fqdn)
		if err != nil {
			t.Errorf("%s: %v", tc.fqdn, err)
			continue
		}
		if got.Entry.Name != tc.entry || got.Zone != tc.zone {
			t.Errorf("%s: %s zone %s, want %s zone %s", tc.fqdn, got.Entry.Name, got.Zone, tc.entry, tc.zone)
		}
	}
}

// A name no entry covers is refused with the zones that are configured;
// a name the provider's account does not hold is refused by it.
func TestRouteRefusesNamesNobodyServes(t *testing.T) {
	set, _ := NewSet(
		Entry{Name: "namecheap", Suffix: "example.com", Provider: zoneLister{zones: []string{"example.com."}}},
		Entry{Name: "script", Suffix: "acme.example.net", Provider: zoneLister{zones: []string{"other.example."}}},
	)
	_, err := set.Route(context.Background(), "_acme-challenge.example.org.")
	if err == nil || !strings.Contains(err.Error(), "example.com, acme.example.net") && !strings.Contains(err.Error(), "acme.example.net, example.com") {
		t.Fatalf("uncovered name: %v", err)
	}
	if set.Serves("_acme-challenge.example.org.") {
		t.Error("Serves says yes to a name Route refuses")
	}
	if _, err := set.Route(context.Background(), "_acme-challenge.acme.example.net."); err == nil || !strings.Contains(err.Error(), "no zone in this account") {
		t.Fatalf("zone outside the account: %v", err)
	}
}

// Two entries for the same zone are a configuration mistake.
func TestNewSetRefusesTwoProvidersForOneZone(t *testing.T) {
	if _, err := NewSet(Entry{Name: "a", Suffix: "example.com", Provider: writer{}}, Entry{Name: "b", Suffix: "Example.com.", Provider: writer{}}); err == nil {
		t.Fatal("accepted")
	}
}

// Serving keeps the entries Route would pick for the names, so a
// certificate is not charged for providers of other zones.
func TestServingKeepsOnlyTheProvidersOfTheNames(t *testing.T) {
	set, _ := NewSet(
		Entry{Name: "default", Provider: writer{}},
		Entry{Name: "namecheap", Suffix: "example.com", Provider: writer{}},
		Entry{Name: "script", Suffix: "acme.example.net", Provider: writer{}},
	)
	names := func(s *Set) []string {
		var out []string
		for _, e := range s.Entries() {
			out = append(out, e.Name)
		}
		return out
	}
	for _, tc := range []struct {
		fqdns []string
		want  []string
	}{
		{[]string{"_acme-challenge.www.example.com."}, []string{"namecheap"}},
		{[]string{"_acme-challenge.intranet.acme.example.net.", "_acme-challenge.example.com."}, []string{"script", "namecheap"}},
		{[]string{"_acme-challenge.example.org."}, []string{"default"}},
		{nil, nil},
	} {
		if got := names(set.Serving(tc.fqdns...)); !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.fqdns, got, tc.want)
		}
	}
}
