package delegation

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/provider/acmedns"
)

// AcmeDNSCheck says how to check that a domain delegates its challenge
// name to an acme-dns account (the record "strictacme register" prints).
type AcmeDNSCheck struct {
	// Client talks to Server.
	Client *http.Client
	// Server is the challenge server's API URL; an account's own
	// ServerURL takes its place.
	Server string
	// Resolvers returns the resolvers to ask when Server has no /lookup
	// (acme-dns itself); it is called only then.
	Resolvers func() ([]resolver.Resolver, error)
	// Probe makes the random label of Verify's wildcard test; nil means
	// RandomProbeLabel.
	Probe func() string
}

// InPlace reports whether _acme-challenge.<domain> has a CNAME to
// acc.FullDomain. A strictacme serve answers through its /lookup, which
// asks every authoritative server of the zone directly: all of them must
// have it. A server without /lookup (HTTP 404 or 405) leaves the question
// to Verify through c.Resolvers. When it is not in place, why says what is
// missing or what failed, in one line.
func (c AcmeDNSCheck) InPlace(ctx context.Context, acc acmedns.Account, domain string) (ok bool, why string) {
	name := acmedns.ChallengeName(domain)
	res, err := acmedns.Lookup(ctx, c.Client, acc, c.Server, name, "CNAME")
	var ae *acmedns.APIError
	switch {
	case err == nil:
		ok, missing := acmedns.CNAMEStatus(res, acc.FullDomain)
		if ok {
			return true, ""
		}
		if len(res.Servers) == 0 {
			return false, "no authoritative servers found"
		}
		return false, "not at " + strings.Join(missing, ", ")
	case errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusMethodNotAllowed):
		// acme-dns: no /lookup; ask the resolvers.
	default:
		return false, err.Error()
	}
	rs, err := c.Resolvers()
	if err != nil {
		return false, err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := Verify(ctx, rs, name, acc.FullDomain, c.Probe); err != nil {
		return false, err.Error()
	}
	return true, ""
}
