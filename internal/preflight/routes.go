package preflight

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/delegation"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/providers"
	execprovider "github.com/strictacme/strictacme/provider/exec"
	"github.com/strictacme/strictacme/provider/namecheap"
)

// Route is where the TXT record of one challenge name would be written.
type Route struct {
	// Challenge is "_acme-challenge.<domain>." (dns-01, RFC 8555 §8.4).
	Challenge string
	// Target is the name the record is written at after delegation.
	Target string
	// Chain is the CNAME chain from Challenge to Target as seen through
	// the resolvers, "" when there is no delegation.
	Chain string
	// Entry is the provider that would write it; nil when none matches.
	Entry *providers.Entry
	// Zone is the zone it would be written into; "" when unknown.
	Zone string
	// Err is why the record could not be placed (delegation refused,
	// delegation CNAME missing, no provider for the zone), with Code the
	// exit code issuance would end with.
	Err  error
	Code int
	// ProviderErr is the provider's failure to find the zone (reported
	// on the provider's row).
	ProviderErr error
}

// Routes computes the Route of every challenge name of t, in identifier
// order, once per name (a name and its wildcard share one). It asks the
// delegation exactly as the issue path does; when a name is delegated, it
// also reads the CNAME chain at the challenge name through t.Resolvers to
// confirm the CA will be led to the target (a static alias needs that
// CNAME too), with delegation.Verify as issue does, asking type CNAME
// only. An undelegated challenge name is never queried.
func Routes(ctx context.Context, t Target) []Route {
	var out []Route
	seen := map[string]bool{}
	for _, id := range t.Identifiers {
		domain := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(id, "*."), "."))
		name := delegation.ChallengeLabel + "." + domain + "."
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, route(ctx, t, name))
	}
	return out
}

func route(ctx context.Context, t Target, name string) Route {
	r := Route{Challenge: name, Target: name}
	if t.Delegate != nil {
		target, err := t.Delegate.Delegate(ctx, name)
		if err != nil {
			r.Err, r.Code = err, exitcode.DNS
			if m := (interface{ MissingRecord() bool })(nil); errors.As(err, &m) && m.MissingRecord() {
				r.Code = exitcode.Missing
			}
			return r
		}
		r.Target = strings.ToLower(target)
	}
	if r.Target != name {
		// The delegator read the chain itself (an existing CNAME, or a
		// static rule it verified): the same answer issue acts on.
		if c, has := t.Delegate.(interface {
			Chain(string) *delegation.Chain
		}); has {
			if ch := c.Chain(name); ch != nil {
				r.Chain = ch.String()
			}
		}
		switch {
		case r.Chain != "":
		case len(t.Resolvers) == 0:
			r.Chain = "(CNAME not checked: no resolver configured)"
		default:
			ch, err := delegation.Verify(ctx, t.Resolvers, name, r.Target, nil)
			var m interface{ MissingRecord() bool }
			switch {
			case errors.As(err, &m) && m.MissingRecord():
				r.Err, r.Code = err, exitcode.Missing
				return r
			case err != nil:
				r.Err, r.Code = err, exitcode.DNS
				return r
			}
			r.Chain = ch.String()
		}
	}
	if t.Providers == nil {
		r.Err, r.Code = errors.New("no DNS provider configured; pass --dns or give the certificate a provider"), exitcode.Usage
		return r
	}
	r.Entry = entryFor(t.Providers, r.Target)
	tgt, err := t.Providers.Route(ctx, r.Target)
	switch {
	case err != nil && r.Entry == nil:
		r.Err, r.Code = err, exitcode.Usage
	case err != nil:
		r.ProviderErr = err
	default:
		r.Entry, r.Zone = tgt.Entry, tgt.Zone
	}
	return r
}

// entryFor is the entry Set.Route tries for fqdn (longest matching
// suffix), nil when none matches.
func entryFor(s *providers.Set, fqdn string) *providers.Entry {
	fqdn = strings.ToLower(strings.TrimSuffix(fqdn, ".")) + "."
	for _, e := range s.Entries() {
		if e.Suffix == "" || e.Suffix == "." || fqdn == e.Suffix || strings.HasSuffix(fqdn, "."+e.Suffix) {
			return e
		}
	}
	return nil
}

// DelegationRows gives one row per challenge name:
// "_acme-challenge.x → target (zone Z via provider P)", or the reason the
// record cannot be placed.
func DelegationRows(routes []Route) []Row {
	var rows []Row
	for _, r := range routes {
		check := "TXT for " + strings.TrimSuffix(strings.TrimPrefix(r.Challenge, delegation.ChallengeLabel+"."), ".")
		if r.Err != nil {
			rows = append(rows, fail(check, r.Code, oneLine(r.Err.Error())))
			continue
		}
		where := trimDot(r.Challenge) + " → " + trimDot(r.Target)
		if r.Chain != "" {
			where += " [" + r.Chain + "]"
		}
		switch {
		case r.ProviderErr != nil:
			rows = append(rows, warn(check, fmt.Sprintf("%s (zone unknown: provider %s failed, see its row)", where, r.Entry.Name)))
		default:
			rows = append(rows, ok(check, fmt.Sprintf("%s (zone %s via provider %s)", where, trimDot(r.Zone), r.Entry.Name)))
		}
	}
	return rows
}

