package providers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/libdns/libdns"
)

// ServingLagger is implemented by providers that know how long their
// authoritative name servers take to serve a change after the API accepted
// it (Namecheap: a minute or more). Propagation checks wait this long after
// the last write before they ask any caching resolver about a challenge
// name, because a question asked earlier is answered NXDOMAIN and that
// answer stays cached for the zone's negative TTL (RFC 2308 §5). A provider
// that writes to a server which is itself authoritative (Authoritative)
// has no lag; one that declares nothing is taken to have none.
type ServingLagger interface {
	// ServingLag is the typical time from a successful write until every
	// authoritative server of the zone answers with it; 0 means at once.
	ServingLag() time.Duration
}

// Capability is what a provider declares about itself: whether it can read
// records back and how late its name servers serve a write.
type Capability struct {
	// CanRead is true when the provider implements libdns.RecordGetter.
	CanRead bool
	// Lag is the declared serving lag (ServingLagger); zero when the
	// provider writes to an authoritative server (Authoritative) or
	// declares nothing.
	Lag time.Duration
}

// CapabilityOf returns what p declares.
func CapabilityOf(p Provider) Capability {
	var c Capability
	_, c.CanRead = p.(libdns.RecordGetter)
	if a, ok := p.(Authoritative); ok && a.Authoritative() {
		return c
	}
	if l, ok := p.(ServingLagger); ok {
		c.Lag = max(l.ServingLag(), 0)
	}
	return c
}

// Capability combines the capabilities of every entry: CanRead when all can
// read back, Lag the longest declared lag. A set with no entries can do
// nothing.
func (s *Set) Capability() Capability {
	if s == nil || len(s.entries) == 0 {
		return Capability{}
	}
	out := Capability{CanRead: true}
	for _, e := range s.entries {
		c := CapabilityOf(e.Provider)
		out.CanRead = out.CanRead && c.CanRead
		out.Lag = max(out.Lag, c.Lag)
	}
	return out
}

// ReadBack returns a record getter that reads each zone through the
// provider serving it, and the FQDN-to-zone mapping of Route, for checks
// that confirm a write through the providers' own APIs. ok is false when
// no entry can read back; a zone whose provider cannot is an error of
// GetRecords (Capability says whether all can).
func (s *Set) ReadBack() (getter libdns.RecordGetter, zoneOf func(fqdn string) (string, error), ok bool) {
	can := false
	for _, e := range s.Entries() {
		can = can || CapabilityOf(e.Provider).CanRead
	}
	if !can {
		return nil, nil, false
	}
	zoneOf = func(fqdn string) (string, error) {
		t, err := s.Route(context.Background(), fqdn)
		return t.Zone, err
	}
	return routedGetter{s}, zoneOf, true
}

// routedGetter reads each zone through the provider that serves it, so a
// read-back works with per-zone providers (config files).
type routedGetter struct{ set *Set }

func (g routedGetter) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	t, err := g.set.Route(ctx, zone)
	if err != nil {
		return nil, err
	}
	rg, ok := t.Entry.Provider.(libdns.RecordGetter)
	if !ok {
		return nil, fmt.Errorf("provider %s cannot read zone %s back; use doh or wait for the names it serves", t.Entry.Name, strings.TrimSuffix(zone, "."))
	}
	return rg.GetRecords(ctx, zone)
}
