package testworld

import (
	"fmt"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// pendingRR is a record the provider's API accepted that the authoritative
// server serves only from at on (a provider whose name servers lag its API).
type pendingRR struct {
	rr dns.RR
	at time.Time
}

// AddRRLate accepts rrs now but serves them only once lag has passed on the
// world's Clock, as a provider whose name servers pick up a change a
// minute after its API accepted it (Namecheap). Until then queries are
// answered as if the write had not happened (NXDOMAIN or NODATA, which
// caching resolvers keep for the negative TTL). It returns the time from
// which the records are served. Errors: ErrNoZone.
func (a *Authoritative) AddRRLate(lag time.Duration, rrs ...dns.RR) (time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, rr := range rrs {
		if a.zoneFor(canonical(rr.Header().Name)) == nil {
			return time.Time{}, fmt.Errorf("%w: %s", ErrNoZone, rr.Header().Name)
		}
	}
	at := a.now().Add(lag)
	for _, rr := range rrs {
		rr = dns.Copy(rr)
		rr.Header().Name = canonical(rr.Header().Name)
		a.pending = append(a.pending, pendingRR{rr: rr, at: at})
	}
	return at, nil
}

// Pending returns copies of the accepted records of zone origin that are
// not served yet.
func (a *Authoritative) Pending(origin string) []dns.RR {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.promoteLocked()
	z := a.zones[canonical(origin)]
	var out []dns.RR
	for _, p := range a.pending {
		if a.zoneFor(p.rr.Header().Name) == z {
			out = append(out, dns.Copy(p.rr))
		}
	}
	return out
}

// ServedFrom returns the time on the world's Clock from which the server
// answered (name, rrtype) with data, and false when it never has.
func (a *Authoritative) ServedFrom(name string, rrtype uint16) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.promoteLocked()
	t, ok := a.served[qkey{canonical(name), rrtype}]
	return t, ok
}

func (a *Authoritative) now() time.Time {
	if a.clock == nil {
		return time.Now()
	}
	return a.clock.Now()
}

// promote serves the pending records that are due.
func (a *Authoritative) promote() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.promoteLocked()
}

func (a *Authoritative) promoteLocked() {
	if len(a.pending) == 0 {
		return
	}
	now := a.now()
	var due []dns.RR
	a.pending = slices.DeleteFunc(a.pending, func(p pendingRR) bool {
		if p.at.After(now) {
			return false
		}
		due = append(due, p.rr)
		return true
	})
	if len(due) > 0 {
		_ = a.addLocked(due) // a conflicting record is dropped, as a provider would refuse it
	}
}

// dropPendingLocked forgets pending records equal to rr (a delete that came
// before the name servers served the write).
func (a *Authoritative) dropPendingLocked(rr dns.RR) bool {
	probe := dns.Copy(rr)
	probe.Header().Name = canonical(probe.Header().Name)
	hit := false
	a.pending = slices.DeleteFunc(a.pending, func(p pendingRR) bool {
		if !hit && p.rr.Header().Rrtype == probe.Header().Rrtype && dns.IsDuplicate(p.rr, probe) {
			hit = true
			return true
		}
		return false
	})
	return hit
}
