// Package hetzner is a libdns provider for Hetzner DNS through either of
// Hetzner's two DNS APIs:
//
//   - the Hetzner Cloud API (https://docs.hetzner.cloud/#zones, Bearer
//     token in APIToken), where zones live since Hetzner moved DNS into
//     the Hetzner Console: values are added to and removed from an RRset
//     by its add_records / remove_records actions, which name exact values,
//     so another client's values at the same name are never rewritten;
//   - the older DNS Console API (https://dns.hetzner.com/api-docs,
//     Auth-API-Token in APIKey), for zones not yet moved: records are
//     individual objects with IDs, created in bulk and deleted by ID.
//
// See README.md.
package hetzner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/apiclient"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/redact"
)

// lego's variable names (https://go-acme.github.io/lego/dns/hetzner/),
// and this provider's own.
const (
	// EnvAPIToken is the Hetzner Cloud API token; it selects the Cloud API.
	EnvAPIToken = "HETZNER_API_TOKEN"
	// EnvAPIKey is the DNS Console API token; it selects that API.
	EnvAPIKey = "HETZNER_API_KEY"
	EnvTTL    = "HETZNER_TTL"
	// EnvEndpoint is the API base URL (tests); lego has none.
	EnvEndpoint = "HETZNER_ENDPOINT"
	// EnvServingLag is how long Hetzner's name servers take to serve a
	// change; lego has none.
	EnvServingLag = "HETZNER_SERVING_LAG"
)

// DefaultMaxWait is the longest Retry-After waited out.
const DefaultMaxWait = 2 * time.Minute

// minTTL is the lowest TTL lego's provider sends to this API.
const minTTL = 60

// Provider writes TXT records through one of Hetzner's DNS APIs. Its zero
// value is ready once APIToken (Cloud API) or APIKey (DNS Console API) is
// set, not both; it is safe for concurrent use.
type Provider struct {
	// APIToken is a Hetzner Cloud API token (Bearer), Read & Write; it
	// selects the Cloud API. Never logged.
	APIToken string `json:"api_token,omitempty"`
	// APIKey is the DNS Console API token (Auth-API-Token); it selects
	// that API. Never logged.
	APIKey string `json:"api_key,omitempty"`
	// Endpoint is the API base URL; "" is DefaultCloudEndpoint or
	// DefaultEndpoint, after the token given. It must be https, or http
	// on a loopback address (test servers).
	Endpoint string `json:"endpoint,omitempty"`
	// TTL is the TTL of new TXT records, overriding the records' own
	// (at least 60 s); a name that already holds TXT records gives its TTL.
	TTL time.Duration `json:"ttl,omitempty"`
	// Lag is how long Hetzner's name servers take to serve a change
	// (0: none declared).
	Lag time.Duration `json:"serving_lag,omitempty"`
	// MaxWait is the longest Retry-After waited out, and the longest a
	// Cloud API action is polled; 0 is DefaultMaxWait.
	MaxWait time.Duration `json:"max_wait,omitempty"`

	HTTPClient *http.Client                                     `json:"-"`
	Sleep      func(ctx context.Context, d time.Duration) error `json:"-"`
	Now        func() time.Time                                 `json:"-"`
	Logger     *slog.Logger                                     `json:"-"`

	initOnce sync.Once
	c        *client
	initErr  error

	mu    sync.Mutex
	ids   map[string]string // zone name → zone ID
	locks providers.ZoneLocks
}

type zone struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type record struct {
	ID     string `json:"id,omitempty"`
	Type   string `json:"type"`
	Name   string `json:"name"`
	Value  string `json:"value"`
	TTL    *int   `json:"ttl,omitempty"`
	ZoneID string `json:"zone_id"`
}

