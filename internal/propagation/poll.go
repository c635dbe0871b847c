package propagation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
)

// Defaults for Poll and ProviderCheck.
const (
	DefaultPollInitial = time.Second      // first pause between polls
	DefaultPollMax     = 10 * time.Second // pauses double up to this
	// DefaultMaxFailures is how many permanent failures in a row (TLS
	// failures, HTTP 4xx, REFUSED or NOTIMP answers) drop an endpoint
	// (case PR08).
	DefaultMaxFailures = 2
	// DefaultMaxUnreachable is how many failed exchanges in a row of any
	// kind (timeouts, refused or reset connections, HTTP 5xx, replies that
	// are not DNS) drop an endpoint as unreachable (case PR09). With the
	// default per-request timeout of 5 s and the pauses between rounds,
	// an endpoint that drops every packet is given up after about 18 s.
	DefaultMaxUnreachable = 3
)

// Poll asks each configured recursive resolver for the TXT RRset at every
// record's FQDN until a quorum of them returns every expected value. It is
// the "doh" strategy with DoH resolvers and the "resolver" strategy with
// plain-DNS or DoT ones; the code is the same.
//
// The default quorum is a majority of the endpoints that answer, at least
// one. An endpoint that cannot be used (dropped, or failing its latest
// exchange) has no say: on a locked-down network some public resolvers are
// simply unreachable, and requiring them would sink every check (a quorum
// of "all" did). An endpoint that answers but does not show the records
// yet counts against the quorum: a majority guards against one resolver's
// stale or filtered view without letting one lagging resolver hold up the
// others forever. Quorum N asks for a fixed number instead.
//
// A round sends one query per FQDN not yet confirmed to every resolver
// still in play, all resolvers concurrently, so a hanging endpoint costs at
// most its per-request timeout (resolver.Options.Timeout) per round and is
// not waited for once the quorum is met (case PR09). Rounds are separated
// by a backoff from PollInitial doubling to PollMax.
//
// NXDOMAIN and NODATA mean "not yet"; the remaining negative-cache time
// from the SOA in the authority section (RFC 2308 §5) is reported through
// the Observer (case PR10). SERVFAIL and transport errors are reported and
// retried. An endpoint is dropped, reported once with the reason and the
// fix (resolver.Diagnose), when it fails MaxFailures times in a row with a
// permanent failure (TLS, HTTP 4xx, a REFUSED or NOTIMP answer), or
// MaxUnreachable times in a row with any failure (timeout, refused or reset
// connection); the check goes on when the others can still make the quorum
// (cases PR08, PR09). When every endpoint is dropped the check ends at once with each
// one's reason and fix, so a network that blocks them all is told within
// a minute, not at the deadline; a Fallback then hands over to the next
// strategy.
//
// No query is sent before Wait is called, nor before written (case PR10).
// A Poll is safe for concurrent use by several Wait calls.
type Poll struct {
	// StrategyName is what Name returns: "doh" or "resolver".
	StrategyName string
	// Resolvers are asked; at least one.
	Resolvers []resolver.Resolver
	// Quorum is how many resolvers must see every record; 0 means a
	// majority of the endpoints that answer, at least one.
	Quorum int
	// Timeout bounds the whole check, measured on Clock from the Wait
	// call; 0 means only ctx bounds it.
	Timeout time.Duration
	// PollInitial and PollMax shape the backoff between rounds; zero means
	// DefaultPollInitial and DefaultPollMax.
	PollInitial, PollMax time.Duration
	// MaxFailures is how many permanent failures in a row (TLS, HTTP 4xx,
	// REFUSED, NOTIMP) drop an endpoint; 0 means DefaultMaxFailures.
	MaxFailures int
	// MaxUnreachable is how many failures in a row of any kind drop an
	// endpoint; 0 means DefaultMaxUnreachable.
	MaxUnreachable int
	// FailFast gives up as soon as negative answers cached at enough
	// resolvers will outlive the time left, instead of polling until the
	// deadline (needs Timeout or a ctx deadline).
	FailFast bool
	// Clock is used for every pause and deadline; nil means Real.
	Clock Clock

	// fix, when set, replaces resolver.Diagnose's fix in the report of an
	// endpoint dropped as unreachable: the authoritative strategy's
	// servers are not --resolver endpoints.
	fix string
}

