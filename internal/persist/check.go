package persist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/resolver"
)

// View is what one resolver sees at one record's name.
type View struct {
	Resolver string `json:"resolver"`
	// Values are the TXT values seen (empty for NXDOMAIN/NODATA).
	Values []string `json:"values"`
	// Authorizes is true when one of Values authorizes the account.
	Authorizes bool `json:"authorizes"`
	// Reason says why not, or names the transport error.
	Reason string `json:"reason,omitempty"`
	// Failed is true for a transport failure (no answer at all).
	Failed bool `json:"failed,omitempty"`
}

// Checked is the verdict for one record.
type Checked struct {
	FQDN  string `json:"fqdn"`
	Views []View `json:"views"`
	// OK is true when every resolver that answered sees a record that
	// authorizes the account, and at least one answered.
	OK bool `json:"ok"`
}

// CheckOptions configure Check. Resolvers is required.
type CheckOptions struct {
	Resolvers []resolver.Resolver
	// Issuers are the CA's issuer domain names.
	Issuers []string
	// AccountURI is the account that must be authorized.
	AccountURI string
	// Now is the time persistUntil is compared with; zero means time.Now.
	Now time.Time
}

// Check asks every resolver for TXT at each record's name and decides, as
// the CA would (draft-ietf-acme-dns-persist-00 §4), whether a value there
// authorizes the account for the record's names (policy=wildcard needed
// when the record covers a wildcard; persistUntil not passed). It returns
// one Checked per record and, when any is not OK, an error whose exit code
// is Missing (answers seen, none authorizes) or DNS (no resolver answered).
func Check(ctx context.Context, recs []Record, opts CheckOptions) ([]Checked, error) {
	if len(opts.Resolvers) == 0 {
		return nil, exitcode.With(exitcode.Usage, errors.New("no resolver configured; pass --resolver"))
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	out := make([]Checked, len(recs))
	var missing, failed []string
	for i, r := range recs {
		c := Look(ctx, opts.Resolvers, r.FQDN, func(values []string) string {
			return verdict(values, r, opts.Issuers, opts.AccountURI, now)
		})
		switch {
		case c.OK:
		case !c.Answered():
			failed = append(failed, fmt.Sprintf("%s: %s", r.FQDN, firstReason(c.Views)))
		default:
			missing = append(missing, fmt.Sprintf("%s: %s", r.FQDN, firstReason(c.Views)))
		}
		out[i] = c
	}
	if len(missing) > 0 {
		return out, exitcode.With(exitcode.Missing, fmt.Errorf("dns-persist-01 record not in place: %s", strings.Join(missing, "; ")))
	}
	if len(failed) > 0 {
		return out, exitcode.With(exitcode.DNS, fmt.Errorf("no resolver answered: %s", strings.Join(failed, "; ")))
	}
	return out, nil
}

// Look is the one answer to "is the dns-persist-01 record in place" (used by
// persist --check and by the order flow before it initiates the
// challenge): it asks every resolver for TXT at fqdn, and verdict says of
// the values each one sees why they do not authorize ("" when they do). The
// record is in place (OK) when at least one resolver answered and every
// resolver that answered sees an authorizing value: a resolver still
// showing an old or no record is a sign the CA may see one too.
func Look(ctx context.Context, rs []resolver.Resolver, fqdn string, verdict func(values []string) string) Checked {
	c := Checked{FQDN: fqdn}
	answered, authorized := 0, 0
	for _, res := range rs {
		v := View{Resolver: res.String()}
		msg, err := resolver.Query(ctx, res, fqdn, dns.TypeTXT)
		switch {
		case err != nil:
			v.Failed, v.Reason = true, err.Error()
		case msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError:
			v.Failed, v.Reason = true, fmt.Sprintf("answered %s", dns.RcodeToString[msg.Rcode])
		default:
			answered++
			v.Values = resolver.TXTValues(msg, fqdn)
			if v.Values == nil {
				v.Values = []string{}
			}
			v.Reason = verdict(v.Values)
			if v.Reason == "" {
				v.Authorizes = true
				authorized++
			}
		}
		c.Views = append(c.Views, v)
	}
	c.OK = answered > 0 && authorized == answered
	return c
}

// ResolverLookup is a Lookup through rs: the TXT values at fqdn as the
// first resolver that answers sees them (Apply's fallback for providers
// that cannot list records). nil when rs is empty. The error joins every
// resolver's failure.
func ResolverLookup(rs []resolver.Resolver) Lookup {
	if len(rs) == 0 {
		return nil
	}
	return func(ctx context.Context, fqdn string) ([]string, error) {
		var errs []error
		for _, r := range rs {
			msg, err := resolver.Query(ctx, r, fqdn, dns.TypeTXT)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			return resolver.TXTValues(msg, fqdn), nil
		}
		return nil, errors.Join(errs...)
	}
}

// Answered reports whether any resolver answered.
func (c Checked) Answered() bool {
	for _, v := range c.Views {
		if !v.Failed {
			return true
		}
	}
	return false
}

// Reasons lists, per resolver, why the record is not in place.
func (c Checked) Reasons() string {
	var out []string
	for _, v := range c.Views {
		if !v.Authorizes && v.Reason != "" {
			out = append(out, v.Resolver+": "+v.Reason)
		}
	}
	return strings.Join(out, "; ")
}

// verdict returns "" when one of values authorizes accountURI for r's names
// with a CA accepting issuers at now, else why not.
func verdict(values []string, r Record, issuers []string, accountURI string, now time.Time) string {
	if len(values) == 0 {
		return "no TXT record; publish it (strictacme persist --apply) or wait for caches to expire"
	}
	if _, err := challenge.FindAuthorizing(values, issuers, accountURI, r.Wildcard, now); err != nil {
		return err.Error()
	}
	return ""
}

func firstReason(vs []View) string {
	for _, v := range vs {
		if !v.Authorizes && v.Reason != "" {
			return v.Resolver + ": " + v.Reason
		}
	}
	return "not authorized"
}