func (p *Provider) client() (*client, error) {
	p.initOnce.Do(func() {
		tok, cloud, err := chooseToken(p.APIToken, p.APIKey)
		if err != nil {
			p.initErr = err
			return
		}
		redact.Add(tok)
		base, err := endpointURL(p.Endpoint, cloud)
		if err != nil {
			p.initErr = err
			return
		}
		api := &apiclient.Client{
			Name:   "hetzner",
			Secret: tok,
			HTTP:   p.HTTPClient,
			Sign: func(req *http.Request) {
				if cloud {
					req.Header.Set("Authorization", "Bearer "+tok)
				} else {
					req.Header.Set("Auth-API-Token", tok)
				}
			},
			Refuse: func(op string, status int, body []byte, retryAt time.Time) (error, bool) {
				ae := newAPIError(op, status, body, cloud)
				ae.RetryAt = retryAt
				// The Cloud API answers locked while another action runs
				// on the zone, and conflict when it changed during the
				// request; both ask for a retry.
				return ae, ae.Code == "locked" || ae.Code == "conflict"
			},
			// The Cloud API's rate limit (https://docs.hetzner.cloud/#rate-limiting).
			ResetHeader: "RateLimit-Reset",
			MaxWait:     p.MaxWait,
			Attempts:    5,
			MaxBody:     16 << 20,
			Sleep: func(ctx context.Context, d time.Duration) error {
				if p.Sleep != nil {
					return p.Sleep(ctx, d)
				}
				return apiclient.Sleep(ctx, d)
			},
			Now: func() time.Time {
				if p.Now != nil {
					return p.Now()
				}
				return time.Now()
			},
		}
		if api.HTTP == nil {
			api.HTTP = &http.Client{Timeout: 30 * time.Second}
		}
		if api.MaxWait == 0 {
			api.MaxWait = DefaultMaxWait
		}
		c := &client{base: base, cloud: cloud, api: api}
		p.c = c
	})
	return p.c, p.initErr
}

// chooseToken picks the API from the token given: the Cloud API token,
// or the DNS Console one; both or neither is an error saying what to set.
func chooseToken(cloudTok, dnsKey string) (tok string, cloud bool, err error) {
	cloudTok, dnsKey = strings.TrimSpace(cloudTok), strings.TrimSpace(dnsKey)
	switch {
	case cloudTok != "" && dnsKey != "":
		return "", false, fmt.Errorf("hetzner: both %s (Cloud API) and %s (DNS Console API) are set; unset %s if the zone is in the Hetzner Console, else unset %s", EnvAPIToken, EnvAPIKey, EnvAPIKey, EnvAPIToken)
	case cloudTok != "":
		return cloudTok, true, nil
	case dnsKey != "":
		return dnsKey, false, nil
	}
	return "", false, fmt.Errorf("hetzner: no API token; set %s (or %s_FILE) to a Hetzner Cloud API token, or %s for a zone still in the DNS Console", EnvAPIToken, EnvAPIToken, EnvAPIKey)
}

// ServingLag is the declared lag of Hetzner's name servers.
func (p *Provider) ServingLag() time.Duration { return max(p.Lag, 0) }

// ListZones lists the account's zones (GET /zones, every page).
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	c, err := p.client()
	if err != nil {
		return nil, err
	}
	if c.cloud {
		return c.cloudZones(ctx)
	}
	var out []libdns.Zone
	err = c.pages(ctx, request{op: "listing zones", method: http.MethodGet, path: "zones"}, func(raw json.RawMessage) (pagination, error) {
		var v struct {
			Zones []zone `json:"zones"`
			Meta  struct {
				Pagination pagination `json:"pagination"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return pagination{}, err
		}
		for _, z := range v.Zones {
			p.rememberZone(z)
			out = append(out, libdns.Zone{Name: strings.ToLower(z.Name) + "."})
		}
		return v.Meta.Pagination, nil
	})
	return out, err
}

// ZoneFor returns the zone of this account that holds fqdn: the longest of
// the zone list (GET /zones, every page). None is an error that names the
// likely cause, a zone moved to the Hetzner Console.
func (p *Provider) ZoneFor(ctx context.Context, fqdn string) (string, error) {
	zones, err := p.ListZones(ctx)
	if err != nil {
		return "", err
	}
	name := strings.ToLower(strings.TrimSuffix(fqdn, ".")) + "."
	names := make([]string, len(zones))
	for i, z := range zones {
		names[i] = z.Name
	}
	best := providers.LongestZone(name, names)
	if best == "" && p.c.cloud {
		return "", fmt.Errorf("hetzner: no zone of the Cloud API token's project holds %s; check the token's project, or whether the zone is still in the DNS Console (then set %s instead)", strings.TrimSuffix(name, "."), EnvAPIKey)
	}
	if best == "" {
		return "", fmt.Errorf("hetzner: no zone of this DNS Console account holds %s; check the token's account, or whether the zone moved to the Hetzner Console (then set %s to a Cloud API token instead)", strings.TrimSuffix(name, "."), EnvAPIToken)
	}
	return best, nil
}

func (p *Provider) rememberZone(z zone) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ids == nil {
		p.ids = map[string]string{}
	}
	p.ids[strings.ToLower(z.Name)] = z.ID
}

// zoneID is the ID of zone name, from an earlier listing or GET /zones?name=.
func (p *Provider) zoneID(ctx context.Context, c *client, name string) (string, error) {
	p.mu.Lock()
	id, ok := p.ids[name]
	p.mu.Unlock()
	if ok {
		return id, nil
	}
	var v struct {
		Zones []zone `json:"zones"`
	}
	err := c.do(ctx, request{op: "finding zone " + name, method: http.MethodGet, path: "zones", query: url.Values{"name": {name}}}, &v)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		v.Zones, err = nil, nil
	}
	if err != nil {
		return "", err
	}
	for _, z := range v.Zones {
		if strings.EqualFold(z.Name, name) {
			p.rememberZone(z)
			return z.ID, nil
		}
	}
	return "", fmt.Errorf("hetzner: no zone %s in this DNS Console account; check the token's account, or whether the zone moved to the Hetzner Console (then set %s to a Cloud API token instead)", name, EnvAPIToken)
}

// records lists every record of a zone (GET /records?zone_id=, every page).
func (c *client) records(ctx context.Context, zoneName, id string) ([]record, error) {
	var out []record
	err := c.pages(ctx, request{op: "reading records of " + zoneName, method: http.MethodGet, path: "records", query: url.Values{"zone_id": {id}}}, func(raw json.RawMessage) (pagination, error) {
		var v struct {
			Records []record `json:"records"`
			Meta    struct {
				Pagination pagination `json:"pagination"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return pagination{}, err
		}
		out = append(out, v.Records...)
		return v.Meta.Pagination, nil
	})
	return out, err
}