// ProviderRows checks each provider the routes use: that it found the zone
// and, where it can read records (libdns.RecordGetter), that it can read
// the zone — never a write. Namecheap rows show the ClientIp sent; an exec
// provider's program is checked to exist and be executable.
func ProviderRows(ctx context.Context, set *providers.Set, routes []Route) []Row {
	return providerRows(ctx, set, routes, nil)
}

// providerRows is ProviderRows naming each provider setting by setting
// (Target.Setting); nil names it by its config key.
func providerRows(ctx context.Context, set *providers.Set, routes []Route, setting func(provider, key string) string) []Row {
	if setting == nil {
		setting = func(_, key string) string { return key }
	}
	if set == nil {
		return nil
	}
	var rows []Row
	for _, e := range set.Entries() {
		var zones []string
		var findErr error
		for _, r := range routes {
			if r.Entry != e {
				continue
			}
			if r.ProviderErr != nil && findErr == nil {
				findErr = r.ProviderErr
			}
			if r.Zone != "" && !slices.Contains(zones, r.Zone) {
				zones = append(zones, r.Zone)
			}
		}
		if findErr == nil && len(zones) == 0 {
			continue
		}
		check := "provider " + e.Name
		if p, isExec := e.Provider.(*execprovider.Provider); isExec {
			rows = append(rows, ProgramRow(check, setting(e.Name, "program"), p.Program))
			continue
		}
		ip := clientIPNote(ctx, e.Provider)
		if findErr != nil {
			rows = append(rows, fail(check, exitcode.DNS, providerFailure(e.Name, findErr)))
		}
		for _, z := range zones {
			rows = append(rows, ReadZone(ctx, e, z, ip))
		}
	}
	return rows
}

// ReadZone reads zone through e's provider (libdns.RecordGetter) without
// writing. note is appended to the detail (e.g. the ClientIp sent).
func ReadZone(ctx context.Context, e *providers.Entry, zone, note string) Row {
	check := "provider " + e.Name
	g, canRead := e.Provider.(libdns.RecordGetter)
	if !canRead {
		if _, asked := e.Provider.(providers.ZoneFinder); asked && e.Zone == "" {
			// The zone came from the provider's own service, so its
			// credentials answered; the right to write is what is untested.
			return warn(check, fmt.Sprintf("zone %s found through the provider; it cannot read records, so its right to write can only be tested by writing (not done)", trimDot(zone)))
		}
		return warn(check, fmt.Sprintf("zone %s; this provider cannot read records, so its credentials can only be tested by writing (not done)", trimDot(zone)))
	}
	recs, err := g.GetRecords(ctx, zone)
	if err != nil {
		return fail(check, exitcode.DNS, providerFailure(e.Name, err))
	}
	return ok(check, fmt.Sprintf("zone %s readable (%d records)%s", trimDot(zone), len(recs), note))
}

// clientIPNote returns "; ClientIp a.b.c.d (source) accepted" for a
// provider that reports the ClientIp it sends (Namecheap), "" otherwise.
// It is called before the zone is read; "accepted" is only claimed by a
// successful read, so the note is appended to ok rows only.
func clientIPNote(ctx context.Context, p any) string {
	c, has := p.(interface {
		ClientIP(context.Context) (ip, source string, err error)
	})
	if !has {
		return ""
	}
	ip, source, err := c.ClientIP(ctx)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("; ClientIp %s (%s) accepted", ip, source)
}

// providerFailure is the one-line detail of a provider error: Namecheap's
// own errors already say what to fix (1011150 names the ClientIp and the
// whitelist page); an API that was not reached at all (exitcode.Unreached:
// name, TCP or TLS) is said to be unreachable; others get a hint about the
// credentials and the zone.
func providerFailure(name string, err error) string {
	var ae *namecheap.APIError
	if errors.As(err, &ae) {
		if ae.Number == namecheap.ErrInvalidRequestIP {
			return oneLine(fmt.Sprintf("ClientIp %s is not whitelisted: %v", ae.ClientIP, err))
		}
		return oneLine(err.Error())
	}
	if exitcode.Unreached(err) {
		// Nothing answered: the credentials were never looked at.
		return oneLine(fmt.Sprintf("%v; the API endpoint of provider %s is unreachable: check its URL and that this machine can connect to it (proxy, firewall)", err, name))
	}
	return oneLine(fmt.Sprintf("%v; check the credentials of provider %s and that its account holds the zone", err, name))
}

// ProgramRow checks the program of an exec provider, which the user set
// as setting (the config key program, or EXEC_PATH): it must exist and be
// something the system starts (execprovider.CheckProgram, as the provider
// itself decides). Its own credentials cannot be probed without writing a
// record, and the row says so. A problem is a Fail with exit code Usage.
func ProgramRow(check, setting, program string) Row {
	if err := execprovider.CheckProgram(program); err != nil {
		return fail(check, exitcode.Usage, fmt.Sprintf("%s %s: %v", setting, program, err))
	}
	return ok(check, fmt.Sprintf("%s %s can be started; it cannot be probed without writing a record, so its own credentials are not tested", setting, program))
}

func trimDot(s string) string { return strings.TrimSuffix(s, ".") }

// oneLine folds a multi-line message into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