// Name returns StrategyName, or "doh" when it is empty.
func (p *Poll) Name() string {
	if p.StrategyName == "" {
		return "doh"
	}
	return p.StrategyName
}

// NotVisibleError says the records did not become visible: per resolver (or
// per zone for ProviderCheck), what it last saw.
type NotVisibleError struct {
	Strategy string
	// Reason is a short cause: "timed out", "quorum cannot be met", "no
	// resolver can be used", ...
	Reason string
	// After is the time spent in Wait, measured on the strategy's Clock.
	After time.Duration
	// Seen has one line per resolver or zone, e.g.
	// `dns.google: _acme-challenge.a.example. TXT ["abc"] missing "xyz"`.
	Seen []string
	// Err is ctx.Err() when the context ended the check, else nil.
	Err error
}

func (e *NotVisibleError) Error() string {
	return fmt.Sprintf("propagation %s: %s after %s: %s", e.Strategy, e.Reason, fmtDur(e.After), strings.Join(e.Seen, "; "))
}

// Unwrap returns the context error that ended the check, if any.
func (e *NotVisibleError) Unwrap() error { return e.Err }

// want is one FQDN and the TXT values expected there.
type want struct {
	fqdn   string
	values []string
}

// groupRecords merges records by lower-cased FQDN, sorted, values deduped.
func groupRecords(recs []Record) []want {
	byName := map[string][]string{}
	for _, r := range recs {
		n := strings.ToLower(dns.Fqdn(r.FQDN))
		if !slices.Contains(byName[n], r.Value) {
			byName[n] = append(byName[n], r.Value)
		}
	}
	out := make([]want, 0, len(byName))
	for n, v := range byName {
		out = append(out, want{fqdn: n, values: v})
	}
	slices.SortFunc(out, func(a, b want) int { return strings.Compare(a.fqdn, b.fqdn) })
	return out
}

// sight is what one resolver last said about one FQDN.
type sight struct {
	rcode   int      // when err == ""
	values  []string // TXT values present
	neg     bool     // NXDOMAIN or NODATA
	negTTL  time.Duration
	negFrom string    // "SOA MINIMUM" or "SOA TTL"; "" without SOA
	at      time.Time // Clock time of the answer
	err     string    // transport failure reason
	cname   []string  // CNAME chain at the name in the answer
}

// describe is the one-line state of one FQDN, for reports.
func (s *sight) describe(w want, now time.Time) string {
	switch {
	case s == nil:
		return w.fqdn + " not asked yet"
	case s.err != "":
		return w.fqdn + " " + s.err
	case len(s.cname) > 0:
		return w.fqdn + " " + cnameTo(s.cname)
	case s.neg:
		kind := rcodeName(s.rcode)
		if s.negFrom == "" {
			return fmt.Sprintf("%s %s (no SOA)", w.fqdn, kind)
		}
		left := max(s.negTTL-now.Sub(s.at), 0)
		return fmt.Sprintf("%s %s (cached up to %s more)", w.fqdn, kind, fmtDur(left))
	case s.rcode != dns.RcodeSuccess:
		return w.fqdn + " " + rcodeName(s.rcode)
	}
	return fmt.Sprintf("%s TXT %s missing %s", w.fqdn, quoteList(s.values), quoteList(missing(w.values, s.values)))
}

// cnameTo renders a CNAME chain seen in an answer: "CNAME to b." or
// "CNAME to b. (chain ends at c.)".
func cnameTo(chain []string) string {
	if len(chain) == 1 {
		return "CNAME to " + chain[0]
	}
	return fmt.Sprintf("CNAME to %s (chain ends at %s)", chain[0], chain[len(chain)-1])
}

// CNAMEError says a resolver answered the TXT question at a name the
// records were written at with a CNAME chain: the records can never be
// seen there, because a CNAME owns its name (RFC 1034 §3.6.2) and the CA
// follows it. The check ends at once; waiting cannot help.
type CNAMEError struct {
	// Name is where the records were written; Targets the CNAME chain
	// from it, as in the answer.
	Name    string
	Targets []string
	// Via is the resolver that answered.
	Via string
}

func (e *CNAMEError) Error() string {
	return fmt.Sprintf("%s is a %s (answer from %s), so the TXT written there is hidden and the CA will look at %s: write at the CNAME's target instead (--follow-cname or follow_cname = true, or --challenge-target / challenge_targets), or remove the CNAME",
		e.Name, cnameTo(e.Targets), e.Via, e.Targets[len(e.Targets)-1])
}