// GetRecords returns every record of zone.
func (p *Provider) GetRecords(ctx context.Context, zoneArg string) ([]libdns.Record, error) {
	c, err := p.client()
	if err != nil {
		return nil, err
	}
	z := zoneName(zoneArg)
	if c.cloud {
		return c.cloudRecords(ctx, z)
	}
	id, err := p.zoneID(ctx, c, z)
	if err != nil {
		return nil, err
	}
	recs, err := c.records(ctx, z, id)
	if err != nil {
		return nil, err
	}
	out := make([]libdns.Record, 0, len(recs))
	for _, r := range recs {
		rr := libdns.RR{Name: r.Name, Type: r.Type, Data: r.Value, TTL: time.Duration(deref(r.TTL)) * time.Second}
		if r.Type == "TXT" {
			rr.Data = textOf(r.Value)
		}
		if rec, err := rr.Parse(); err == nil {
			out = append(out, rec)
		} else {
			out = append(out, rr)
		}
	}
	return out, nil
}

// AppendRecords creates the TXT values not already there in one
// POST /records/bulk; other records are never touched. It returns the
// records created.
func (p *Provider) AppendRecords(ctx context.Context, zoneArg string, recs []libdns.Record) ([]libdns.Record, error) {
	if c, err := p.client(); err == nil && c.cloud {
		return p.cloudAppend(ctx, c, zoneArg, recs)
	}
	c, wants, z, id, unlock, existing, err := p.prepare(ctx, zoneArg, recs, true)
	if err != nil || len(wants) == 0 {
		return nil, err
	}
	defer unlock()
	ttlAt := map[string]int{}
	have := map[string]bool{}
	for _, r := range existing {
		if r.Type == "TXT" {
			have[strings.ToLower(r.Name)+"\x00"+textOf(r.Value)] = true
			if r.TTL != nil {
				ttlAt[strings.ToLower(r.Name)] = *r.TTL
			}
		}
	}
	var body []record
	var done []libdns.Record
	for _, w := range wants {
		k := w.name + "\x00" + w.text
		if have[k] {
			continue
		}
		have[k] = true
		ttl, ok := ttlAt[w.name]
		if !ok {
			ttl = p.ttlFor(w.ttl)
		}
		body = append(body, record{Type: "TXT", Name: w.name, Value: w.text, TTL: &ttl, ZoneID: id})
		done = append(done, libdns.TXT{Name: w.name, TTL: time.Duration(ttl) * time.Second, Text: w.text})
	}
	if len(body) == 0 {
		return nil, nil
	}
	var res struct {
		Records        []record `json:"records"`
		InvalidRecords []record `json:"invalid_records"`
	}
	op := "creating records in " + z
	if err := c.do(ctx, request{op: op, method: http.MethodPost, path: "records/bulk", body: map[string]any{"records": body}}, &res); err != nil {
		return nil, err
	}
	// The bulk endpoint answers 200 even when it refused some records.
	if len(res.InvalidRecords) > 0 || len(res.Records) != len(body) {
		var bad []string
		for _, r := range res.InvalidRecords {
			bad = append(bad, fmt.Sprintf("%s TXT %q", r.Name, r.Value))
		}
		return nil, fmt.Errorf("hetzner: %s: Hetzner created %d of %d records and refused %s; the records it created are removed by the clean-up", op, len(res.Records), len(body), strings.Join(bad, ", "))
	}
	p.log("created", z, len(body))
	return done, nil
}

