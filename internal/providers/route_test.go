package providers

import (
	"context"
	"errors"
	"testing"

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