// MissingRecord marks an error whose fix is DNS set-up, not a retry (exit
// code 6).
func (e *CNAMEError) MissingRecord() bool { return true }

// replaced reports whether have lacks a value of wantV while holding one
// written after it (wantV is in write order): the earlier one was replaced,
// not merely late, since a resolver caches a TXT RRset whole.
func replaced(wantV, have []string) (gone, kept []string, ok bool) {
	last := -1
	for i, v := range wantV {
		if slices.Contains(have, v) {
			last = i
		}
	}
	for i, v := range wantV {
		if i < last && !slices.Contains(have, v) {
			gone = append(gone, v)
		}
		if slices.Contains(have, v) {
			kept = append(kept, v)
		}
	}
	return gone, kept, len(gone) > 0
}

// ReplacedError says a TXT value written earlier at a name is gone while
// one written after it is there: the provider keeps one value per name
// (an upsert script replaces the RRset on each write), so an apex and its
// wildcard can never be seen together. The check ends at once.
type ReplacedError struct {
	Name       string
	Gone, Kept []string
	// Via is the resolver or zone that showed it.
	Via string
}

func (e *ReplacedError) Error() string {
	return fmt.Sprintf("%s holds TXT %s but no longer %s, written before it (seen at %s): the provider replaces the value at a name on each write; validate names that share it one after the other with --sequential (single_value = true in the provider's config; EXEC_SEQUENTIAL=true for an exec script)",
		e.Name, quoteList(e.Kept), quoteList(e.Gone), e.Via)
}

func rcodeName(rcode int) string {
	if rcode == dns.RcodeSuccess {
		return "NODATA"
	}
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}

// quoteList prints ["a" "b"] with the values quoted, or a single "x".
func quoteList(v []string) string {
	if len(v) == 1 {
		return fmt.Sprintf("%q", v[0])
	}
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, " ") + "]"
}

func missing(wantV, have []string) []string {
	var out []string
	for _, v := range wantV {
		if !slices.Contains(have, v) {
			out = append(out, v)
		}
	}
	return out
}

// endpoint is the per-resolver state of one Wait call. During a round only
// the goroutine polling it touches it; the round's channel hands it back.
type endpoint struct {
	r        resolver.Resolver
	label    string
	seen     map[string]*sight // by FQDN
	ok       map[string]bool   // FQDNs confirmed
	fails    int               // failed exchanges in a row, of any kind
	perm     int               // permanent failures in a row
	failing  bool              // the latest exchange failed (no say in the quorum)
	dropped  string            // reason and fix, once dropped
	cname    string            // an FQDN the endpoint saw a CNAME at
	replaced *ReplacedError    // a value written earlier was replaced
	reported map[string]string // last observer key per FQDN, to say each change once
}

// answers reports whether e has a say in a majority quorum: not dropped,
// and its latest exchange gave a DNS answer (or it has not been asked yet,
// which counts against the quorum until it is).
func (e *endpoint) answers() bool { return e.dropped == "" && !e.failing }

func (e *endpoint) complete(ws []want) bool { return len(e.ok) == len(ws) }

// label shortens a DoH URL to its host for reports; other specs stay.
func label(r resolver.Resolver) string {
	s := r.String()
	if u, err := url.Parse(s); err == nil && u.Scheme == "https" && u.Host != "" {
		return u.Host
	}
	return s
}

