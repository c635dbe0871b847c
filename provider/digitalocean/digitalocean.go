// Package digitalocean is a libdns provider for DigitalOcean DNS through
// the API v2 (https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domain-Records).
//
// Zones are the account's domains (GET /v2/domains, every page), never a
// DNS question. DigitalOcean has no batch endpoint: each record is one
// POST and each delete one DELETE, after one paginated read of the
// domain's TXT records per call, so values already there are not written
// twice and ours take the TTL of TXT records already at the name. Deletes
// remove exactly the given values, by the IDs of the records holding
// them; other values at the same name stay. A 429 is waited out as its
// Retry-After or the ratelimit-reset header asks, up to MaxRateWait, and
// a quota seen used up is waited out before the next call; refusals are
// *APIError, whose text explains the API's error id.
package digitalocean

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
	"github.com/strictacme/strictacme/internal/providers"
)

// Defaults of the zero Provider.
const (
	// DefaultBaseURL is the API endpoint (paths start with /v2).
	DefaultBaseURL = "https://api.digitalocean.com"
	// DefaultTTL is the TTL of a record that gives none, seconds: lego's
	// DO_TTL default and the API's minimum.
	DefaultTTL = 30
	// DefaultMaxRateWait is the longest wait for the rate limit: the
	// burst limit (250 a minute) clears within a minute.
	DefaultMaxRateWait = 70 * time.Second
	// DefaultServingLag is how long DigitalOcean's name servers take to
	// serve a record the API created: seconds.
	DefaultServingLag = 5 * time.Second
	perPage           = 200
)

