// Package propagation decides when the CA will be able to see the challenge
// records that were just written: the "learn when it is visible" job of a
// DNS-01 client. Strategies plug in behind one small interface.
//
// # Resolvers that cannot be used
//
// The polling strategies ask several recursive resolvers. On the networks
// this tool is for, some of them are blocked: refused or reset, silently
// dropped, answered with HTTP 403 by a filtering proxy, intercepted by a
// TLS proxy, or answered REFUSED. Each endpoint is given a bounded number
// of tries (DefaultMaxFailures for a verdict such as 403, REFUSED or a TLS
// failure; DefaultMaxUnreachable for a path that fails), then dropped with
// its reason and the fix in the log, and the check goes on with the rest.
// When none is left the check ends at once with every reason, instead of
// polling to the deadline; a Fallback then hands over to the next strategy.
//
// # Quorum
//
// By default a majority of the endpoints that answer must see every
// record, at least one. "Of those that answer" because requiring a blocked
// resolver would sink every check on a network that blocks it; "a
// majority" because an endpoint that answers but shows no record yet (a
// stale cache, a filtered view) counts against the others, so one
// resolver's view alone never decides while there are others to ask. The
// authoritative strategy asks every name server and needs all of them.
// Config.Quorum sets a fixed number instead.
package propagation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/resolver"
)

// Record is one TXT value that must become visible at an FQDN.
type Record struct {
	// FQDN is the absolute name the CA will query (after delegation), with
	// the trailing dot, lower case, A-labels.
	FQDN string
	// Value is the TXT value (for dns-01, the base64url digest, RFC 8555 §8.4).
	Value string
}

// Strategy waits until every record is visible, the context ends, or it can
// tell the records will not become visible in time.
//
// written is the time of the last successful provider write: a strategy MUST
// NOT send a query for any record's FQDN before it is called (callers call it
// only after the write succeeded: RFC 2308 negative caching, case PR10), and
// any fixed wait is measured from written, not from the call (case PR12).
// Wait reports progress through the Observer, which may be nil.
type Strategy interface {
	Wait(ctx context.Context, recs []Record, written time.Time, obs Observer) error
	// Name is the strategy's name as accepted by --propagation.
	Name() string
}

// Observer receives one line per noteworthy event (a resolver saw NXDOMAIN
// with a remaining negative-cache time, an endpoint failed and was dropped,
// all records visible). It MUST be safe for concurrent use.
type Observer func(event string)

// DefaultWaitDelay is the "wait" strategy's delay when Config.Delay is zero.
// Slow providers need longer; their documentation says how long (PR03).
const DefaultWaitDelay = 2 * time.Minute

// Config holds the settings of every strategy; ByName reads the fields its
// strategy uses and ignores the others.
type Config struct {
	// Resolvers are used by "doh" and "resolver" as they are. When empty,
	// ResolverSpecs are built with resolver.New and ResolverOptions.
	Resolvers []resolver.Resolver
	// ResolverSpecs are endpoint specs (see resolver.New). For "doh" every
	// endpoint must be https:// (no silent fallback to port 53, case
	// PR05); empty means resolver.Defaults. "resolver" needs at least one.
	ResolverSpecs   []string
	ResolverOptions resolver.Options
	// Quorum is how many resolvers must see every record; 0 means a
	// majority of those that answer, at least one (see Poll).
	Quorum int
	// Delay is the fixed delay of "wait" (0 means DefaultWaitDelay) and the
	// settle delay of "provider" (0 means none), both measured from the
	// last write.
	Delay time.Duration
	// Timeout bounds a polling check, measured on Clock; 0 means only the
	// caller's context does.
	Timeout time.Duration
	// PollInitial and PollMax shape the backoff between polls (defaults
	// DefaultPollInitial, DefaultPollMax).
	PollInitial, PollMax time.Duration
	// MaxFailures in a row (TLS failures, HTTP 4xx, REFUSED) drop a
	// resolver; 0 means DefaultMaxFailures. MaxUnreachable failures in a
	// row of any kind drop it too; 0 means DefaultMaxUnreachable.
	MaxFailures, MaxUnreachable int
	// FailFast gives up early when cached negative answers will outlive
	// the time left (see Poll.FailFast).
	FailFast bool
	// Clock is used for every pause; nil means Real.
	Clock Clock
	// Getter and ZoneOf are what "provider" reads the zones through; nil
	// when no provider can read records back.
	Getter libdns.RecordGetter
	ZoneOf func(fqdn string) (zone string, err error)
	// ReadBack says every provider can read records back through Getter
	// (providers.Set.Capability): only then do the polling strategies
	// confirm the write and fall back through it by default.
	ReadBack bool
	// Lag is the providers' declared serving lag (providers.ServingLagger):
	// how long after a write their authoritative servers answer with it.
	// Polling strategies ask no caching resolver before it has passed.
	Lag time.Duration
	// Relay is the "relay" strategy, built by the caller (it holds an
	// account on the challenge server); required for that name only.
	Relay *Relay
}