// Wait implements Strategy.
func (p *Poll) Wait(ctx context.Context, recs []Record, written time.Time, obs Observer) error {
	if written.IsZero() {
		return errNoWrite
	}
	if len(p.Resolvers) == 0 {
		return fmt.Errorf("propagation %s: no resolvers configured", p.Name())
	}
	if p.Quorum < 0 || p.Quorum > len(p.Resolvers) {
		return fmt.Errorf("propagation %s: quorum %d out of range 1..%d (number of resolvers); 0 means a majority of those that answer", p.Name(), p.Quorum, len(p.Resolvers))
	}
	ws := groupRecords(recs)
	if len(ws) == 0 {
		return nil
	}
	c := clockOr(p.Clock)
	lim := limits{perm: p.MaxFailures, any: p.MaxUnreachable}
	if lim.perm <= 0 {
		lim.perm = DefaultMaxFailures
	}
	if lim.any <= 0 {
		lim.any = DefaultMaxUnreachable
	}

	// RFC 2308: a query before the write would plant a negative answer in
	// the resolver's cache. Callers pass the write time; if the clock says
	// it is still ahead (skew, misuse), wait for it.
	if early := written.Sub(c.Now()); early > 0 {
		if err := sleep(ctx, c, early); err != nil {
			return err
		}
	}
	start := c.Now()
	var deadline time.Time
	if p.Timeout > 0 {
		deadline = start.Add(p.Timeout)
	}

	eps := make([]*endpoint, len(p.Resolvers))
	labels := make([]string, len(p.Resolvers))
	for i, r := range p.Resolvers {
		eps[i] = &endpoint{r: r, label: label(r), seen: map[string]*sight{}, ok: map[string]bool{}, reported: map[string]string{}}
		labels[i] = eps[i].label
	}
	need := "a majority of those that answer, at least 1"
	if p.Quorum > 0 {
		need = fmt.Sprintf("%d of %d", p.Quorum, len(eps))
	}
	obs.say("propagation %s: checking %d name(s) at %s (need %s)", p.Name(), len(ws), strings.Join(labels, ", "), need)

	fail := func(reason string, err error) error {
		now := c.Now()
		lines := make([]string, 0, len(eps))
		for _, e := range eps {
			lines = append(lines, e.summary(ws, now))
		}
		return &NotVisibleError{Strategy: p.Name(), Reason: reason, After: now.Sub(start), Seen: lines, Err: err}
	}

	bo := newBackoff(p.PollInitial, p.PollMax)
	for {
		p.round(ctx, c, eps, ws, lim, deadline, obs)
		for _, e := range eps {
			if e.cname != "" {
				s := e.seen[e.cname]
				return &CNAMEError{Name: e.cname, Targets: s.cname, Via: e.label}
			}
			if e.replaced != nil {
				return e.replaced
			}
		}

		var done, alive int
		for _, e := range eps {
			if e.dropped == "" {
				alive++
				if e.complete(ws) {
					done++
				}
			}
		}
		quorum := p.quorum(eps, nil)
		if done >= quorum {
			obs.say("propagation %s: all %d name(s) visible at %d of %d resolvers after %s%s", p.Name(), len(ws), done, len(eps), fmtDur(c.Now().Sub(start)), droppedNote(eps))
			return nil
		}
		if alive == 0 {
			return fail(fmt.Sprintf("no resolver can be used (all %d dropped)", len(eps)), nil)
		}
		if alive < quorum {
			return fail(fmt.Sprintf("quorum cannot be met (%d of %d resolvers needed, %d dropped)", quorum, len(eps), len(eps)-alive), nil)
		}
		if err := ctx.Err(); err != nil {
			return fail(stopReason(err), err)
		}
		now := c.Now()
		left, bounded := timeLeft(ctx, deadline, now)
		if bounded && left <= 0 {
			return fail("timed out", context.DeadlineExceeded)
		}
		if bounded && p.FailFast {
			if hopeless := p.hopeless(eps, ws, now, left); alive-hopeless < quorum { // alive counts the complete ones too
				return fail(fmt.Sprintf("giving up with %s left: negative answers stay cached longer", fmtDur(left)), nil)
			}
		}
		pause := bo.Next()
		if bounded {
			pause = min(pause, left)
		}
		if err := sleep(ctx, c, pause); err != nil {
			return fail(stopReason(err), err)
		}
	}
}

// limits are the failure streaks that drop an endpoint.
type limits struct{ perm, any int }

// quorum is how many endpoints must see every record now: Quorum, or a
// majority of the endpoints that answer (at least one). answering, when not
// nil, overrides endpoint.answers for the endpoints it holds (a round in
// progress knows only the endpoints that finished).
func (p *Poll) quorum(eps []*endpoint, answering map[*endpoint]bool) int {
	if p.Quorum > 0 {
		return p.Quorum
	}
	n := 0
	for _, e := range eps {
		a, known := answering[e]
		if !known {
			a = e.answers()
		}
		if a {
			n++
		}
	}
	return max(1, n/2+1)
}

// droppedNote lists the dropped endpoints for the success line, so the log
// says which resolvers the result rests on and which were left out.
func droppedNote(eps []*endpoint) string {
	var d []string
	for _, e := range eps {
		if e.dropped != "" {
			d = append(d, e.label+" ("+e.dropped+")")
		}
	}
	if len(d) == 0 {
		return ""
	}
	return "; dropped " + strings.Join(d, "; ")
}

