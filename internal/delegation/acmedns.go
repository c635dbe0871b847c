package delegation

import (
	"context"
	"errors"
	"fmt"
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
// acc.FullDomain (Check); when it is not in place, why says what is missing
// or what failed, in one line.
func (c AcmeDNSCheck) InPlace(ctx context.Context, acc acmedns.Account, domain string) (ok bool, why string) {
	if err := c.Check(ctx, acc, domain); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// Check returns nil when _acme-challenge.<domain> has a CNAME to
// acc.FullDomain. A strictacme serve answers through its /lookup, which
// asks every authoritative server of the zone directly: all of them must
// have it. A server without /lookup (HTTP 404 or 405) leaves the question
// to Verify through c.Resolvers.
//
// Errors: *AbsentAtServersError, *MissingCNAMEError or *WrongTargetError
// (MissingRecord: the CNAME is not in place, exit code 6); any other error
// says the question could not be answered (no authoritative server found,
// the server or the resolvers failing), not that the record is absent.
func (c AcmeDNSCheck) Check(ctx context.Context, acc acmedns.Account, domain string) error {
	name := acmedns.ChallengeName(domain)
	res, err := acmedns.Lookup(ctx, c.Client, acc, c.Server, name, "CNAME")
	var ae *acmedns.APIError
	switch {
	case err == nil:
		ok, missing := acmedns.CNAMEStatus(res, acc.FullDomain)
		if ok {
			return nil
		}
		if len(res.Servers) == 0 {
			return errors.New("no authoritative servers found")
		}
		return &AbsentAtServersError{Name: name, Want: canonical(acc.FullDomain), Servers: missing}
	case errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusMethodNotAllowed):
		// acme-dns: no /lookup; ask the resolvers.
	default:
		return err
	}
	rs, err := c.Resolvers()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = Verify(ctx, rs, name, acc.FullDomain, c.Probe)
	return err
}

// AbsentAtServersError is a CNAME that some authoritative servers of its
// zone do not serve, as a challenge server's /lookup found.
type AbsentAtServersError struct {
	Name, Want string
	// Servers are the name servers without it.
	Servers []string
}

func (e *AbsentAtServersError) Error() string {
	return fmt.Sprintf("not at %s: add the record %s CNAME %s", strings.Join(e.Servers, ", "), e.Name, e.Want)
}

// MissingRecord marks an error whose fix is a DNS record (exit code 6).
func (e *AbsentAtServersError) MissingRecord() bool { return true }
