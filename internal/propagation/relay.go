package propagation

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/retryafter"
)

// DefaultRelayInterval is the first pause between rounds of Relay when
// Relay.Interval is zero; pauses double up to DefaultRelayMaxInterval.
const (
	DefaultRelayInterval    = 2 * time.Second
	DefaultRelayMaxInterval = 30 * time.Second
	// DefaultRelayPerMinute is the challenge server's default limit of
	// /lookup calls per account and minute (its lookups_per_minute); Relay
	// spaces its rounds so that one round per pause stays within it.
	DefaultRelayPerMinute = 30
)

// Relay is the "relay" strategy: for clients that cannot send DNS at all, it
// asks a `strictacme serve` challenge server (POST /lookup, over HTTPS) to
// query every authoritative server of each record's zone directly, without
// a cache, and waits until every one of them serves the value. The server
// authenticates the call with an acme-dns account (any account on it).
//
// One /lookup per name and round, not per record (an apex and its wildcard
// share a name). Rounds are separated by a backoff from Interval doubling
// to MaxInterval, never shorter than the server's limit allows for the
// names still pending (PerMinute), and never shorter than a 429's
// Retry-After: a 429 ends the round at once. The last reason a name was not
// confirmed is carried into the final error, also when the context ends.
//
// Relay sends no DNS packets itself. Safe for concurrent use.
type Relay struct {
	// URL is the challenge server's API base, e.g. "https://auth.example.org".
	URL string
	// Username and Password are an account's X-Api-User and X-Api-Key.
	Username, Password string
	// HTTPClient (a 30 s timeout client if nil).
	HTTPClient *http.Client
	// Clock for every pause (Real if nil).
	Clock Clock
	// Interval is the first pause between rounds (DefaultRelayInterval if
	// zero); MaxInterval the longest (DefaultRelayMaxInterval if zero).
	Interval, MaxInterval time.Duration
	// PerMinute is the server's /lookup limit per account
	// (DefaultRelayPerMinute if zero).
	PerMinute int
	// Timeout bounds the whole wait on Clock; zero means only ctx does.
	Timeout time.Duration
}

// Name implements Strategy.
func (r *Relay) Name() string { return "relay" }

// relayServer mirrors one entry of the /lookup reply (authlookup.Server).
type relayServer struct {
	NS      string   `json:"ns"`
	Address string   `json:"address"`
	Rcode   string   `json:"rcode"`
	TXT     []string `json:"txt"`
	Error   string   `json:"error"`
}

type relayResult struct {
	Zone    string        `json:"zone"`
	Servers []relayServer `json:"servers"`
}

// errRelayFatal marks replies that retrying cannot fix (bad credentials, no
// /lookup on the server).
var errRelayFatal = errors.New("relay")

// relayLimited is a 429 from the server; until is its Retry-After (zero
// when it sent none).
type relayLimited struct {
	msg   string
	until time.Time
}

func (e *relayLimited) Error() string { return e.msg }