func stopReason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return "canceled"
}

// timeLeft is the time until the earlier of deadline (Clock time) and the
// ctx deadline (wall time); bounded is false when neither is set.
func timeLeft(ctx context.Context, deadline, now time.Time) (left time.Duration, bounded bool) {
	if !deadline.IsZero() {
		left, bounded = deadline.Sub(now), true
	}
	if dl, ok := ctx.Deadline(); ok {
		if l := time.Until(dl); !bounded || l < left {
			left, bounded = l, true
		}
	}
	return left, bounded
}

// hopeless counts endpoints still in play, not complete, with a negative
// answer for some FQDN that stays cached past the time left.
func (p *Poll) hopeless(eps []*endpoint, ws []want, now time.Time, left time.Duration) int {
	n := 0
	for _, e := range eps {
		if e.dropped != "" || e.complete(ws) {
			continue
		}
		for _, w := range ws {
			if s := e.seen[w.fqdn]; !e.ok[w.fqdn] && s != nil && s.neg && s.negFrom != "" && s.negTTL-now.Sub(s.at) > left {
				n++
				break
			}
		}
	}
	return n
}

// summary is one endpoint's line in a NotVisibleError.
func (e *endpoint) summary(ws []want, now time.Time) string {
	if e.dropped != "" {
		return e.label + ": dropped (" + e.dropped + ")"
	}
	if e.complete(ws) {
		return e.label + ": all visible"
	}
	var parts []string
	for _, w := range ws {
		if !e.ok[w.fqdn] {
			parts = append(parts, e.seen[w.fqdn].describe(w, now))
		}
	}
	return e.label + ": " + strings.Join(parts, ", ")
}

// round polls every endpoint still in play concurrently and returns when
// all have answered, or as soon as the quorum is met (the rest are
// canceled and waited for, so no goroutine outlives the round).
//
// An endpoint still running counts with what it was before the round (an
// endpoint not asked yet counts against a majority quorum), so the round
// does not end early on the word of the fastest endpoint alone.
func (p *Poll) round(ctx context.Context, c Clock, eps []*endpoint, ws []want, lim limits, deadline time.Time, obs Observer) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	finished := make(chan *endpoint, len(eps)) // buffered: stragglers never block
	// Read only here: the endpoints' goroutines own them until they finish.
	answering := make(map[*endpoint]bool, len(eps))
	for _, e := range eps {
		answering[e] = e.answers()
	}
	var wg sync.WaitGroup
	running, done := 0, 0
	for _, e := range eps {
		if e.dropped != "" {
			continue
		}
		if e.complete(ws) {
			done++
			continue
		}
		running++
		wg.Go(func() {
			p.poll(rctx, c, e, ws, lim, deadline, obs)
			finished <- e
		})
	}
	for ; running > 0 && done < p.quorum(eps, answering); running-- {
		e := <-finished
		answering[e] = e.answers()
		if e.dropped == "" && e.complete(ws) {
			done++
		}
	}
	cancel()
	wg.Wait()
}

