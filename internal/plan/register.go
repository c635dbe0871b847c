package plan

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/strictacme/strictacme/internal/apiclient"
	"github.com/strictacme/strictacme/internal/delegation"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/provider/acmedns"
)

// Registration creates acme-dns accounts on a challenge server (acme-dns
// or strictacme serve) and checks that each domain's CNAME points at its
// account (strictacme register).
type Registration struct {
	// Reach gives the trust roots, IPv4-only and the resolvers of the
	// CNAME check when the server has no /lookup; its Server is unused.
	Reach Reach
	// Server is the challenge server's API URL: https, or plain http on
	// loopback only, since the reply carries the account's key.
	Server          string
	CredentialsFile string
	Domains         []string
	AllowFrom       []string
	// AdminTokenFile holds the server's admin token, when its
	// registration needs one.
	AdminTokenFile string
	// Check builds the resolvers of the CNAME check (asked only when the
	// server has no /lookup, but checked now).
	Check bool
}

// Registrar is a checked Registration, ready to register and check.
type Registrar struct {
	r     Registration
	setup delegation.AcmeDNSSetup
	check delegation.AcmeDNSCheck
}

// Open checks r: every problem is in a *ProblemsError under its key
// (names, server, admin_token_file and those of Reach.Open).
func (r Registration) Open() (*Registrar, error) {
	if _, err := names.ParseAll(r.Domains); err != nil {
		return nil, exitcode.With(exitcode.Usage, err)
	}
	var ps []Problem
	for _, d := range r.Domains {
		if acmedns.Key(d) == "" {
			ps = append(ps, Problem{Key: "names", Msg: fmt.Sprintf("domain %q is empty", d)})
		}
	}
	if _, err := apiclient.ParseBaseURL(r.Server, "https://auth.example.org"); err != nil {
		ps = append(ps, Problem{Key: "server", Msg: fmt.Sprintf("%q: give the challenge server's API URL: %v", r.Server, err)})
	}
	var token string
	if r.AdminTokenFile != "" {
		b, err := os.ReadFile(r.AdminTokenFile)
		if err != nil {
			ps = append(ps, Problem{Key: "admin_token_file", Msg: err.Error()})
		}
		token = strings.TrimSpace(string(b))
	}
	reached, err := r.Reach.Open(r.Check)
	var pe *ProblemsError
	if errors.As(err, &pe) {
		ps = append(ps, pe.Problems...)
	}
	if len(ps) > 0 {
		return nil, &ProblemsError{Problems: ps}
	}
	return &Registrar{r: r,
		setup: delegation.AcmeDNSSetup{Server: r.Server, CredentialsFile: r.CredentialsFile, Domains: r.Domains,
			Options: acmedns.RegisterOptions{AllowFrom: r.AllowFrom, AdminToken: token, HTTPClient: reached.HTTPClient}},
		check: delegation.AcmeDNSCheck{Client: reached.HTTPClient, Server: r.Server, Resolvers: func() ([]resolver.Resolver, error) {
			return reached.Resolvers, nil
		}},
	}, nil
}

// Ensure returns the account of every domain, registering and saving
// those missing (delegation.AcmeDNSSetup.Ensure). A server that refuses
// registration for want of its admin token is a *BuildError of key
// admin_token_file.
func (g *Registrar) Ensure(ctx context.Context) ([]acmedns.Ensured, error) {
	needs, err := g.setup.Ensure(ctx)
	var api *acmedns.APIError
	if errors.As(err, &api) && api.Op == "register" && (api.Status == http.StatusUnauthorized || api.Status == http.StatusForbidden) {
		msg := fmt.Errorf("%s refuses to register accounts without its admin token (%v); give the file holding the token", g.r.Server, err)
		if g.r.AdminTokenFile != "" {
			msg = fmt.Errorf("%s refused the admin token in %s (%v); check it against the server's admin token file", g.r.Server, g.r.AdminTokenFile, err)
		}
		return nil, &BuildError{Key: "admin_token_file", Err: msg}
	}
	return needs, err // delegation.AcmeDNSSetup gave it its exit code
}

// Unplaced is nil when every domain's CNAME is in place, else an error
// (exitcode.Missing) naming the missing ones.
func (g *Registrar) Unplaced(ctx context.Context, needs []acmedns.Ensured) error {
	if missing := g.check.Unplaced(ctx, needs); len(missing) > 0 {
		return exitcode.With(exitcode.Missing, fmt.Errorf("CNAME not in place yet for %s; add the record(s) printed above and run again", strings.Join(missing, ", ")))
	}
	return nil
}
