package propagation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libdns/libdns"
)

// ProviderCheck confirms through the DNS provider's own API that every TXT
// record is in its zone, then waits an optional settle delay measured from
// written. It sends no DNS query, so it works where no resolver is
// reachable or a caching proxy keeps a stale negative answer (case PR11).
// It polls GetRecords with backoff until all records are present.
type ProviderCheck struct {
	// Getter reads a zone's records; required.
	Getter libdns.RecordGetter
	// ZoneOf maps a record's FQDN to the zone Getter knows it by (with the
	// trailing dot); required.
	ZoneOf func(fqdn string) (zone string, err error)
	// Settle is waited after the records are confirmed, measured from
	// written: the time the provider needs to push the zone to its
	// authoritative servers. Zero means no settle delay.
	Settle time.Duration
	// SettleAfterConfirm measures Settle from the confirmation instead of
	// from written: as a fallback after resolvers answered that the
	// records are not there, the name servers may be later than the
	// provider declares, and validating too early fails the order.
	SettleAfterConfirm bool
	// Timeout bounds the polling, on Clock from the Wait call; 0 means only
	// ctx bounds it.
	Timeout time.Duration
	// PollInitial and PollMax shape the backoff; zero means the defaults.
	PollInitial, PollMax time.Duration
	// Clock is used for every pause and deadline; nil means Real.
	Clock Clock
}

// Name returns "provider".
func (*ProviderCheck) Name() string { return "provider" }

// Wait implements Strategy. A ZoneOf error ends the check at once; a
// GetRecords error is reported and retried.
func (pc *ProviderCheck) Wait(ctx context.Context, recs []Record, written time.Time, obs Observer) error {
	if written.IsZero() {
		return errNoWrite
	}
	if pc.Getter == nil || pc.ZoneOf == nil {
		return errors.New("propagation provider: needs a record getter and a zone mapping")
	}
	c := clockOr(pc.Clock)
	byZone := map[string][]Record{}
	var zones []string
	for _, r := range recs {
		zone, err := pc.ZoneOf(r.FQDN)
		if err != nil {
			return fmt.Errorf("propagation provider: zone of %s: %w", r.FQDN, err)
		}
		if _, ok := byZone[zone]; !ok {
			zones = append(zones, zone)
		}
		byZone[zone] = append(byZone[zone], r)
	}
	slices.Sort(zones)
	obs.say("propagation provider: checking %d record(s) in zone(s) %s through the provider API", len(recs), strings.Join(zones, ", "))

	start := c.Now()
	var deadline time.Time
	if pc.Timeout > 0 {
		deadline = start.Add(pc.Timeout)
	}
	missingBy := map[string]string{} // zone → what is missing or the error
	reported := map[string]string{}
	bo := newBackoff(pc.PollInitial, pc.PollMax)
	for {
		for _, zone := range zones {
			if _, pending := missingBy[zone]; !pending && reported[zone] == "ok" {
				continue
			}
			state := pc.check(ctx, zone, byZone[zone])
			if state == "" {
				delete(missingBy, zone)
				state = "ok"
			} else {
				missingBy[zone] = state
			}
			if reported[zone] != state && ctx.Err() == nil {
				reported[zone] = state
				if state == "ok" {
					obs.say("provider: zone %s has all %d record(s)", zone, len(byZone[zone]))
				} else {
					obs.say("provider: zone %s: %s", zone, state)
				}
			}
		}
		if len(missingBy) == 0 {
			if pc.Settle <= 0 {
				return nil
			}
			from := written
			if pc.SettleAfterConfirm {
				from = c.Now()
			}
			return waitUntil(ctx, c, from, pc.Settle, "provider: settle", obs)
		}
		fail := func(reason string, err error) error {
			var lines []string
			for _, z := range zones {
				if m, ok := missingBy[z]; ok {
					lines = append(lines, "zone "+z+": "+m)
				}
			}
			return &NotVisibleError{Strategy: "provider", Reason: reason, After: c.Now().Sub(start), Seen: lines, Err: err}
		}
		if err := ctx.Err(); err != nil {
			return fail(stopReason(err), err)
		}
		left, bounded := timeLeft(ctx, deadline, c.Now())
		if bounded && left <= 0 {
			return fail("timed out", context.DeadlineExceeded)
		}
		pause := bo.Next()
		if bounded {
			pause = min(pause, left)
		}
		if err := sleep(ctx, c, pause); err != nil {
			return fail(stopReason(err), err)
		}
	}
}

// check returns "" when every record is in zone, else what is missing or
// why the zone could not be read.
func (pc *ProviderCheck) check(ctx context.Context, zone string, recs []Record) string {
	got, err := pc.Getter.GetRecords(ctx, zone)
	if err != nil {
		return "cannot read records: " + err.Error()
	}
	var miss []string
	for _, want := range recs {
		if !hasTXT(got, zone, want) {
			miss = append(miss, fmt.Sprintf("%s TXT %q missing", want.FQDN, want.Value))
		}
	}
	return strings.Join(miss, ", ")
}

// hasTXT reports whether recs holds want's TXT value at want's FQDN. Names
// are compared case-insensitively; some providers return absolute names
// without the trailing dot instead of relative ones, so both are accepted.
func hasTXT(recs []libdns.Record, zone string, want Record) bool {
	fqdn := strings.ToLower(strings.TrimSuffix(want.FQDN, "."))
	for _, rec := range recs {
		rr := rec.RR()
		if !strings.EqualFold(rr.Type, "TXT") || rr.Data != want.Value {
			continue
		}
		name := strings.ToLower(strings.TrimSuffix(rr.Name, "."))
		zoneName := strings.ToLower(strings.TrimSuffix(libdns.AbsoluteName(rr.Name, zone), "."))
		if zoneName == fqdn || name == fqdn {
			return true
		}
	}
	return false
}
