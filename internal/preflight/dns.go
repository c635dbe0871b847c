package preflight

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/resolver"
)

// Endpoint is the probe result of one configured resolver.
type Endpoint struct {
	Resolver resolver.Resolver
	OK       bool
	Row      Row
}

// Endpoints asks every resolver, concurrently, the question the polling
// strategies will ask: TXT, at name (a zone apex, which exists; never a
// challenge name, RFC 2308). A resolver that answers it (NOERROR, NODATA
// or NXDOMAIN) works for issuance, whatever it does with other types; one
// answering SOA with NOTIMP, as some filters do, is no reason to fail. A
// failure's detail is resolver.Diagnose's reason and fix, the words the
// issue path logs when it drops the same endpoint: HTTP 403 (a filtering
// proxy), an untrusted certificate (TLS interception: --ca-cert FILE), a
// timeout, a REFUSED answer. The rows are ok or warn here; StrategyRow
// decides whether the failures sink the strategy. Each question is
// bounded by the resolver's own timeout.
func Endpoints(ctx context.Context, rs []resolver.Resolver, name string) []Endpoint {
	out := make([]Endpoint, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = probe(ctx, r, name)
		}()
	}
	wg.Wait()
	return out
}

func probe(ctx context.Context, r resolver.Resolver, name string) Endpoint {
	check := "resolver " + r.String()
	apex := trimDot(dns.Fqdn(name))
	msg, err := resolver.Query(ctx, r, name, dns.TypeTXT)
	if err != nil {
		return Endpoint{Resolver: r, Row: warn(check, diagnosis(err))}
	}
	switch msg.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
		return Endpoint{Resolver: r, OK: true, Row: ok(check, fmt.Sprintf("answers (TXT %s: %s)", apex, rcodeText(msg)))}
	}
	if reason, fix, known := resolver.DiagnoseRcode(msg.Rcode); known {
		return Endpoint{Resolver: r, Row: warn(check, fmt.Sprintf("%s for TXT %s; %s", reason, apex, fix))}
	}
	return Endpoint{Resolver: r, Row: warn(check, fmt.Sprintf("answered %s for TXT %s; it cannot resolve public names from here", rcodeText(msg), apex))}
}

func rcodeText(msg *dns.Msg) string {
	if msg.Rcode == dns.RcodeSuccess {
		if len(msg.Answer) > 0 {
			return "NOERROR"
		}
		return "NODATA"
	}
	if s, known := dns.RcodeToString[msg.Rcode]; known {
		return s
	}
	return fmt.Sprintf("RCODE %d", msg.Rcode)
}

// diagnosis is resolver.Diagnose in one line: the reason, then the fix.
func diagnosis(err error) string {
	reason, fix := resolver.Diagnose(err)
	if fix == "" {
		return reason
	}
	return reason + "; " + fix
}

// Working returns the resolvers whose probe succeeded, in order.
func Working(eps []Endpoint) []resolver.Resolver {
	var out []resolver.Resolver
	for _, e := range eps {
		if e.OK {
			out = append(out, e.Resolver)
		}
	}
	return out
}

// port53Allowed reports whether the operator allowed plain DNS to port 53:
// the "authoritative" and "resolver" strategies send it by definition,
// "auto" only with allow_port53 (design principle 1).
func port53Allowed(t Target) bool {
	s := strings.ToLower(t.Strategy)
	return s == "authoritative" || s == "resolver" || ((s == "auto" || strings.EqualFold(t.Fallback, "authoritative")) && t.AllowPort53)
}

// Port53 reports whether the authoritative servers of the first record's
// zone answer on port 53. Nothing is sent unless port 53 is allowed
// (port53Allowed); then the zone's NS set is found through the working
// resolvers and each server is asked for the zone's SOA over plain DNS.
// With "resolver" the resolver rows already show whether plain DNS gets
// through. A failure is Fail (exit DNS) for "authoritative", Warn
// otherwise.
func Port53(ctx context.Context, t Target, eps []Endpoint, routes []Route) Row {
	const check = "port 53"
	if !port53Allowed(t) {
		return ok(check, "not probed (port 53 not allowed)")
	}
	if strings.EqualFold(t.Strategy, "resolver") {
		return ok(check, "plain DNS goes only to the configured resolvers; see their rows")
	}
	bad := warn
	if strings.EqualFold(t.Strategy, "authoritative") {
		bad = func(c, d string) Row { return fail(c, exitcode.DNS, d) }
	}
	working := Working(eps)
	if len(working) == 0 {
		return bad(check, "not probed: no resolver answers, so the name servers cannot be found")
	}
	name := probeName(t, routes)
	z, err := resolver.FindZone(ctx, working, name, t.Port, t.DNSOptions.IPv4Only)
	if err != nil {
		return bad(check, fmt.Sprintf("finding the name servers of %s: %v", trimDot(name), err))
	}
	addrs := make([]string, 0, len(z.Servers))
	for a := range z.Servers {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		r, err := resolver.New("udp://"+a, t.DNSOptions)
		if err == nil {
			_, err = resolver.Query(ctx, r, z.Apex, dns.TypeSOA)
		}
		if err != nil {
			host, _, _ := net.SplitHostPort(a)
			reason, _ := resolver.Diagnose(err)
			return bad(check, fmt.Sprintf("name server %s (%s) does not answer on port 53: %s; %s", trimDot(z.Servers[a]), host, reason, propagation.Port53Fix))
		}
	}
	return ok(check, fmt.Sprintf("open: every name server of %s answers (%d addresses)", trimDot(z.Apex), len(addrs)))
}

