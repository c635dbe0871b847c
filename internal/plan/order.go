package plan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/store"
)

// OrderOptions are how one order of a plan runs.
type OrderOptions struct {
	// Replaces is the ARI ID of the certificate being renewed (RFC 9773 §5).
	Replaces string
	// PollInterval between authorization polls; 0 means the order flow's.
	PollInterval time.Duration
	Log          func(string)
	// ThrowawayAccount registers a new account for this order and stores
	// it nowhere (issue.AccountOptions.Throwaway; a dry run). The store is
	// then the dry run's throwaway copy too (issue.Config.ThrowawayStore).
	ThrowawayAccount bool
}

// Order runs one order of p with the store's run lock held: sweep the
// records of interrupted runs, account, profile check, order, store with the
// settings. Bounded by the settings' timeout.
func (p *Plan) Order(ctx context.Context, st *store.Store, o OrderOptions) (*issue.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Settings.Timeout.D())
	defer cancel()
	logf := o.Log
	is, err := issue.New(issue.Config{
		Directory: p.Directory, HTTPClient: p.HTTPClient, Store: st, ThrowawayStore: o.ThrowawayAccount, Providers: p.Providers,
		Propagation: p.Strategy, Persist: p.Persist, Delegate: p.Delegate, Log: logf, PollInterval: o.PollInterval,
	})
	if err != nil {
		return nil, err
	}
	if n, err := is.Sweep(ctx); journalDamaged(err) != nil {
		return nil, journalDamaged(err)
	} else if err != nil {
		logf(fmt.Sprintf("journal: %v", err))
	} else if n > 0 {
		logf(fmt.Sprintf("journal: removed %d leftover record(s)", n))
	}
	s := p.Settings
	acct, created, err := is.Account(ctx, issue.AccountOptions{Email: s.Email, AcceptTOS: s.AcceptTOS, EAB: p.EAB, Throwaway: o.ThrowawayAccount})
	if err != nil {
		return nil, err
	}
	if created && o.ThrowawayAccount {
		logf("throwaway account created: " + acct.Location)
	} else if created {
		logf("account created: " + acct.Location)
	} else {
		logf("account: " + acct.Location)
	}
	if err := is.CheckProfile(ctx, s.Profile); err != nil {
		return nil, err
	}
	var key []byte
	if s.ReuseKey {
		if old, err := st.LoadCertificate(s.Name); err == nil {
			if old.Meta.KeyType != "" && old.Meta.KeyType != string(p.KeyType) {
				return nil, exitcode.With(exitcode.Usage, fmt.Errorf("reuse_key: the stored key of %s is %s, not key_type %s; drop one of the two", s.Name, old.Meta.KeyType, p.KeyType))
			}
			key = old.KeyPEM
			logf("reusing the private key of the stored certificate")
		}
	}
	stored, err := s.Stored().Encode()
	if err != nil {
		return nil, err
	}
	return is.Obtain(ctx, issue.Request{
		Identifiers: p.Identifiers, KeyType: p.KeyType, Challenges: p.Challenges, Profile: s.Profile, Name: s.Name,
		Replaces: o.Replaces, PreferredChain: s.PreferredChain, Key: key, CSR: p.CSR, Settings: stored, SettingsVersion: s.Version(),
	})
}

// Sweep removes the challenge records that interrupted runs left in the
// store's journal, also when nothing is ordered. Each journaled provider is
// built from the settings of a certificate that defines it (known), else as
// the kind of that name from its environment variables; extraRoots are
// trusted besides each certificate's own. Failures are logged; the journal
// keeps what was not removed for the next run. Only a damaged journal is
// returned, with exit code State: the run stops before any request.
func Sweep(ctx context.Context, st *store.Store, known []Settings, extraRoots []string, logger *slog.Logger, logf func(string)) error {
	entries, err := st.Journal().Entries()
	if err := journalDamaged(err); err != nil {
		return err
	}
	if err != nil || len(entries) == 0 {
		if err != nil {
			logf(fmt.Sprintf("journal: %v", err))
		}
		return nil
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.Provider] {
			continue
		}
		seen[e.Provider] = true
		ref := EnvProvider(e.Provider, nil)
		var files []string
		ipv4 := false
		for _, k := range known {
			if r := k.Ref(e.Provider); r != nil {
				ref, files, ipv4 = *r, k.CACerts, k.IPv4Only
				break
			}
		}
		if err := sweepProvider(ctx, st, ref, append(slices.Clone(files), extraRoots...), ipv4, logger, logf); err != nil {
			logf(fmt.Sprintf("journal: leftover records of provider %q cannot be removed now: %v", e.Provider, err))
		}
	}
	return nil
}

// CheckJournal is Sweep's check of st's journal, read-only, for a dry
// run: a damaged journal is an error with exit code State, as it is for a
// real run, and nothing is repaired.
func CheckJournal(st *store.Store) error {
	return journalDamaged(st.Journal().Check())
}

// journalDamaged returns err with exit code State if it says that
// journal.json was damaged, else nil: a run stops there, before the CA is
// asked for anything, so that the user looks at the damaged file.
func journalDamaged(err error) error {
	var de *store.JournalDamagedError
	if errors.As(err, &de) {
		return exitcode.With(exitcode.State, err)
	}
	return nil
}

func sweepProvider(ctx context.Context, st *store.Store, ref ProviderRef, rootFiles []string, ipv4 bool, logger *slog.Logger, logf func(string)) error {
	roots, err := LoadRoots(rootFiles)
	if err != nil {
		return err
	}
	kind, ok := LookupProvider(ref.Kind)
	if !ok {
		return fmt.Errorf("unknown provider type %q", ref.Kind)
	}
	hc := HTTPClient(roots, ipv4)
	prov, err := kind.New(ref.Lookup(kind, nil), BuildEnv{Path: st.Root, RootCAs: roots, HTTPClient: hc, Logger: logger})
	if err != nil {
		return err
	}
	ps, err := providers.NewSet(providers.Entry{Name: ref.Name, Provider: prov})
	if err != nil {
		return err
	}
	// Sweep talks to no CA.
	is, err := issue.New(issue.Config{Directory: "https://ca.invalid/directory", HTTPClient: hc, Store: st, Providers: ps, Log: logf})
	if err != nil {
		return err
	}
	n, err := is.Sweep(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		logf(fmt.Sprintf("journal: removed %d leftover record(s) of an interrupted run", n))
	}
	return nil
}

// JournalLeft lists the journal's challenge records written through a
// provider that s defines: after Sweep with s, these are the records only
// s's provider settings can remove, so forgetting s (strictacme delete)
// would leave them in the zone for good.
func JournalLeft(st *store.Store, s Settings) ([]store.JournalEntry, error) {
	entries, err := st.Journal().Entries()
	if err := journalDamaged(err); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	var left []store.JournalEntry
	for _, e := range entries {
		if s.Ref(e.Provider) != nil {
			left = append(left, e)
		}
	}
	return left, nil
}
