package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
)

// CAASet is the relevant CAA RRset of a name (RFC 8659 §3).
type CAASet struct {
	// Owner is the name the RRset was found at (the name itself or the
	// closest ancestor with CAA records); "" when there is none.
	Owner   string
	Records []*dns.CAA
}

// FindCAA returns the relevant CAA RRset for name (a leading "*." is
// dropped) as RFC 8659 §3 defines it: the CAA RRset at the name, else at
// its parent, and so on. Aliases are followed by the resolver (a CNAME in
// the answer leads to the CAA records of its target, RFC 8659 §3). The
// climb stops at the registered domain: a public suffix ("com.",
// "co.uk.") is not asked, as no registrant can publish CAA there. Each
// question goes to rs in order, the next one on a transport failure. An
// answer other than NOERROR/NXDOMAIN is an error: the CA cannot issue
// when its own CAA lookup fails either.
func FindCAA(ctx context.Context, rs []resolver.Resolver, name string) (CAASet, error) {
	cur := strings.ToLower(dns.Fqdn(strings.TrimPrefix(name, "*.")))
	stop, err := providers.RegisteredDomain(cur)
	if err != nil {
		stop = cur
	}
	for {
		msg, err := askCAA(ctx, rs, cur)
		if err != nil {
			return CAASet{}, err
		}
		var set []*dns.CAA
		for _, rr := range msg.Answer {
			if c, isCAA := rr.(*dns.CAA); isCAA {
				set = append(set, c)
			}
		}
		if len(set) > 0 {
			return CAASet{Owner: cur, Records: set}, nil
		}
		if cur == stop {
			return CAASet{}, nil
		}
		off, end := dns.NextLabel(cur, 0)
		if end {
			return CAASet{}, nil
		}
		cur = cur[off:]
	}
}

func askCAA(ctx context.Context, rs []resolver.Resolver, name string) (*dns.Msg, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("no resolver answers")
	}
	var errs []string
	for _, r := range rs {
		msg, err := resolver.Query(ctx, r, name, dns.TypeCAA)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
			errs = append(errs, fmt.Sprintf("%s: %s for %s CAA", r, dns.RcodeToString[msg.Rcode], name))
			continue
		}
		return msg, nil
	}
	return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
}

// Permits reports whether the CAA RRset set lets a CA whose issuer domain
// names are identities issue for a name (RFC 8659 §4):
//
//   - an unknown property tag with the issuer critical flag (128) forbids
//     issuance (§4.1);
//   - for a wildcard name the issuewild properties decide when there is at
//     least one, else the issue properties (§4.3); for other names only
//     issue (§4.2);
//   - no property of the deciding tag permits every CA; otherwise one
//     property must name one of identities (case-insensitive); ";" alone
//     names no CA;
//   - parameters (RFC 8657): validationmethods must list one of methods
//     when present; accounturi must equal accountURL when both are known
//     (an unknown account is given the benefit of the doubt, in note).
//
// why is one line for the report.
func Permits(set []*dns.CAA, identities []string, wildcard bool, methods []string, accountURL string) (permitted bool, why string) {
	if len(set) == 0 {
		return true, "no CAA records: any CA may issue"
	}
	for _, c := range set {
		tag := strings.ToLower(c.Tag)
		if c.Flag&128 != 0 && tag != "issue" && tag != "issuewild" && tag != "iodef" {
			return false, fmt.Sprintf("critical CAA property %q is not understood by CAs (RFC 8659 §4.1); remove it or clear its critical flag", c.Tag)
		}
	}
	tag := "issue"
	if wildcard && slices.ContainsFunc(set, func(c *dns.CAA) bool { return strings.EqualFold(c.Tag, "issuewild") }) {
		tag = "issuewild"
	}
	var allowed []string
	note := ""
	for _, c := range set {
		if !strings.EqualFold(c.Tag, tag) {
			continue
		}
		issuer, params := parseCAAValue(c.Value)
		if issuer == "" {
			allowed = append(allowed, `";"`)
			continue
		}
		allowed = append(allowed, issuer)
		if !slices.ContainsFunc(identities, func(id string) bool { return strings.EqualFold(strings.TrimSuffix(id, "."), issuer) }) {
			continue
		}
		if vm, has := params["validationmethods"]; has && !slices.ContainsFunc(strings.Split(vm, ","), func(m string) bool {
			return slices.Contains(methods, strings.ToLower(strings.TrimSpace(m)))
		}) {
			note = fmt.Sprintf("; the %s property for %s allows only validationmethods=%s", tag, issuer, vm)
			continue
		}
		if au, has := params["accounturi"]; has {
			if accountURL != "" && au != accountURL {
				note = fmt.Sprintf("; the %s property for %s is bound to account %s, not %s", tag, issuer, au, accountURL)
				continue
			}
			if accountURL == "" {
				return true, fmt.Sprintf("%s %s permits it if the new account is %s", tag, issuer, au)
			}
		}
		return true, fmt.Sprintf("%s %q permits %s", tag, c.Value, issuer)
	}
	if len(allowed) == 0 {
		return true, fmt.Sprintf("no %s property: any CA may issue", tag)
	}
	return false, fmt.Sprintf("%s allows only %s, and the CA is %s%s", tag, strings.Join(allowed, ", "), strings.Join(identities, ", "), note)
}

// parseCAAValue splits an issue/issuewild value into the issuer domain name
// (lower case, "" for none) and its parameters (RFC 8659 §4.2: name;
// key=value; …).
func parseCAAValue(v string) (issuer string, params map[string]string) {
	parts := strings.Split(v, ";")
	issuer = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(parts[0]), "."))
	params = map[string]string{}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if k != "" {
			params[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(val)
		}
	}
	return issuer, params
}

// CAA checks that the CAA records of identifier let the CA issue, through
// rs (the working resolvers of the chosen transport). Without
// caaIdentities in the directory the check cannot be made (Warn). A
// forbidding RRset is a Fail with exit code CA.
func CAA(ctx context.Context, rs []resolver.Resolver, identifier string, dir *Dir, methods []string, accountURL string) Row {
	check := "CAA " + identifier
	if dir == nil {
		return warn(check, "not checked: the CA directory could not be read")
	}
	ids := dir.Meta.CAAIdentities
	if len(ids) == 0 {
		return warn(check, "the CA directory lists no caaIdentities, so CAA cannot be checked; if the name has CAA records, make sure they name this CA")
	}
	if len(rs) == 0 {
		return warn(check, "not checked: no resolver answers")
	}
	set, err := FindCAA(ctx, rs, identifier)
	if err != nil {
		return fail(check, exitcode.DNS, fmt.Sprintf("CAA lookup failed (%s); the CA refuses to issue when its own lookup fails", oneLine(err.Error())))
	}
	permitted, why := Permits(set.Records, ids, strings.HasPrefix(identifier, "*."), methods, accountURL)
	if set.Owner != "" {
		why = "at " + trimDot(set.Owner) + ": " + why
	}
	if !permitted {
		return fail(check, exitcode.CA, why+fmt.Sprintf("; add the record %s CAA 0 %s %q beside them (RFC 8659 §4.2)", set.Owner, tagFor(identifier, set.Records), ids[0]))
	}
	return ok(check, why)
}

func tagFor(identifier string, set []*dns.CAA) string {
	if strings.HasPrefix(identifier, "*.") && slices.ContainsFunc(set, func(c *dns.CAA) bool { return strings.EqualFold(c.Tag, "issuewild") }) {
		return "issuewild"
	}
	return "issue"
}