// Wait implements Strategy: it returns nil once, for every record, every
// authoritative server answered NOERROR with the value.
func (r *Relay) Wait(ctx context.Context, recs []Record, written time.Time, obs Observer) error {
	c := clockOr(r.Clock)
	bo := newBackoff(cmp.Or(r.Interval, DefaultRelayInterval), cmp.Or(r.MaxInterval, DefaultRelayMaxInterval))
	perMinute := cmp.Or(r.PerMinute, DefaultRelayPerMinute)
	start := c.Now()
	pending := groupRecords(recs)
	total := len(pending)
	var why string
	for round := 1; ; round++ {
		var still []want
		var until time.Time
		for i, w := range pending {
			res, err := r.lookup(ctx, w.fqdn, c.Now())
			if errors.Is(err, errRelayFatal) {
				return err
			}
			var lim *relayLimited
			if errors.As(err, &lim) {
				// Asking again now only earns another 429.
				still = append(still, pending[i:]...)
				until, why = lim.until, err.Error()
				break
			}
			if err != nil {
				if ctx.Err() != nil {
					return r.pendingError(len(pending)-i+len(still), total, why, ctx.Err())
				}
				still = append(still, w)
				why = err.Error()
				continue
			}
			var gaps []string
			for _, v := range w.values {
				for _, m := range missingAt(res, v) {
					if !slices.Contains(gaps, m) {
						gaps = append(gaps, m)
					}
				}
			}
			if len(gaps) > 0 {
				still = append(still, w)
				why = fmt.Sprintf("%s not yet at %s", w.fqdn, strings.Join(gaps, ", "))
			}
		}
		if len(still) == 0 {
			obs.say("relay: all %d name(s) visible at every authoritative server", total)
			return nil
		}
		pending = still
		pause := max(bo.Next(), time.Duration(len(pending))*time.Minute/time.Duration(perMinute))
		if d := until.Sub(c.Now()); d > pause {
			pause = d
		}
		obs.say("relay: round %d: %d of %d name(s) pending (%s); next round in %s", round, len(still), total, why, fmtDur(pause))
		if r.Timeout > 0 && c.Now().Sub(start)+pause > r.Timeout {
			return fmt.Errorf("relay: %d of %d name(s) not visible at every authoritative server within %s: %s", len(still), total, r.Timeout, why)
		}
		if err := sleep(ctx, c, pause); err != nil {
			return r.pendingError(len(still), total, why, err)
		}
	}
}

// pendingError ends a Wait the context stopped, keeping the last reason.
func (r *Relay) pendingError(n, total int, why string, err error) error {
	if why == "" {
		return fmt.Errorf("relay: %d of %d name(s) still pending: %w", n, total, err)
	}
	return fmt.Errorf("relay: %d of %d name(s) still pending (last: %s): %w", n, total, why, err)
}

// missingAt lists the servers that did not serve value.
func missingAt(res *relayResult, value string) []string {
	if len(res.Servers) == 0 {
		return []string{"(no authoritative servers found for " + res.Zone + ")"}
	}
	var out []string
	for _, s := range res.Servers {
		ok := s.Error == "" && s.Rcode == "NOERROR" && slices.Contains(s.TXT, value)
		if !ok {
			detail := s.Rcode
			if s.Error != "" {
				detail = s.Error
			}
			out = append(out, fmt.Sprintf("%s (%s: %s)", s.NS, s.Address, detail))
		}
	}
	return out
}

func (r *Relay) lookup(ctx context.Context, fqdn string, now time.Time) (*relayResult, error) {
	base, err := url.Parse(r.URL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("%w: server URL %q is not a URL", errRelayFatal, r.URL)
	}
	body, _ := json.Marshal(map[string]string{"name": fqdn, "type": "TXT"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.JoinPath("lookup").String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-User", r.Username)
	req.Header.Set("X-Api-Key", r.Password)
	client := r.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("relay: %s: %v", base.Redacted(), err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	switch {
	case res.StatusCode == http.StatusOK:
	case res.StatusCode == http.StatusTooManyRequests:
		until := retryafter.Parse(res.Header.Get("Retry-After"), now)
		msg := fmt.Sprintf("relay: %s/lookup answered 429 %s", base.Redacted(), strings.TrimSpace(string(b)))
		if !until.IsZero() {
			msg += fmt.Sprintf(" (Retry-After %s)", fmtDur(until.Sub(now)))
		}
		return nil, &relayLimited{msg: msg, until: until}
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusBadRequest || res.StatusCode == http.StatusMethodNotAllowed:
		return nil, fmt.Errorf("%w: %s/lookup answered %d %s (needs a strictacme serve with lookup enabled and a valid account)", errRelayFatal, base.Redacted(), res.StatusCode, strings.TrimSpace(string(b)))
	default:
		return nil, fmt.Errorf("relay: %s/lookup answered %d %s", base.Redacted(), res.StatusCode, strings.TrimSpace(string(b)))
	}
	var out relayResult
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("relay: %s/lookup: %v", base.Redacted(), err)
	}
	return &out, nil
}