// StrategyRow says whether the chosen propagation strategy can work from
// here, from the resolver probes, the port-53 probe and the providers. When
// it cannot but the fallback strategy can, the row is Warn; when neither
// can, Fail with exit code DNS.
func StrategyRow(t Target, eps []Endpoint, p53 Row, routes []Route) Row {
	name := strings.ToLower(t.Strategy)
	if name == "" {
		name = "doh"
	}
	check := "propagation " + name
	usable, detail := strategyUsable(name, t, eps, p53, routes)
	if usable {
		if d := decision(t, eps, p53); d != "" && name != "auto" {
			detail += "; runs: " + d
		}
		return ok(check, detail)
	}
	if fb := fallbackName(t); fb != "" {
		if fbOK, fbDetail := strategyUsable(fb, t, eps, p53, routes); fbOK {
			return warn(check, fmt.Sprintf("%s; the fallback %s works: %s", detail, fb, fbDetail))
		}
	}
	return fail(check, exitcode.DNS, detail)
}

// StrategyUsable says whether strategy name can work for t, given the
// resolver endpoints, the port 53 row and the record routes, and why.
func StrategyUsable(name string, t Target, eps []Endpoint, p53 Row, routes []Route) (bool, string) {
	return strategyUsable(name, t, eps, p53, routes)
}

func strategyUsable(name string, t Target, eps []Endpoint, p53 Row, routes []Route) (bool, string) {
	total, up := len(eps), len(Working(eps))
	switch name {
	case "doh", "resolver":
		if total == 0 {
			return false, "no resolver configured; give --resolver"
		}
		if t.Quorum <= 0 {
			// The issue path's default: a majority of those that answer.
			if up == 0 {
				return false, fmt.Sprintf("none of the %d resolvers answers: fix or replace them (see their rows), or use --propagation provider or wait", total)
			}
			return true, fmt.Sprintf("%d of %d resolvers answer (need a majority of those: %d)", up, total, up/2+1)
		}
		if up < t.Quorum {
			return false, fmt.Sprintf("needs %d of %d resolvers, %d answer: drop the failing ones (--resolver), lower --quorum, or use --propagation provider or wait", t.Quorum, total, up)
		}
		return true, fmt.Sprintf("%d of %d resolvers answer (quorum %d)", up, total, t.Quorum)
	case "authoritative":
		if p53.Status != OK {
			return false, "port 53 to the authoritative servers is not usable (see the port 53 row); " + propagation.Port53Fix
		}
		return true, "asks the authoritative servers on port 53"
	case "auto":
		if d := decision(t, eps, p53); d != "" {
			return true, "would use " + d
		}
		return true, "decides at issue time from what answers"
	case "provider":
		if gap := providerReadGap(routes); gap != "" {
			return false, gap + "; use --propagation doh or wait"
		}
		return true, "reads the records back through the provider, then waits the settle delay"
	case "relay":
		return true, "asks the challenge server's /lookup over HTTPS (account from the acme-dns credentials)"
	case "wait":
		return true, "waits a fixed delay after the last write; sends no DNS"
	case "none":
		return true, "no check: only right when the records are live at once (your own authoritative server)"
	}
	return false, fmt.Sprintf("unknown strategy %q", name)
}

// providerReadGap says what keeps the provider strategy from reading every
// routed record back: the first name with no provider, with no zone found,
// or whose provider cannot list records (no libdns.RecordGetter). It is ""
// when nothing does.
func providerReadGap(routes []Route) string {
	if len(routes) == 0 {
		return "no record to read back (no identifier)"
	}
	for _, r := range routes {
		target := trimDot(r.Target)
		switch {
		case r.Entry == nil:
			return "no provider serves " + target
		case r.Zone == "":
			return fmt.Sprintf("provider %s did not find the zone of %s", r.Entry.Name, target)
		}
		if _, can := r.Entry.Provider.(libdns.RecordGetter); !can {
			return fmt.Sprintf("provider %s cannot read records back (for %s)", r.Entry.Name, target)
		}
	}
	return ""
}

// strategyOf is the strategy issue would run for t: t.Propagation, or the
// one propagation.Build makes from t's settings and what its providers
// declare (serving lag, read-back).
func strategyOf(t Target) (propagation.Strategy, error) {
	if t.Propagation != nil {
		return t.Propagation, nil
	}
	cfg := propagation.Config{Resolvers: t.Resolvers, Quorum: t.Quorum, ResolverOptions: t.DNSOptions}.WithProviders(t.Providers)
	return propagation.Build(propagation.Choice{Strategy: t.Strategy, Fallback: t.Fallback, AllowPort53: t.AllowPort53}, cfg)
}

// decision is the one-line decision issue would log for t, with "auto"
// decided by propagation.Decide from this check's probes; "" when the
// strategy cannot be built (its row says why).
func decision(t Target, eps []Endpoint, p53 Row) string {
	s, err := strategyOf(t)
	if err != nil {
		return ""
	}
	f := propagation.Facts{Working: Working(eps), Total: len(eps), Port53: port53Allowed(t) && p53.Status == OK && len(Working(eps)) > 0}
	for _, e := range eps {
		if !e.OK {
			f.Failed = append(f.Failed, e.Resolver.String()+": "+e.Row.Detail)
		}
	}
	chosen, why, err := propagation.Decide(s, f)
	if err != nil {
		return ""
	}
	if why != "" {
		return propagation.Describe(chosen) + " (" + why + ")"
	}
	return propagation.Describe(chosen)
}

// fallbackName is --propagation-fallback, or the fallback issue adds by
// default (the provider read-back), or "".
func fallbackName(t Target) string {
	if t.Fallback != "" {
		return strings.ToLower(t.Fallback)
	}
	if s, err := strategyOf(t); err == nil {
		if f, ok := s.(propagation.Fallback); ok && len(f.Strategies) > 1 {
			return f.Strategies[1].Name()
		}
	}
	return ""
}
