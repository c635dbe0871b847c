package persist

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/providers"
)

// Delegator maps a record's FQDN to the FQDN where it is written (CNAME
// delegation, challenge alias); it returns fqdn itself when the name is not
// delegated. internal/issue.Delegator has the same shape.
type Delegator interface {
	Delegate(ctx context.Context, fqdn string) (string, error)
}

// Lookup returns the TXT values visible at fqdn. Apply uses it to find an
// identical record when the provider cannot list records
// (libdns.RecordGetter).
type Lookup func(ctx context.Context, fqdn string) ([]string, error)

// ApplyOptions configure Apply. Providers is required.
type ApplyOptions struct {
	Providers *providers.Set
	// Delegate is optional; nil writes every record at its own name.
	Delegate Delegator
	// Lookup is the fallback for providers that cannot list records; nil
	// means such providers always get the write.
	Lookup Lookup
	// TTL of the new records; 0 means DefaultTTL.
	TTL time.Duration
}

// zoneKey groups records by provider entry and zone.
type zoneKey struct {
	entry *providers.Entry
	zone  string
}

// Applied is what Apply did with one record.
type Applied struct {
	FQDN string `json:"fqdn"`
	// Target is where the TXT lives (FQDN unless delegated).
	Target   string `json:"target"`
	Provider string `json:"provider"`
	Zone     string `json:"zone"`
	// Created is false when an identical record was already there.
	Created bool `json:"created"`
}

// Apply publishes recs through the configured providers, at most one
// AppendRecords call per zone, skipping every record whose identical value
// already exists at its target (so running it twice writes nothing the
// second time). The records are meant to stay: nothing is journaled and
// nothing is cleaned up. Errors carry exit codes (Usage for routing, DNS for
// provider failures).
func Apply(ctx context.Context, recs []Record, opts ApplyOptions) ([]Applied, error) {
	if opts.Providers == nil {
		return nil, exitcode.With(exitcode.Usage, errors.New("no DNS provider configured; pass --dns to publish the record, or publish it by hand"))
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	out := make([]Applied, len(recs))
	groups := map[zoneKey][]int{}
	existing := map[zoneKey][]libdns.Record{}
	for i, r := range recs {
		target := r.FQDN
		if opts.Delegate != nil {
			t, err := opts.Delegate.Delegate(ctx, r.FQDN)
			if err != nil {
				return nil, exitcode.With(exitcode.DNS, fmt.Errorf("delegation of %s: %w", r.FQDN, err))
			}
			target = strings.ToLower(t)
		}
		route, err := opts.Providers.Route(ctx, target)
		if err != nil {
			return nil, exitcode.With(exitcode.Usage, err)
		}
		k := zoneKey{route.Entry, route.Zone}
		out[i] = Applied{FQDN: r.FQDN, Target: target, Provider: route.Entry.Name, Zone: route.Zone}
		present, err := alreadyThere(ctx, route, target, r.Value, existing, opts.Lookup)
		if err != nil {
			return nil, exitcode.With(exitcode.DNS, err)
		}
		if !present {
			groups[k] = append(groups[k], i)
		}
	}
	keys := make([]zoneKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].zone < keys[j].zone })
	for _, k := range keys {
		var lrecs []libdns.Record
		for _, i := range groups[k] {
			lrecs = append(lrecs, libdns.TXT{Name: libdns.RelativeName(out[i].Target, k.zone), Text: recs[i].Value, TTL: opts.TTL})
		}
		if _, err := k.entry.Provider.AppendRecords(ctx, k.zone, lrecs); err != nil {
			return out, exitcode.With(exitcode.DNS, fmt.Errorf("%s: writing %d dns-persist-01 record(s) in zone %s: %w", k.entry.Name, len(lrecs), strings.TrimSuffix(k.zone, "."), err))
		}
		for _, i := range groups[k] {
			out[i].Created = true
		}
	}
	return out, nil
}

// alreadyThere reports whether value is already a TXT at target: from the
// provider's own list when it can list (cached per zone in seen), else from
// lookup.
func alreadyThere(ctx context.Context, route providers.Target, target, value string, seen map[zoneKey][]libdns.Record, lookup Lookup) (bool, error) {
	if g, ok := route.Entry.Provider.(libdns.RecordGetter); ok {
		k := zoneKey{route.Entry, route.Zone}
		rs, cached := seen[k]
		if !cached {
			var err error
			rs, err = g.GetRecords(ctx, route.Zone)
			if err != nil {
				return false, fmt.Errorf("%s: listing zone %s to avoid a duplicate record: %w", route.Entry.Name, strings.TrimSuffix(route.Zone, "."), err)
			}
			seen[k] = rs
		}
		rel := libdns.RelativeName(target, route.Zone)
		for _, r := range rs {
			rr := r.RR()
			if rr.Type == "TXT" && strings.EqualFold(rr.Name, rel) && unquote(rr.Data) == value {
				return true, nil
			}
		}
		return false, nil
	}
	if lookup == nil {
		return false, nil
	}
	vals, err := lookup(ctx, target)
	if err != nil {
		return false, fmt.Errorf("looking up %s to avoid a duplicate record: %w", target, err)
	}
	for _, v := range vals {
		if v == value {
			return true, nil
		}
	}
	return false, nil
}

// unquote undoes the zone-file quoting some providers keep in RR.Data.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(strings.ReplaceAll(s[1:len(s)-1], `" "`, ""), `\"`, `"`)
	}
	return s
}