// strategies maps each --propagation name to its constructor. This is the
// extension point: a new strategy (the planned "authoritative", which asks
// a zone's authoritative servers when port 53 is allowed, and "auto", which
// picks one from what the network allows) is one entry here; remove it
// from planned at the same time.
var strategies = map[string]func(Config) (Strategy, error){
	"doh":      func(c Config) (Strategy, error) { return newPoll("doh", c) },
	"resolver": func(c Config) (Strategy, error) { return newPoll("resolver", c) },
	"wait":     newWait,
	"none":     func(Config) (Strategy, error) { return None{}, nil },
	"provider": newProvider,
}

// planned names are accepted words that are not built yet.
var planned = []string{"authoritative", "auto"}

// Names returns the strategy names ByName accepts, sorted.
func Names() []string {
	names := make([]string, 0, len(strategies))
	for n := range strategies {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ByName returns the strategy called name (case-insensitive): doh,
// resolver, wait, none or provider, configured from cfg. It sends nothing.
// The error names the bad setting and the fix.
func ByName(name string, cfg Config) (Strategy, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if mk, ok := strategies[n]; ok {
		return mk(cfg)
	}
	if slices.Contains(planned, n) {
		return nil, fmt.Errorf("propagation %q is not available yet; use one of %s", name, strings.Join(Names(), ", "))
	}
	return nil, fmt.Errorf("unknown propagation strategy %q; use one of %s", name, strings.Join(Names(), ", "))
}

func newPoll(name string, c Config) (Strategy, error) {
	rs := c.Resolvers
	if len(rs) == 0 {
		specs := c.ResolverSpecs
		if len(specs) == 0 {
			if name != "doh" {
				return nil, fmt.Errorf("propagation %s: no resolvers configured; list at least one (e.g. udp://192.0.2.53 or tls://dns.example)", name)
			}
			specs = resolver.Defaults
		}
		for _, s := range specs {
			r, err := resolver.New(s, c.ResolverOptions)
			if err != nil {
				return nil, fmt.Errorf("propagation %s: %w", name, err)
			}
			rs = append(rs, r)
		}
	}
	if name == "doh" {
		for _, r := range rs {
			if !strings.HasPrefix(strings.ToLower(r.String()), "https://") {
				return nil, fmt.Errorf("propagation doh: %q is not a DoH endpoint; use an https:// URL, or the \"resolver\" strategy to allow plain DNS", r.String())
			}
		}
	}
	if c.Quorum < 0 || c.Quorum > len(rs) {
		return nil, fmt.Errorf("propagation %s: quorum %d out of range 1..%d (number of resolvers); 0 means a majority of those that answer", name, c.Quorum, len(rs))
	}
	return &Poll{
		StrategyName:   name,
		Resolvers:      rs,
		Quorum:         c.Quorum,
		Timeout:        c.Timeout,
		PollInitial:    c.PollInitial,
		PollMax:        c.PollMax,
		MaxFailures:    c.MaxFailures,
		MaxUnreachable: c.MaxUnreachable,
		FailFast:       c.FailFast,
		Clock:          c.Clock,
	}, nil
}

func newWait(c Config) (Strategy, error) {
	if c.Delay < 0 {
		return nil, fmt.Errorf("propagation wait: negative delay %s", c.Delay)
	}
	d := c.Delay
	if d == 0 {
		d = DefaultWaitDelay
	}
	return FixedDelay{Delay: d, Clock: c.Clock}, nil
}

func newProvider(c Config) (Strategy, error) {
	if c.Getter == nil {
		return nil, errors.New("propagation provider: the DNS provider cannot list records (no libdns RecordGetter); use doh or wait")
	}
	if c.ZoneOf == nil {
		return nil, errors.New("propagation provider: no FQDN-to-zone mapping configured")
	}
	if c.Delay < 0 {
		return nil, fmt.Errorf("propagation provider: negative settle delay %s", c.Delay)
	}
	return &ProviderCheck{
		Getter:      c.Getter,
		ZoneOf:      c.ZoneOf,
		Settle:      c.Delay,
		Timeout:     c.Timeout,
		PollInitial: c.PollInitial,
		PollMax:     c.PollMax,
		Clock:       c.Clock,
	}, nil
}
