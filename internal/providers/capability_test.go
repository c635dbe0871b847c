package providers

import (
	"context"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

type writer struct{}

func (writer) AppendRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, nil
}

func (writer) DeleteRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, nil
}

type lagging struct {
	writer
	lag time.Duration
}

func (l lagging) ServingLag() time.Duration { return l.lag }

type readingLagging struct{ lagging }

func (readingLagging) GetRecords(context.Context, string) ([]libdns.Record, error) { return nil, nil }

// authoritativeButClaimsLag writes to a server that is itself authoritative:
// whatever else it says, its writes are served at once.
type authoritativeButClaimsLag struct{ lagging }

func (authoritativeButClaimsLag) Authoritative() bool { return true }

func TestCapabilityOfWhatProvidersDeclare(t *testing.T) {
	tests := []struct {
		name string
		p    Provider
		want Capability
	}{
		{"declares nothing (exec without a configured lag)", writer{}, Capability{}},
		{"declares a lag, cannot read back", lagging{lag: time.Minute}, Capability{Lag: time.Minute}},
		{"declares a lag and reads back (Namecheap)", readingLagging{lagging{lag: 2 * time.Minute}}, Capability{CanRead: true, Lag: 2 * time.Minute}},
		{"authoritative server (acme-dns, challenge server)", authoritativeButClaimsLag{lagging{lag: time.Hour}}, Capability{}},
		{"negative lag is none", lagging{lag: -time.Second}, Capability{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CapabilityOf(tc.p); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSetCapabilityTakesTheLongestLagAndReadsBackOnlyWhenAllCan(t *testing.T) {
	s, err := NewSet(
		Entry{Name: "nc", Suffix: "example.com", Provider: readingLagging{lagging{lag: 2 * time.Minute}}},
		Entry{Name: "script", Suffix: "example.net", Provider: lagging{lag: 3 * time.Minute}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Capability(); got != (Capability{Lag: 3 * time.Minute}) {
		t.Errorf("capability %+v", got)
	}
	g, zoneOf, ok := s.ReadBack()
	if !ok || g == nil || zoneOf == nil {
		t.Fatal("ReadBack: want a getter when one entry can read back")
	}
	if _, err := g.GetRecords(context.Background(), "example.net."); err == nil {
		t.Error("reading a zone whose provider cannot read back: want an error")
	}
	if _, err := g.GetRecords(context.Background(), "example.com."); err != nil {
		t.Errorf("reading example.com: %v", err)
	}
	var empty *Set
	if got := empty.Capability(); got != (Capability{}) {
		t.Errorf("nil set: %+v", got)
	}
}
