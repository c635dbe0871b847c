package propagation

import (
	"bytes"
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
)

// DefaultRelayInterval is the pause between rounds of Relay when
// Relay.Interval is zero.
const DefaultRelayInterval = 2 * time.Second

// Relay is the "relay" strategy: for clients that cannot send DNS at all, it
// asks a `strictacme serve` challenge server (POST /lookup, over HTTPS) to
// query every authoritative server of each record's zone directly, without
// a cache, and waits until every one of them serves the value. The server
// authenticates the call with an acme-dns account (any account on it).
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
	// Interval between rounds (DefaultRelayInterval if zero).
	Interval time.Duration
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

// Wait implements Strategy: it returns nil once, for every record, every
// authoritative server answered NOERROR with the value.
func (r *Relay) Wait(ctx context.Context, recs []Record, written time.Time, obs Observer) error {
	c := clockOr(r.Clock)
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultRelayInterval
	}
	start := c.Now()
	pending := slices.Clone(recs)
	for round := 1; ; round++ {
		var still []Record
		var why string
		for _, rec := range pending {
			res, err := r.lookup(ctx, rec.FQDN)
			if errors.Is(err, errRelayFatal) {
				return err
			}
			if err != nil {
				still = append(still, rec)
				why = err.Error()
				continue
			}
			if missing := missingAt(res, rec.Value); len(missing) > 0 {
				still = append(still, rec)
				why = fmt.Sprintf("%s not yet at %s", rec.FQDN, strings.Join(missing, ", "))
			}
		}
		if len(still) == 0 {
			obs.say("relay: all %d records visible at every authoritative server", len(recs))
			return nil
		}
		pending = still
		obs.say("relay: round %d: %d of %d records pending (%s)", round, len(still), len(recs), why)
		if r.Timeout > 0 && c.Now().Sub(start)+interval > r.Timeout {
			return fmt.Errorf("relay: %d records not visible at every authoritative server within %s: %s", len(still), r.Timeout, why)
		}
		if err := sleep(ctx, c, interval); err != nil {
			return fmt.Errorf("relay: %d records still pending: %w", len(still), err)
		}
	}
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

func (r *Relay) lookup(ctx context.Context, fqdn string) (*relayResult, error) {
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
