package plan

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/store"
)

// Reach is how a command that orders nothing reaches a CA, HTTPS APIs and
// DNS resolvers (persist, account, query, register): the part of Settings
// those commands take, checked with the same words as Validate.
type Reach struct {
	// Server is the CA (DirectoryURL); "" when the command needs none.
	Server string
	// CACerts are PEM files of trust roots added to the system's.
	CACerts  []string
	IPv4Only bool
	// Resolvers are resolver specs (resolver.New); none means
	// resolver.Defaults.
	Resolvers []string
	// RequestTimeout bounds one DNS question to one resolver.
	RequestTimeout time.Duration
}

// Reached is what Reach.Open built.
type Reached struct {
	Directory  string // "" when Reach.Server is
	RootCAs    *x509.CertPool
	HTTPClient *http.Client
	// Resolvers are built only when Open is asked for them.
	Resolvers []resolver.Resolver
}

// Open checks r and builds its clients, the resolvers only when
// withResolvers. Every problem is in a *ProblemsError under its settings
// key (server, ca_certs, request_timeout, resolvers).
func (r Reach) Open(withResolvers bool) (*Reached, error) {
	var ps []Problem
	out := &Reached{}
	var err error
	if r.Server != "" {
		if out.Directory, err = DirectoryURL(r.Server); err != nil {
			ps = append(ps, Problem{Key: "server", Msg: err.Error()})
		}
	}
	if out.RootCAs, err = LoadRoots(r.CACerts); err != nil {
		ps = append(ps, Problem{Key: "ca_certs", Msg: err.Error()})
	}
	if withResolvers && r.RequestTimeout <= 0 {
		ps = append(ps, Problem{Key: "request_timeout", Msg: "must be positive, e.g. \"5s\""})
	}
	if len(ps) > 0 {
		return nil, &ProblemsError{Problems: ps}
	}
	out.HTTPClient = HTTPClient(out.RootCAs, r.IPv4Only)
	if withResolvers {
		if out.Resolvers, err = Resolvers(r.Resolvers, out.RootCAs, r.IPv4Only, r.RequestTimeout); err != nil {
			return nil, &ProblemsError{Problems: []Problem{{Key: "resolvers", Msg: err.Error()}}}
		}
	}
	return out, nil
}

// ManageAccount shows or changes the account stored for r's CA (strictacme
// account; issue.Issuer.ManageAccount) and returns it as the CA knows it.
// open opens the state directory under its run lock, once r is checked
// (Open's problems). No stored account is a usage error.
func ManageAccount(ctx context.Context, r Reach, open func(context.Context) (*store.Store, func(), error), change issue.AccountChange) (issue.AccountView, error) {
	reached, err := r.Open(false)
	if err != nil {
		return issue.AccountView{}, err
	}
	st, unlock, err := open(ctx)
	if err != nil {
		return issue.AccountView{}, err
	}
	defer unlock()
	is, err := issue.New(issue.Config{Directory: reached.Directory, HTTPClient: reached.HTTPClient, Store: st})
	if err != nil {
		return issue.AccountView{}, err
	}
	state, err := is.ManageAccount(ctx, "", change)
	if errors.Is(err, store.ErrNoAccount) {
		return issue.AccountView{}, exitcode.With(exitcode.Usage, fmt.Errorf("no account stored for %s in %s; strictacme issue creates one", reached.Directory, st.Root))
	}
	if err != nil {
		return issue.AccountView{}, err
	}
	return state.View(reached.Directory), nil
}
