package plan

import (
	"context"
	"log/slog"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/persist"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/store"
)

// PersistOptions are one pass of "strictacme persist" over the
// dns-persist-01 records of some names (persist.Run), for the CA at
// Directory with the account stored in Path.
type PersistOptions struct {
	// Reach is the CA and the resolvers (built for Run.Check and
	// Run.Apply); Persist sets Run.Resolvers.
	Reach Reach
	// Path is the state directory holding the account.
	Path string
	// Email and AcceptTOS are used when no account is stored yet.
	Email     string
	AcceptTOS bool
	// Provider is the kind of DNS provider that creates the records
	// (Run.Apply), configured from its environment variables; "" creates
	// none.
	Provider string
	// Logger receives what the provider logs.
	Logger *slog.Logger
	// Names, PersistUntil (persist.ParseUntil) and IssuerSource
	// (persist.ParseSource) are as the user gave them; Persist parses
	// them into Run.
	Names                      []string
	PersistUntil, IssuerSource string
	// Apply creates the records through Provider, which it needs.
	Apply bool
	// Timeout bounds the whole pass; it must be positive.
	Timeout time.Duration
	// Run is the pass itself; Identifiers, Source, Options.PersistUntil,
	// Client, Account and Apply are set by Persist.
	Run persist.RunOptions
}

// check parses the settings of o given as text into o.Run; every problem
// is under its key (persist_until, issuer_source, apply, timeout).
func (o *PersistOptions) check() error {
	var err error
	if o.Run.Identifiers, err = names.ParseAll(o.Names); err != nil {
		return exitcode.With(exitcode.Usage, err)
	}
	var ps []Problem
	if o.Run.Options.PersistUntil, err = persist.ParseUntil(o.PersistUntil); err != nil {
		ps = append(ps, Problem{Key: "persist_until", Msg: err.Error()})
	}
	if o.Run.Source, err = persist.ParseSource(o.IssuerSource); err != nil {
		ps = append(ps, Problem{Key: "issuer_source", Msg: err.Error()})
	}
	if o.Apply && o.Provider == "" {
		ps = append(ps, Problem{Key: "apply", Msg: "needs a DNS provider to write the records (or publish the printed lines by hand)"})
	}
	if o.Timeout <= 0 {
		ps = append(ps, Problem{Key: "timeout", Msg: "must be positive, e.g. \"2m\""})
	}
	if len(ps) > 0 {
		return &ProblemsError{Problems: ps}
	}
	return nil
}

// Persist builds the provider, opens the account (created when none is
// stored), logs which one through o.Run.Log, and runs persist.Run into
// rep, which holds the account URL as soon as it is known. An unknown
// provider is a *ProblemsError naming it (key "type"), and so is a bad
// part of o.Reach (Reach.Open); a provider that refuses its settings is an
// error with exit code Usage.
func Persist(ctx context.Context, o PersistOptions, rep *persist.Report) error {
	if err := o.check(); err != nil {
		return err
	}
	if !o.Apply {
		o.Provider = "" // the records are written only when asked
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	r, err := o.Reach.Open(o.Run.Check || o.Provider != "")
	if err != nil {
		return err
	}
	o.Run.Resolvers = r.Resolvers
	if o.Provider != "" {
		kind, ok := LookupProvider(o.Provider)
		if !ok {
			return &ProblemsError{Problems: []Problem{{Provider: o.Provider, Key: "type", Msg: "unknown provider"}}}
		}
		ref := EnvProvider(o.Provider, nil)
		prov, err := kind.New(ref.Lookup(kind, nil), BuildEnv{Path: o.Path, RootCAs: r.RootCAs, HTTPClient: r.HTTPClient, Identifiers: o.Run.Identifiers, Logger: o.Logger})
		if err != nil {
			return exitcode.With(exitcode.Usage, err)
		}
		if o.Run.Apply, err = providers.NewSet(providers.Entry{Name: o.Provider, Provider: prov}); err != nil {
			return exitcode.With(exitcode.Usage, err)
		}
	}
	// The account whose URL goes in the record.
	st, err := store.Open(o.Path)
	if err != nil {
		return exitcode.With(exitcode.Usage, err)
	}
	is, err := issue.New(issue.Config{Directory: r.Directory, HTTPClient: r.HTTPClient, Store: st})
	if err != nil {
		return err
	}
	acct, created, err := is.Account(ctx, issue.AccountOptions{Email: o.Email, AcceptTOS: o.AcceptTOS})
	if err != nil {
		return err
	}
	rep.Account = acct.Location
	if o.Run.Log != nil {
		if created {
			o.Run.Log("account created: " + acct.Location)
		} else {
			o.Run.Log("account: " + acct.Location)
		}
	}
	o.Run.Client, o.Run.Account = is.Client(), acct
	return persist.Run(ctx, o.Run, &rep.Outcome)
}