// Provider writes TXT records in DigitalOcean domains. It is ready to use
// from its zero value once Token is set. The JSON names are those a Caddy
// configuration would use. Do not change the fields after the first call.
// Safe for concurrent use.
type Provider struct {
	// Token is a personal access token with domain:read, domain:create
	// and domain:delete (or full write access); DO_AUTH_TOKEN.
	Token string `json:"auth_token,omitempty"`
	// BaseURL is the API endpoint; "" means DefaultBaseURL; DO_API_URL.
	BaseURL string `json:"base_url,omitempty"`
	// TTL of written records in seconds (at least 30); 0 means the
	// record's own TTL, else DefaultTTL. At a name that already has TXT
	// records ours take their TTL.
	TTL int `json:"ttl,omitempty"`
	// Lag is the serving lag declared to propagation checks; 0 means
	// DefaultServingLag, negative means none.
	Lag time.Duration `json:"serving_lag,omitempty"`

	// HTTPClient sends the requests; nil means a client with a 30 s
	// timeout (lego's DO_HTTP_TIMEOUT default).
	HTTPClient *http.Client `json:"-"`
	// Logger receives retries and rate-limit waits; nil discards.
	Logger *slog.Logger `json:"-"`
	// MaxRateWait is the longest rate-limit wait before a call fails; 0
	// means DefaultMaxRateWait, negative means never wait.
	MaxRateWait time.Duration `json:"-"`
	// Sleep waits d or until ctx is done, and Now tells the time the
	// ratelimit-reset header is read against; nil means the real clock.
	// Tests make both fake.
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`
	Now   func() time.Time                                 `json:"-"`

	mu        sync.Mutex
	domains   []string  // the account's domains, read once by ZoneFor
	remaining int       // ratelimit-remaining of the last answer, -1 unknown
	reset     time.Time // ratelimit-reset of the last answer
}

var (
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
)

// ServingLag returns the declared serving lag (providers.ServingLagger).
func (p *Provider) ServingLag() time.Duration {
	switch {
	case p.Lag < 0:
		return 0
	case p.Lag == 0:
		return DefaultServingLag
	}
	return p.Lag
}

// ListZones lists the account's domains (GET /v2/domains, every page).
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	var all []struct {
		Name string `json:"name"`
	}
	if err := p.list(ctx, "list domains", "/v2/domains", nil, "domains", &all); err != nil {
		return nil, err
	}
	var out []libdns.Zone
	for _, d := range all {
		out = append(out, libdns.Zone{Name: strings.ToLower(d.Name) + "."})
	}
	return out, nil
}

// ZoneFor returns the account's domain (absolute) that holds fqdn, the
// longest when domains nest. The domain list is read once per provider.
func (p *Provider) ZoneFor(ctx context.Context, fqdn string) (string, error) {
	p.mu.Lock()
	domains := p.domains
	p.mu.Unlock()
	if domains == nil {
		zones, err := p.ListZones(ctx)
		if err != nil {
			return "", err
		}
		domains = []string{}
		for _, z := range zones {
			domains = append(domains, strings.TrimSuffix(z.Name, "."))
		}
		p.mu.Lock()
		p.domains = domains
		p.mu.Unlock()
	}
	name := strings.ToLower(strings.TrimSuffix(fqdn, "."))
	best := providers.LongestZone(name, domains)
	if best == "" {
		return "", fmt.Errorf("digitalocean: no domain of this account holds %s; add the domain under Networking → Domains (and point the registrar at DigitalOcean's name servers)", name)
	}
	return best + ".", nil
}

// record is a domain record as the API shows it.
type record struct {
	ID   int    `json:"id,omitempty"`
	Type string `json:"type"`
	Name string `json:"name"`
	Data string `json:"data"`
	TTL  int    `json:"ttl,omitempty"`
}

func (p *Provider) records(ctx context.Context, zone, typ string) ([]record, error) {
	q := url.Values{}
	if typ != "" {
		q.Set("type", typ)
	}
	var out []record
	err := p.list(ctx, "list records of "+zone, "/v2/domains/"+url.PathEscape(zone)+"/records", q, "domain_records", &out)
	return out, err
}

// GetRecords returns every record of zone: TXT as libdns.TXT, others as
// libdns.RR.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	zone = canonical(zone)
	recs, err := p.records(ctx, zone, "")
	if err != nil {
		return nil, err
	}
	var out []libdns.Record
	for _, r := range recs {
		ttl := time.Duration(r.TTL) * time.Second
		if r.Type == "TXT" {
			out = append(out, libdns.TXT{Name: r.Name, TTL: ttl, Text: unquote(r.Data)})
			continue
		}
		out = append(out, libdns.RR{Name: r.Name, TTL: ttl, Type: r.Type, Data: r.Data})
	}
	return out, nil
}

// wanted is one TXT record of a call.
type wanted struct {
	rec  libdns.Record
	name string // relative, "@" for the apex, lower case
	text string
	ttl  int
}

func (p *Provider) wanted(zone string, recs []libdns.Record) ([]wanted, error) {
	var out []wanted
	for _, rec := range recs {
		rr := rec.RR()
		if !strings.EqualFold(rr.Type, "TXT") {
			return nil, fmt.Errorf("digitalocean: only TXT records are written, not %s at %s", rr.Type, rr.Name)
		}
		fqdn := strings.ToLower(strings.TrimSuffix(libdns.AbsoluteName(rr.Name, zone+"."), "."))
		name := "@"
		if fqdn != zone {
			rel, ok := strings.CutSuffix(fqdn, "."+zone)
			if !ok {
				return nil, fmt.Errorf("digitalocean: %s is not in domain %s", fqdn, zone)
			}
			name = rel
		}
		ttl := p.TTL
		switch {
		case ttl != 0:
		case rr.TTL >= time.Second:
			ttl = max(int(rr.TTL/time.Second), 30)
		default:
			ttl = DefaultTTL
		}
		out = append(out, wanted{rec: rec, name: name, text: rr.Data, ttl: ttl})
	}
	return out, nil
}

// AppendRecords adds the TXT records to zone: one read of the domain's
// TXT records, then one POST per value not already there (DigitalOcean
// has no batch endpoint). Ours take the TTL of TXT records already at a
// name (an RRset has one TTL, RFC 2181 §5.2). On error it returns the
// records created before it, so the caller knows what to clean up.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	zone = canonical(zone)
	want, err := p.wanted(zone, recs)
	if err != nil {
		return nil, err
	}
	have, err := p.records(ctx, zone, "TXT")
	if err != nil {
		return nil, err
	}
	ttlAt := map[string]int{}
	there := map[[2]string]bool{}
	for _, r := range have {
		n := strings.ToLower(r.Name)
		there[[2]string{n, unquote(r.Data)}] = true
		if _, ok := ttlAt[n]; !ok {
			ttlAt[n] = r.TTL
		}
	}
	var done []libdns.Record
	for _, w := range want {
		k := [2]string{w.name, w.text}
		if there[k] {
			done = append(done, w.rec)
			continue
		}
		ttl, ok := ttlAt[w.name]
		if !ok {
			ttl = w.ttl
			ttlAt[w.name] = ttl
		}
		body := record{Type: "TXT", Name: w.name, Data: w.text, TTL: ttl}
		if _, err := p.call(ctx, "create TXT at "+w.name+" in "+zone, http.MethodPost, "/v2/domains/"+url.PathEscape(zone)+"/records", nil, body); err != nil {
			return done, err
		}
		there[k] = true
		done = append(done, w.rec)
	}
	return done, nil
}

// DeleteRecords removes exactly the given TXT values from zone: one read
// of the domain's TXT records, then one DELETE per record holding one of
// them. Other values at the same names stay; a value that is not there,
// or a record gone meanwhile (404), is no error. It returns the records
// deleted.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	zone = canonical(zone)
	want, err := p.wanted(zone, recs)
	if err != nil {
		return nil, err
	}
	have, err := p.records(ctx, zone, "TXT")
	if err != nil {
		return nil, err
	}
	var gone []libdns.Record
	deleted := map[int]bool{}
	for _, w := range want {
		found := false
		for _, r := range have {
			if deleted[r.ID] || !strings.EqualFold(r.Name, w.name) || unquote(r.Data) != w.text {
				continue
			}
			_, err := p.call(ctx, "delete TXT at "+w.name+" in "+zone, http.MethodDelete, "/v2/domains/"+url.PathEscape(zone)+"/records/"+strconv.Itoa(r.ID), nil, nil)
			if ae := (*APIError)(nil); errors.As(err, &ae) && ae.Status == http.StatusNotFound {
				err = nil // deleted by someone else meanwhile
			}
			if err != nil {
				return gone, err
			}
			deleted[r.ID] = true
			found = true
		}
		if found {
			gone = append(gone, w.rec)
		}
	}
	return gone, nil
}

func canonical(zone string) string { return strings.ToLower(strings.TrimSuffix(zone, ".")) }

// unquote returns TXT data without one pair of surrounding quotes, for
// records written quoted through the control panel.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && !strings.Contains(s[1:len(s)-1], `"`) {
		return s[1 : len(s)-1]
	}
	return s
}