// DeleteRecords deletes exactly the given TXT values (DELETE
// /records/{id}, one call per record: the API has no bulk delete). Other
// records, other values at the same name included, stay. It returns the
// records that were there.
func (p *Provider) DeleteRecords(ctx context.Context, zoneArg string, recs []libdns.Record) ([]libdns.Record, error) {
	if c, err := p.client(); err == nil && c.cloud {
		return p.cloudDelete(ctx, c, zoneArg, recs)
	}
	c, wants, z, _, unlock, existing, err := p.prepare(ctx, zoneArg, recs, false)
	if err != nil || len(wants) == 0 {
		return nil, err
	}
	defer unlock()
	var done []libdns.Record
	for _, w := range wants {
		for _, r := range existing {
			if r.Type != "TXT" || !strings.EqualFold(r.Name, w.name) || textOf(r.Value) != w.text {
				continue
			}
			err := c.do(ctx, request{op: fmt.Sprintf("deleting %s TXT in %s", r.Name, z), method: http.MethodDelete, path: "records/" + url.PathEscape(r.ID)}, nil)
			var ae *APIError
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
				continue // gone already
			}
			if err != nil {
				return done, err
			}
			done = append(done, libdns.TXT{Name: r.Name, TTL: time.Duration(deref(r.TTL)) * time.Second, Text: w.text})
		}
	}
	if len(done) > 0 {
		p.log("deleted", z, len(done))
	}
	return done, nil
}

type want struct {
	name, text string
	ttl        time.Duration
}

// prepare checks recs, takes the zone lock and reads the zone's records.
func (p *Provider) prepare(ctx context.Context, zoneArg string, recs []libdns.Record, add bool) (c *client, wants []want, z, id string, unlock func(), existing []record, err error) {
	if c, err = p.client(); err != nil {
		return
	}
	z = zoneName(zoneArg)
	if wants, err = wantsOf(z, recs); err != nil || len(wants) == 0 {
		return
	}
	if id, err = p.zoneID(ctx, c, z); err != nil {
		return
	}
	unlock = p.lock(z)
	if existing, err = c.records(ctx, z, id); err != nil {
		unlock()
	}
	return
}

// wantsOf checks recs (TXT with a value only) and names them relative to
// zone z ("@" for the apex).
func wantsOf(z string, recs []libdns.Record) ([]want, error) {
	if z == "" {
		return nil, errors.New("hetzner: no zone given")
	}
	var wants []want
	for _, r := range recs {
		rr := r.RR()
		if rr.Type != "TXT" {
			return nil, fmt.Errorf("hetzner: %s record at %s: this provider writes TXT records only", rr.Type, rr.Name)
		}
		if rr.Data == "" {
			return nil, fmt.Errorf("hetzner: TXT at %s without a value: only exact values are written and deleted", rr.Name)
		}
		name := strings.ToLower(rr.Name)
		if strings.HasSuffix(name, ".") {
			name = libdns.RelativeName(name, z+".")
		}
		if name == "" {
			name = "@"
		}
		wants = append(wants, want{name: name, text: rr.Data, ttl: rr.TTL})
	}
	return wants, nil
}

func (p *Provider) lock(z string) func() { return p.locks.Lock(z) }

func (p *Provider) ttlFor(asked time.Duration) int {
	if p.TTL > 0 {
		asked = p.TTL
	}
	return max(int(asked/time.Second), minTTL)
}

func (p *Provider) log(verb, z string, n int) {
	if p.Logger != nil {
		p.Logger.Info("hetzner: records "+verb, "zone", z, "records", n)
	}
}

// textOf is a TXT record's text: Hetzner stores the value as sent, which
// some clients send quoted; one pair of surrounding quotes is dropped.
func textOf(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && !strings.Contains(v[1:len(v)-1], `"`) {
		return v[1 : len(v)-1]
	}
	return v
}

func zoneName(z string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(z)), ".")
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
)
