package delegation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
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

// AcmeDNSSetup is the set-up of acme-dns delegation for some domains
// ("strictacme register"): an account on the challenge server for each
// domain without one in the credentials file, saved there.
type AcmeDNSSetup struct {
	// Server is the challenge server's API URL.
	Server string
	// CredentialsFile is the goacmedns JSON file (mode 0600).
	CredentialsFile string
	Domains         []string
	Options         acmedns.RegisterOptions
}

// Ensure returns the account of every domain, registering and saving
// those missing. The file's folder is made first, so that the key of an
// account the server just created is never lost to a missing folder.
// Errors: a credentials file that cannot be read or whose folder cannot be
// made (exit code Usage); *acmedns.SaveError (the account exists on the
// server, its key only in memory: the message says what to do); the
// server's failure or refusal (exit code DNS).
func (s AcmeDNSSetup) Ensure(ctx context.Context) ([]acmedns.Ensured, error) {
	creds, err := acmedns.LoadCredentials(s.CredentialsFile)
	if err != nil {
		return nil, exitcode.With(exitcode.Usage, err)
	}
	if err := os.MkdirAll(filepath.Dir(s.CredentialsFile), 0o700); err != nil {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("credentials file %s: %w", s.CredentialsFile, err))
	}
	needs, err := creds.Ensure(ctx, s.CredentialsFile, s.Server, s.Domains, s.Options)
	var saveErr *acmedns.SaveError
	switch {
	case errors.As(err, &saveErr):
		return nil, err
	case err != nil:
		return nil, exitcode.With(exitcode.DNS, err)
	}
	return needs, nil
}

// Unplaced returns, for each of needs whose CNAME is not in place (Check),
// its challenge name and why, as "NAME (why)", in order.
func (c AcmeDNSCheck) Unplaced(ctx context.Context, needs []acmedns.Ensured) []string {
	var missing []string
	for _, n := range needs {
		if ok, why := c.InPlace(ctx, n.Account, n.Domain); !ok {
			missing = append(missing, fmt.Sprintf("%s (%s)", acmedns.ChallengeName(n.Domain), why))
		}
	}
	return missing
}
