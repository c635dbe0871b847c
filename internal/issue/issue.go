// Package issue runs the flow of one certificate order over ACME (RFC 8555)
// with DNS challenges, top to bottom:
//
//	new order → authorizations → challenge records computed → written through
//	the providers, one call per zone → one propagation wait for all →
//	every challenge initiated together → poll → finalize with a CSR →
//	download the chain → clean up (always, also on error and cancellation)
//
// The wire protocol is github.com/mholt/acmez/v3/acme; this package owns the
// orchestration. Providers, delegation and propagation plug in through small
// interfaces.
package issue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/version"
)

// Delegator maps a challenge record's FQDN to the FQDN where it is written
// (CNAME delegation, challenge alias). It returns fqdn itself when the name is
// not delegated.
type Delegator interface {
	Delegate(ctx context.Context, fqdn string) (string, error)
}

// PersistChecker verifies that a dns-persist-01 record is in place before the
// challenge is initiated (no write happens for dns-persist-01).
type PersistChecker interface {
	CheckPersist(ctx context.Context, fqdn string, want func(values []string) error) error
}

// Config wires an Issuer. Directory, HTTPClient, Store, Providers and
// Propagation are required.
type Config struct {
	// Directory is the CA's directory URL (RFC 8555 §7.1.1).
	Directory string
	// HTTPClient talks to the CA (its roots include --ca-cert).
	HTTPClient *http.Client
	Store      *store.Store
	// ThrowawayStore marks Store as a dry run's throwaway copy, removed
	// when the run ends: the certificate is not logged as stored there
	// (the caller says it was discarded).
	ThrowawayStore bool
	Providers      *providers.Set
	// Propagation decides when the records are visible to the CA.
	Propagation propagation.Strategy
	// Delegate is optional; nil writes every record at its own name.
	Delegate Delegator
	// Persist checks dns-persist-01 records; required only for that type.
	Persist PersistChecker
	// Log receives one human line per step; nil discards.
	Log func(line string)
	// TTL of the challenge records in seconds; 0 means 60.
	TTL int
	// MaxInlineRetryAfter is the longest Retry-After (429) waited for inside
	// a run before the order is stopped with a RateLimitedError; 0 means 30 s.
	MaxInlineRetryAfter time.Duration
	// PollInterval is the longest wait between two polls of an
	// authorization or order when the CA sends no Retry-After; polls start
	// 50 ms after the challenge responses and double up to it (see
	// poll.go). 0 means 2 s.
	PollInterval time.Duration
	// MaxInFlight bounds the requests sent to the CA at the same time
	// (fetching authorizations, posting challenges, polling); 0 means 8.
	MaxInFlight int
	// ChallengeAttempts is how often one challenge is posted when the CA
	// keeps it pending with an error after a failed validation (RFC 8555
	// §8.2); 0 means 5 (waits of 1, 2, 4 and 8 s between them).
	ChallengeAttempts int
	// Now and Sleep replace the clock in tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Issuer obtains certificates from one CA with one account.
type Issuer struct {
	cfg     Config
	client  *acme.Client
	tracker *retryAfterTracker
	account acme.Account
	// accountName is AccountOptions.Name of the account in use.
	accountName string
	start       time.Time
	// inFlight bounds the concurrent requests to the CA.
	inFlight limiter
	logMu    sync.Mutex
}

// New returns an Issuer for cfg. It sends nothing.
func New(cfg Config) (*Issuer, error) {
	if cfg.Directory == "" || cfg.Store == nil || cfg.HTTPClient == nil {
		return nil, errors.New("issue: Directory, Store and HTTPClient are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.TTL == 0 {
		cfg.TTL = 60
	}
	if cfg.MaxInlineRetryAfter == 0 {
		cfg.MaxInlineRetryAfter = 30 * time.Second
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = defaultPollCap
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = defaultInFlight
	}
	if cfg.ChallengeAttempts == 0 {
		cfg.ChallengeAttempts = defaultAttempts
	}
	base := cfg.HTTPClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if t, ok := base.(*http.Transport); ok && t.MaxIdleConnsPerHost < cfg.MaxInFlight {
		// Keep a connection per request in flight alive for the next
		// request (HTTP/1.1; HTTP/2 multiplexes on one anyway).
		t = t.Clone()
		t.MaxIdleConnsPerHost = cfg.MaxInFlight
		base = t
	}
	tr := &retryAfterTracker{next: base, now: cfg.Now}
	hc := *cfg.HTTPClient
	hc.Transport = tr
	client := &acme.Client{
		Directory:  cfg.Directory,
		HTTPClient: &hc,
		UserAgent:  version.UserAgent(),
		// The issuer polls authorizations and orders itself (poll.go);
		// the shortest timeout turns acmez's own polling loops off.
		PollTimeout: time.Nanosecond,
	}
	return &Issuer{cfg: cfg, client: client, tracker: tr, start: cfg.Now(), inFlight: make(limiter, cfg.MaxInFlight)}, nil
}

// Client returns the underlying ACME client (for account and revocation
// commands that share the issuer's transport).
func (is *Issuer) Client() *acme.Client { return is.client }

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (is *Issuer) logf(format string, a ...any) {
	if is.cfg.Log == nil {
		return
	}
	el := is.cfg.Now().Sub(is.start).Seconds()
	is.logMu.Lock() // the order flow logs from concurrent requests
	defer is.logMu.Unlock()
	is.cfg.Log(fmt.Sprintf("[%6.2fs] %s", el, fmt.Sprintf(format, a...)))
}

// Request is one certificate to obtain.
type Request struct {
	Identifiers []names.Identifier
	KeyType     KeyType
	// Challenges is the preference order; the first type the CA offers for
	// an authorization is used. Empty means dns-01 only.
	Challenges []challenge.Type
	// Profile selects a CA certificate profile (draft-ietf-acme-profiles).
	Profile string
	// Replaces is the ARI certificate ID of the certificate being renewed
	// (RFC 9773 §5).
	Replaces string
	// PreferredChain picks the alternate chain whose top issuer has this
	// common name, if the CA offers one.
	PreferredChain string
	// Key reuses an existing private key instead of generating one.
	Key []byte
	// CSR, when set, is the operator's request: finalize sends exactly it,
	// no key is generated or stored, and the certificate keeps a copy of
	// it (store.CSRFile). Identifiers must be its names; Key must be empty.
	CSR *CSR
	// Name of the certificate in the store; "" derives it from the first
	// identifier.
	Name string
	// Settings are kept in the certificate's metadata (with their schema
	// version) so that renew can repeat the order later; nil stores none.
	// Never put secrets in them.
	Settings        json.RawMessage
	SettingsVersion int
}

// Record is one challenge record of an order.
type Record struct {
	Identifier string         `json:"identifier"`
	Type       challenge.Type `json:"challenge"`
	// FQDN is the validation domain name the CA queries.
	FQDN string `json:"fqdn"`
	// Target is where the TXT is written (FQDN unless delegated).
	Target   string `json:"target"`
	Value    string `json:"value"`
	Provider string `json:"provider,omitempty"`
	Zone     string `json:"zone,omitempty"`

	authz acme.Authorization
	chal  acme.Challenge
	route providers.Target
	// persistChecked: the dns-persist-01 record was already found to
	// authorize this account (choose).
	persistChecked bool
	// written is when the record's provider write succeeded; recheck says
	// that the propagation strategy can look at it again (validate).
	written time.Time
	recheck bool
}

// Stats count what an order cost.
type Stats struct {
	Authorizations int            `json:"authorizations"`
	Records        int            `json:"records_written"`
	ProviderWrites int            `json:"provider_writes"`
	Steps          map[string]int `json:"step_ms"`
}

// Result is an obtained certificate, already stored.
type Result struct {
	Certificate *store.Certificate
	Records     []Record
	Stats       Stats
}

type zoneKey struct {
	entry *providers.Entry
	zone  string
}

// Obtain runs one order and stores the certificate. Errors carry an exit code
// (internal/exitcode) and say which step failed. Challenge records are always
// cleaned up before Obtain returns, also when ctx is cancelled.
func (is *Issuer) Obtain(ctx context.Context, req Request) (res *Result, err error) {
	defer func() { err = classify(err) }()
	if is.account.Location == "" {
		return nil, errors.New("issue: Account must be called before Obtain")
	}
	if len(req.Identifiers) == 0 {
		return nil, exitcode.With(exitcode.Usage, errors.New("no identifiers"))
	}
	if len(req.Challenges) == 0 {
		req.Challenges = []challenge.Type{challenge.DNS01}
	}
	if req.CSR != nil && len(req.Key) > 0 {
		return nil, exitcode.With(exitcode.Usage, errors.New("a CSR comes with its own key; do not reuse a stored one"))
	}
	res = &Result{Stats: Stats{Steps: map[string]int{}}}
	step := func(name string, t0 time.Time) { res.Stats.Steps[name] += int(is.cfg.Now().Sub(t0).Milliseconds()) }

	// 0. Where dns-01 records go, before anything is ordered: a CNAME
	// already at a challenge name that leads nowhere we can write, or a
	// static alias whose CNAME is missing, would otherwise fail every
	// authorization at the CA (and spend its failed-validation limit).
	if err := is.delegateAhead(ctx, req); err != nil {
		return nil, err
	}

	// 1. New order (RFC 8555 §7.4).
	t0 := is.cfg.Now()
	order := acme.Order{Profile: req.Profile, Replaces: req.Replaces}
	for _, id := range req.Identifiers {
		order.Identifiers = append(order.Identifiers, acme.Identifier{Type: "dns", Value: id.ASCII})
	}
	newOrder := func() error {
		return is.withCARetry(ctx, "new-order", func() error {
			var e error
			order, e = is.client.NewOrder(ctx, is.account, order)
			return e
		})
	}
	err = newOrder()
	if err != nil && order.Replaces != "" && replacesRefused(err) {
		// The CA will not link this order to the old certificate (another
		// account ordered it, e.g. after a new account was registered, or
		// it was replaced already): RFC 9773 §5 makes the field advisory,
		// so order without it.
		is.logf("the CA refused to mark this order as replacing %s (%v); ordering without it", order.Replaces, err)
		order.Replaces = ""
		err = newOrder()
	}
	if err != nil {
		return nil, fmt.Errorf("creating the order: %w", err)
	}
	step("order", t0)
	is.logf("order %s: %d identifiers, %d authorizations", order.Location, len(order.Identifiers), len(order.Authorizations))

	// 2. Authorizations and challenge records.
	t0 = is.cfg.Now()
	recs, err := is.records(ctx, order, req.Challenges)
	if err != nil {
		return nil, err
	}
	res.Records = recs
	res.Stats.Authorizations = len(order.Authorizations)
	step("authorizations", t0)

	// 3. Route, write, wait, validate; clean-up always runs. Records that
	// share a name at a single-value provider go in later rounds (DL03).
	if err := is.route(ctx, recs); err != nil {
		return nil, err
	}
	var written map[zoneKey][]*Record
	var cleaning chan error // the last round's clean-up, once it runs alongside finalize
	defer func() {
		var cerr error
		if cleaning != nil {
			cerr = <-cleaning
		} else {
			cerr = is.cleanup(ctx, written)
		}
		if cerr != nil {
			is.logf("clean-up: %v", cerr)
			if err == nil {
				err = exitcode.With(exitcode.DNS, fmt.Errorf("certificate obtained, but clean-up failed: %w", cerr))
			}
		}
	}()
	for i, round := range rounds(recs) {
		if i > 0 {
			if cerr := is.cleanup(ctx, written); cerr != nil {
				return nil, exitcode.With(exitcode.DNS, cerr)
			}
			written = nil
			is.logf("round %d: %d record(s) share a name with a validated one at a provider that keeps one TXT value per name; validating them now", i+1, len(round))
		}
		written, err = is.present(ctx, round, res)
		if err != nil {
			return nil, err
		}
		if err := is.validate(ctx, round, res); err != nil {
			return nil, err
		}
	}

	// 4. Finalize (RFC 8555 §7.4) and download. Every authorization is valid,
	// so the records have done their work: they are removed while the CA
	// issues, and the provider's calls hide behind the order's Retry-After
	// instead of following the download. Obtain still returns only after
	// the clean-up (the deferred call above waits for it).
	cleaning = make(chan error, 1)
	go func(w map[zoneKey][]*Record) { cleaning <- is.cleanup(ctx, w) }(written)
	t0 = is.cfg.Now()
	cert, err := is.finalize(ctx, order, req)
	if err != nil {
		return nil, err
	}
	step("finalize", t0)
	res.Certificate = cert
	if err := is.cfg.Store.SaveCertificate(cert); err != nil {
		return nil, fmt.Errorf("storing the certificate: %w", err)
	}
	if !is.cfg.ThrowawayStore {
		is.logf("stored %s (serial %s, not after %s)", is.cfg.Store.CertDir(cert.Name), cert.Meta.Serial, cert.Meta.NotAfter.Format(time.RFC3339))
	}
	return res, nil
}

// records fetches every authorization, concurrently within the issuer's
// request bound, picks a challenge and computes its record. Already valid
// authorizations need nothing. Records keep the order's authorization order.
func (is *Issuer) records(ctx context.Context, order acme.Order, prefs []challenge.Type) ([]Record, error) {
	authzs := make([]acme.Authorization, len(order.Authorizations))
	errs := each(len(order.Authorizations), func(i int) error {
		u := order.Authorizations[i]
		err := is.withCARetry(ctx, "authorization", func() error {
			var e error
			authzs[i], e = is.client.GetAuthorization(ctx, is.account, u)
			return e
		})
		if err != nil {
			return fmt.Errorf("fetching authorization %s: %w", u, err)
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var recs []Record
	for _, authz := range authzs {
		if authz.Status == acme.StatusValid {
			is.logf("%s: already authorized", authz.IdentifierValue())
			continue
		}
		r, err := is.choose(ctx, authz, prefs)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// choose picks the challenge of one authorization and computes its record.
// A dns-persist-01 record that does not authorize this account is checked
// here when a later type in prefs is offered, so the order falls back to it
// (--challenge dns-persist-01,dns-01) instead of failing.
func (is *Issuer) choose(ctx context.Context, authz acme.Authorization, prefs []challenge.Type) (Record, error) {
	id := authz.IdentifierValue()
	for {
		chal, typ, err := pick(authz, prefs)
		if err != nil {
			return Record{}, exitcode.With(exitcode.CA, err)
		}
		r := Record{Identifier: id, Type: typ, authz: authz, chal: chal}
		base := authz.Identifier.Value
		switch typ {
		case challenge.DNS01:
			r.FQDN = challenge.DNS01Name(base)
			r.Value = challenge.TXTValue(chal.KeyAuthorization)
		case challenge.DNSAccount01:
			r.FQDN = challenge.DNSAccount01Name(base, is.account.Location)
			r.Value = challenge.TXTValue(chal.KeyAuthorization)
		case challenge.DNSPersist01:
			r.FQDN = challenge.PersistName(base)
			if len(chal.IssuerDomainNames) == 0 {
				return Record{}, exitcode.With(exitcode.CA, fmt.Errorf("%s: the CA's dns-persist-01 challenge lists no issuer domain names", id))
			}
			r.Value = challenge.PersistRecord{IssuerDomainName: chal.IssuerDomainNames[0], AccountURI: is.account.Location, Wildcard: authz.Wildcard}.Value()
			rest := after(prefs, typ)
			if _, _, err := pick(authz, rest); err == nil {
				if err := is.checkPersist(ctx, []*Record{&r}); err != nil {
					is.logf("%s: %v; falling back to %s", id, err, rest[0])
					prefs = rest
					continue
				}
				r.persistChecked = true
			}
		}
		return r, nil
	}
}

// after returns the types that follow t in prefs.
func after(prefs []challenge.Type, t challenge.Type) []challenge.Type {
	for i, p := range prefs {
		if p == t {
			return prefs[i+1:]
		}
	}
	return nil
}

// pick returns the first challenge in preference order that the CA offers
// (case AC04: never assume a type is offered).
func pick(authz acme.Authorization, prefs []challenge.Type) (acme.Challenge, challenge.Type, error) {
	for _, want := range prefs {
		for _, c := range authz.Challenges {
			if c.Type == string(want) {
				return c, want, nil
			}
		}
	}
	var offered []string
	for _, c := range authz.Challenges {
		offered = append(offered, c.Type)
	}
	var wanted []string
	for _, p := range prefs {
		wanted = append(wanted, string(p))
	}
	hint := ""
	if len(prefs) == 1 && prefs[0] != challenge.DNS01 {
		hint = fmt.Sprintf("; to fall back, pass --challenge %s,dns-01", prefs[0])
	}
	return acme.Challenge{}, "", fmt.Errorf("the CA does not offer %s for %s (it offers: %s)%s",
		strings.Join(wanted, " or "), authz.IdentifierValue(), strings.Join(offered, ", "), hint)
}

// present routes, journals and writes every record, one provider call per
// zone, then waits once for all of them to be visible. It returns the groups
// that were (or may have been) written, for clean-up.
func (is *Issuer) present(ctx context.Context, recs []Record, res *Result) (map[zoneKey][]*Record, error) {
	groups := map[zoneKey][]*Record{}
	var persist []*Record
	t0 := is.cfg.Now()
	for i := range recs {
		r := &recs[i]
		if r.Type == challenge.DNSPersist01 {
			if !r.persistChecked {
				persist = append(persist, r)
			}
			continue
		}
		if r.route.Entry == nil {
			if err := is.routeOne(ctx, r); err != nil {
				return nil, err
			}
		}
		k := zoneKey{r.route.Entry, r.route.Zone}
		groups[k] = append(groups[k], r)
	}
	if len(persist) > 0 {
		if err := is.checkPersist(ctx, persist); err != nil {
			return nil, err
		}
	}
	if len(groups) == 0 {
		return nil, nil
	}
	keys := sortedKeys(groups)
	for _, k := range keys {
		for _, r := range groups[k] {
			via := ""
			if r.Target != r.FQDN {
				via = fmt.Sprintf(" (for %s)", r.FQDN)
			}
			is.logf("write TXT %s%s in zone %s via %s", r.Target, via, k.zone, k.entry.Name)
		}
	}
	var entries []store.JournalEntry
	for _, k := range keys {
		for _, r := range groups[k] {
			entries = append(entries, journalEntry(k, r, is.cfg.Now()))
		}
	}
	if err := is.journal().Add(entries...); err != nil {
		return nil, fmt.Errorf("journaling the challenge records: %w", err)
	}

	// Writes of different zones go in parallel; one call per zone. A
	// provider whose calls must not overlap serialises them itself (the exec
	// provider runs one program at a time).
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func(k zoneKey) {
			defer wg.Done()
			var lrecs []libdns.Record
			for _, r := range groups[k] {
				lrecs = append(lrecs, is.txt(r.Target, k.zone, r.Value))
			}
			_, err := k.entry.Provider.AppendRecords(ctx, k.zone, lrecs)
			mu.Lock()
			defer mu.Unlock()
			res.Stats.ProviderWrites++
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: writing %d record(s) in zone %s: %w", k.entry.Name, len(lrecs), strings.TrimSuffix(k.zone, "."), err))
				return
			}
			res.Stats.Records += len(lrecs)
		}(k)
	}
	wg.Wait()
	written := is.cfg.Now()
	res.Stats.Steps["write"] += int(written.Sub(t0).Milliseconds())
	if len(errs) > 0 {
		return groups, exitcode.With(exitcode.DNS, errors.Join(errs...))
	}
	is.logf("wrote %d record(s) in %d zone(s)", res.Stats.Records, len(groups))

	// One wait for all, measured from the last successful write (PR12).
	t0 = is.cfg.Now()
	var prs []propagation.Record
	allAuthoritative := true
	for _, k := range keys {
		if a, ok := k.entry.Provider.(providers.Authoritative); !ok || !a.Authoritative() {
			allAuthoritative = false
		}
		for _, r := range groups[k] {
			prs = append(prs, propagation.Record{FQDN: r.Target, Value: r.Value})
		}
	}
	switch {
	case allAuthoritative:
		is.logf("propagation: not needed, the provider's API confirmed the records on the authoritative server")
	case is.cfg.Propagation == nil:
		return groups, exitcode.With(exitcode.Usage, errors.New("no propagation strategy configured"))
	default:
		for _, k := range keys {
			for _, r := range groups[k] {
				r.written, r.recheck = written, true
			}
		}
		// One line with everything the check decided, before its first
		// question.
		is.logf("propagation: %s", propagation.Describe(is.cfg.Propagation))
		err := is.cfg.Propagation.Wait(ctx, prs, written, func(ev string) { is.logf("%s", ev) })
		if err != nil {
			// Not visible in the time given is a timeout; every resolver
			// failing (TLS, 403) is a DNS failure.
			code := exitcode.DNS
			var nv *propagation.NotVisibleError
			if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nv) && nv.Err != nil) ||
				(errors.As(err, &nv) && strings.Contains(nv.Reason, "timed out")) ||
				(!errors.As(err, &nv) && deadlineSoon(ctx) && strings.Contains(err.Error(), "deadline")) {
				code = exitcode.Timeout
			}
			if exitcode.Interrupted(ctx) {
				return groups, exitcode.Interrupt(ctx, fmt.Errorf("propagation: %w", err))
			}
			if m := (interface{ MissingRecord() bool })(nil); errors.As(err, &m) && m.MissingRecord() {
				code = exitcode.Missing
			}
			return groups, exitcode.With(code, fmt.Errorf("propagation: %w", err))
		}
		// Only the strategy knows whether it looked (its own line says
		// what it saw, or that it waited without looking): no claim here.
		is.logf("propagation: done for %d record(s) after %s", len(prs), is.cfg.Now().Sub(t0).Round(time.Millisecond))
	}
	res.Stats.Steps["propagation"] += int(is.cfg.Now().Sub(t0).Milliseconds())
	return groups, nil
}

// route sets where every record is written: delegation, then the provider
// and zone of the target. dns-persist-01 records are checked, not written.
func (is *Issuer) route(ctx context.Context, recs []Record) error {
	for i := range recs {
		r := &recs[i]
		if r.Type == challenge.DNSPersist01 {
			r.Target = r.FQDN
			continue
		}
		if err := is.routeOne(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// delegateAhead asks the Delegator about every dns-01 challenge name of
// req (they are known before the order; it remembers its answers for
// route).
func (is *Issuer) delegateAhead(ctx context.Context, req Request) error {
	if is.cfg.Delegate == nil || !slices.Contains(req.Challenges, challenge.DNS01) {
		return nil
	}
	seen := map[string]bool{}
	for _, id := range req.Identifiers {
		name := challenge.DNS01Name(id.Base())
		if seen[name] {
			continue
		}
		seen[name] = true
		if _, err := is.cfg.Delegate.Delegate(ctx, name); err != nil {
			return delegationError(name, err)
		}
	}
	return nil
}

// delegationError gives a Delegator's error its exit code: Missing when
// its fix is a DNS record or a provider for a zone (the error says so by
// a MissingRecord method), DNS otherwise.
func delegationError(fqdn string, err error) error {
	code := exitcode.DNS
	var m interface{ MissingRecord() bool }
	if errors.As(err, &m) && m.MissingRecord() {
		code = exitcode.Missing
	}
	return exitcode.With(code, fmt.Errorf("delegation of %s: %w", fqdn, err))
}

func (is *Issuer) routeOne(ctx context.Context, r *Record) error {
	target := r.FQDN
	if is.cfg.Delegate != nil {
		t, err := is.cfg.Delegate.Delegate(ctx, r.FQDN)
		if err != nil {
			return delegationError(r.FQDN, err)
		}
		target = t
	}
	r.Target = strings.ToLower(target)
	if is.cfg.Providers == nil {
		return exitcode.With(exitcode.Usage, errors.New("no DNS provider configured; pass --dns"))
	}
	route, err := is.cfg.Providers.Route(ctx, r.Target)
	if err != nil {
		return err // Route gives Usage or DNS
	}
	r.route, r.Provider, r.Zone = route, route.Entry.Name, route.Zone
	return nil
}

// rounds splits routed records into validation rounds: everything in the
// first, except that a provider that keeps one TXT value per name
// (providers.SingleValue) gets the second record at a name in the second
// round, the third in the third, and so on (case DL03).
func rounds(recs []Record) [][]Record {
	var out [][]Record
	seen := map[string]int{}
	for _, r := range recs {
		n := 0
		if r.route.Entry.Sequential() {
			key := r.route.Entry.Name + "\x00" + r.Target
			n = seen[key]
			seen[key]++
		}
		for len(out) <= n {
			out = append(out, nil)
		}
		out[n] = append(out[n], r)
	}
	return out
}

func (is *Issuer) checkPersist(ctx context.Context, persist []*Record) error {
	if is.cfg.Persist == nil {
		return exitcode.With(exitcode.Usage, errors.New("dns-persist-01 needs a resolver to check the persistent record; configure --resolver"))
	}
	now := is.cfg.Now()
	for _, r := range persist {
		r.Target = r.FQDN
		want := func(values []string) error {
			_, err := challenge.FindAuthorizing(values, r.chal.IssuerDomainNames, is.account.Location, r.authz.Wildcard, now)
			switch {
			case errors.Is(err, challenge.ErrNoPersistRecord):
				return fmt.Errorf("no TXT record at %s; publish %q (strictacme persist --apply)", r.FQDN, r.Value)
			case err != nil:
				return fmt.Errorf("no TXT record at %s authorizes this account: %v; publish %q", r.FQDN, err, r.Value)
			}
			return nil
		}
		if err := is.cfg.Persist.CheckPersist(ctx, r.FQDN, want); err != nil {
			return exitcode.With(exitcode.Missing, fmt.Errorf("dns-persist-01 for %s: %w", r.Identifier, err))
		}
		is.logf("%s: dns-persist-01 record at %s authorizes this account; nothing to write", r.Identifier, r.FQDN)
	}
	return nil
}

func (is *Issuer) txt(target, zone, value string) libdns.TXT {
	return libdns.TXT{Name: libdns.RelativeName(target, zone), Text: value, TTL: time.Duration(is.cfg.TTL) * time.Second}
}

func journalEntry(k zoneKey, r *Record, now time.Time) store.JournalEntry {
	return store.JournalEntry{Provider: k.entry.Name, Zone: k.zone, FQDN: r.Target, Type: "TXT", Value: r.Value, Written: now.UTC()}
}

func (is *Issuer) journal() *store.Journal { return is.cfg.Store.Journal() }

func sortedKeys(groups map[zoneKey][]*Record) []zoneKey {
	keys := make([]zoneKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].zone != keys[j].zone {
			return keys[i].zone < keys[j].zone
		}
		return keys[i].entry.Name < keys[j].entry.Name
	})
	return keys
}

// cleanup deletes every record that was written, one call per zone, even if
// ctx is already cancelled; entries are dropped from the journal only after a
// confirmed delete, so the next run retries what failed here.
func (is *Issuer) cleanup(ctx context.Context, groups map[zoneKey][]*Record) error {
	if len(groups) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	// Zones are deleted concurrently, one call each, like the writes; a
	// provider whose calls must not overlap serialises them itself (exec).
	keys := sortedKeys(groups)
	done := make([][]store.JournalEntry, len(keys))
	errs := each(len(keys), func(i int) error {
		k := keys[i]
		var lrecs []libdns.Record
		var entries []store.JournalEntry
		for _, r := range groups[k] {
			lrecs = append(lrecs, is.txt(r.Target, k.zone, r.Value))
			entries = append(entries, journalEntry(k, r, time.Time{}))
		}
		if _, err := k.entry.Provider.DeleteRecords(cctx, k.zone, lrecs); err != nil {
			return fmt.Errorf("%s: deleting %d record(s) in zone %s: %w (kept in the journal; the next run tries again)", k.entry.Name, len(lrecs), strings.TrimSuffix(k.zone, "."), err)
		}
		done[i] = entries
		return nil
	})
	var removed []store.JournalEntry
	for _, es := range done {
		removed = append(removed, es...)
	}
	if len(removed) > 0 {
		if err := is.journal().Remove(removed...); err != nil {
			errs = append(errs, err)
		}
	}
	err := errors.Join(errs...)
	if err == nil {
		is.logf("cleaned up %d record(s)", len(removed))
	}
	return err
}

// Sweep removes challenge records left by earlier runs that were killed
// before their clean-up (the journal), exactly those values and nothing else
// (case NC07). Entries whose provider is not configured now are kept.
func (is *Issuer) Sweep(ctx context.Context) (removed int, err error) {
	entries, err := is.journal().Entries()
	if err != nil || len(entries) == 0 || is.cfg.Providers == nil {
		return 0, err
	}
	type key struct{ provider, zone string }
	groups := map[key][]store.JournalEntry{}
	for _, e := range entries {
		groups[key{e.Provider, e.Zone}] = append(groups[key{e.Provider, e.Zone}], e)
	}
	var errs []error
	for k, es := range groups {
		var entry *providers.Entry
		for _, e := range is.cfg.Providers.Entries() {
			if e.Name == k.provider {
				entry = e
			}
		}
		if entry == nil {
			is.logf("journal: %d leftover record(s) in zone %s written by provider %q, which is not configured now; kept", len(es), k.zone, k.provider)
			continue
		}
		var lrecs []libdns.Record
		for _, e := range es {
			lrecs = append(lrecs, is.txt(e.FQDN, e.Zone, e.Value))
		}
		if _, err := entry.Provider.DeleteRecords(ctx, k.zone, lrecs); err != nil {
			errs = append(errs, fmt.Errorf("removing %d leftover record(s) in zone %s: %w", len(es), k.zone, err))
			continue
		}
		if err := is.journal().Remove(es...); err != nil {
			errs = append(errs, err)
			continue
		}
		removed += len(es)
		is.logf("journal: removed %d leftover record(s) from an interrupted run in zone %s", len(es), strings.TrimSuffix(k.zone, "."))
	}
	return removed, errors.Join(errs...)
}

// deadlineSoon reports whether ctx has a deadline: a strategy that refuses
// to start a wait longer than the time left has hit the --timeout.
func deadlineSoon(ctx context.Context) bool {
	_, ok := ctx.Deadline()
	return ok
}