// poll asks one endpoint about every FQDN it has not confirmed, stopping at
// the first transport failure: the endpoint is the problem, and each
// further query would cost another timeout.
func (p *Poll) poll(ctx context.Context, c Clock, e *endpoint, ws []want, lim limits, deadline time.Time, obs Observer) {
	for _, w := range ws {
		if e.ok[w.fqdn] {
			continue
		}
		msg, err := resolver.Query(ctx, e.r, w.fqdn, dns.TypeTXT)
		var re *resolver.Error
		if ctx.Err() != nil || (errors.As(err, &re) && re.Kind == resolver.KindCanceled) {
			return // our context ended: says nothing about the endpoint
		}
		now := c.Now()
		if err != nil {
			reason, fix := resolver.Diagnose(err)
			e.seen[w.fqdn] = &sight{err: reason, at: now}
			e.failed(obs, reason, fix, re != nil && re.Permanent(), lim, p.fix)
			return
		}
		if reason, fix, bad := resolver.DiagnoseRcode(msg.Rcode); bad {
			// REFUSED or NOTIMP is a verdict on us, not on the name:
			// like HTTP 403.
			e.seen[w.fqdn] = &sight{rcode: msg.Rcode, at: now}
			e.failed(obs, reason, fix, true, lim, p.fix)
			return
		}
		e.fails, e.perm, e.failing = 0, 0, false
		delete(e.reported, "") // a later transport failure is news again
		s := &sight{rcode: msg.Rcode, at: now, values: resolver.TXTValues(msg, w.fqdn)}
		e.seen[w.fqdn] = s
		if cn := resolver.CNAMETargets(msg, w.fqdn); len(cn) > 0 && len(missing(w.values, s.values)) > 0 {
			// Not "NODATA": the TXT written at the name is hidden behind
			// the CNAME and will never be seen there.
			s.cname = cn
			e.cname = w.fqdn
			e.report(obs, w.fqdn, "cname "+strings.Join(cn, " "), "%s: %s is a %s", e.label, w.fqdn, cnameTo(cn))
			return
		}
		switch {
		case resolver.IsNegative(msg):
			s.neg = true
			kind := rcodeName(msg.Rcode)
			if soa := resolver.NegativeSOA(msg); soa != nil {
				s.negTTL, _ = resolver.NegativeTTL(msg)
				s.negFrom = "SOA TTL"
				if soa.Minttl <= soa.Hdr.Ttl {
					s.negFrom = "SOA MINIMUM"
				}
				note := ""
				if !deadline.IsZero() && now.Add(s.negTTL).After(deadline) {
					note = fmt.Sprintf("; longer than the %s left", fmtDur(deadline.Sub(now)))
				}
				e.report(obs, w.fqdn, kind, "%s: %s for %s (negative answer may stay cached up to %s, from %s%s)",
					e.label, kind, w.fqdn, fmtDur(s.negTTL), s.negFrom, note)
			} else {
				e.report(obs, w.fqdn, kind, "%s: %s for %s (no SOA in the answer)", e.label, kind, w.fqdn)
			}
		case msg.Rcode != dns.RcodeSuccess:
			// SERVFAIL and the like say nothing about the records: the
			// endpoint has no say in the quorum until it answers again,
			// but it is not dropped (the zone's servers may recover).
			e.failing = true
			e.report(obs, w.fqdn, rcodeName(msg.Rcode), "%s: %s for %s; retrying", e.label, rcodeName(msg.Rcode), w.fqdn)
		default:
			if m := missing(w.values, s.values); len(m) > 0 {
				if gone, kept, ok := replaced(w.values, s.values); ok {
					e.replaced = &ReplacedError{Name: w.fqdn, Gone: gone, Kept: kept, Via: e.label}
					e.report(obs, w.fqdn, "replaced", "%s: %s has TXT %s, but no longer %s written before it", e.label, w.fqdn, quoteList(kept), quoteList(gone))
					return
				}
				e.report(obs, w.fqdn, "partial "+strings.Join(s.values, "\x00"), "%s: %s has TXT %s, missing %s",
					e.label, w.fqdn, quoteList(s.values), quoteList(m))
				continue
			}
			e.ok[w.fqdn] = true
			e.report(obs, w.fqdn, "ok", "%s: %s visible", e.label, w.fqdn)
		}
	}
}

// failed counts one failed exchange and drops e once a streak reaches its
// limit, saying why and what fixes it (override replaces the fix of a
// failure that is not permanent: the path, not the server's verdict).
func (e *endpoint) failed(obs Observer, reason, fix string, permanent bool, lim limits, override string) {
	e.failing = true
	e.fails++
	if permanent {
		e.perm++
	} else {
		e.perm = 0
	}
	if override != "" && !permanent {
		fix = override
	}
	if e.perm >= lim.perm || e.fails >= lim.any {
		e.dropped = fmt.Sprintf("%s, %d times in a row", reason, e.fails)
		if fix != "" {
			e.dropped += ": " + fix
		}
		obs.say("%s: dropped: %s; continuing with the other resolvers", e.label, e.dropped)
		return
	}
	e.report(obs, "", "err "+reason, "%s: %s; retrying", e.label, reason)
}

// report sends a line when key (what changed) differs from the last one
// reported for fqdn, so a poll that sees the same thing stays quiet.
func (e *endpoint) report(obs Observer, fqdn, key, format string, args ...any) {
	if e.reported[fqdn] == key {
		return
	}
	e.reported[fqdn] = key
	obs.say(format, args...)
}
