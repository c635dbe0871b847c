// Package cloudflare is a libdns provider for Cloudflare DNS through the
// API v4 (https://developers.cloudflare.com/api/resources/dns/).
//
// Zones come from the API: a name's zone is found with GET /zones?name=
// for the name and each parent in turn (never a DNS question), and the
// zone ID is kept for the provider's life. All records of one call go in
// one POST /zones/{id}/dns_records/batch, which Cloudflare applies as one
// transaction, after one paginated read of the zone's TXT records: values
// already there are not sent again, ours take the TTL of TXT records
// already at the name. Deletes remove exactly the given values, by the IDs
// of the records holding them, in one batch; other values at the same
// name stay. TXT content is sent as quoted character strings, as the API
// asks, and compared unquoted, so records written unquoted by older
// clients are matched too. A 429 is waited out as its retry-after asks,
// up to MaxRateWait; refusals are *APIError, whose text explains the
// API's error code.
package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
	"golang.org/x/net/publicsuffix"
)

// Defaults of the zero Provider.
const (
	// DefaultBaseURL is the API v4 endpoint.
	DefaultBaseURL = "https://api.cloudflare.com/client/v4"
	// DefaultTTL is the TTL of a record that gives none, seconds (lego's
	// CLOUDFLARE_TTL default).
	DefaultTTL = 120
	// DefaultMaxRateWait is the longest retry-after waited out: the API
	// blocks a user past its rate limit for 5 minutes.
	DefaultMaxRateWait = 5*time.Minute + 10*time.Second
	// DefaultServingLag is how long Cloudflare's edge takes to serve a
	// change the API accepted: its docs say seconds; a batch's changes are
	// not published atomically.
	DefaultServingLag = 5 * time.Second
	// BatchLimit is the largest batch sent: the Free plan's limit (other
	// plans take 3,500), https://developers.cloudflare.com/dns/manage-dns-records/how-to/batch-record-changes/.
	BatchLimit = 200
	// recordsPerPage is the per_page of record lists.
	recordsPerPage = 1000
)

// Provider writes TXT records in Cloudflare zones. It is ready to use
// from its zero value once a credential is set: APIToken (a token with
// Zone:Read and DNS:Edit), or Email and APIKey (the legacy Global API
// Key). The JSON names are those a Caddy configuration would use. Do not
// change the fields after the first call. Safe for concurrent use.
type Provider struct {
	// APIToken is used for every call but zone look-ups when ZoneToken
	// is set; CLOUDFLARE_DNS_API_TOKEN.
	APIToken string `json:"api_token,omitempty"`
	// ZoneToken, when set, finds and lists zones (Zone:Read on all zones)
	// while APIToken may be limited to DNS:Edit on some;
	// CLOUDFLARE_ZONE_API_TOKEN.
	ZoneToken string `json:"zone_token,omitempty"`
	// Email and APIKey are the legacy Global API Key and its account's
	// e-mail, used when no token is set. A Global API Key can do anything
	// the account can: prefer a token.
	Email  string `json:"email,omitempty"`
	APIKey string `json:"api_key,omitempty"`
	// BaseURL is the API endpoint; "" means DefaultBaseURL.
	BaseURL string `json:"base_url,omitempty"`
	// TTL of written records in seconds (1 is Cloudflare's "automatic",
	// else 60 to 86400; Enterprise zones take 30); 0 means DefaultTTL. At a
	// name that already has TXT records ours take their TTL.
	TTL int `json:"ttl,omitempty"`
	// Lag is the serving lag declared to propagation checks; 0 means
	// DefaultServingLag, negative means none.
	Lag time.Duration `json:"serving_lag,omitempty"`

	// HTTPClient sends the requests; nil means a client with a 60 s
	// timeout.
	HTTPClient *http.Client `json:"-"`
	// Logger receives retries and rate-limit waits; nil discards.
	Logger *slog.Logger `json:"-"`
	// MaxRateWait is the longest retry-after of a 429 waited out before
	// the call fails; 0 means DefaultMaxRateWait, negative means never wait.
	MaxRateWait time.Duration `json:"-"`
	// Sleep waits d or until ctx is done; nil means a timer. Tests make
	// it instant.
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`

	mu    sync.Mutex
	zones map[string]zoneInfo // zone or candidate name → found zone ("" id: none)
}

type zoneInfo struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
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

// ZoneFor returns the zone (absolute) that holds fqdn in this account:
// GET /zones?name= for fqdn and each of its parents down to the
// registered domain, the longest found wins. A zone that is not active
// (pending, moved) is an error: Cloudflare does not serve it.
func (p *Provider) ZoneFor(ctx context.Context, fqdn string) (string, error) {
	name := strings.ToLower(strings.TrimSuffix(fqdn, "."))
	for c := name; c != ""; {
		if ps, _ := publicsuffix.PublicSuffix(c); ps == c {
			break
		}
		z, err := p.lookup(ctx, c)
		if err != nil {
			return "", err
		}
		if z.ID != "" {
			if z.Status != "" && z.Status != "active" {
				return "", fmt.Errorf("cloudflare: zone %s is %s, not active: Cloudflare serves its records only once the registrar points the domain at Cloudflare's name servers", z.Name, z.Status)
			}
			return z.Name + ".", nil
		}
		_, c, _ = strings.Cut(c, ".")
	}
	return "", fmt.Errorf("cloudflare: no zone in this account holds %s, or the token cannot read it: give the token Zone:Read on the zone (or set CLOUDFLARE_ZONE_API_TOKEN)", name)
}

// lookup asks for the zone called name, once per provider.
func (p *Provider) lookup(ctx context.Context, name string) (zoneInfo, error) {
	p.mu.Lock()
	z, ok := p.zones[name]
	p.mu.Unlock()
	if ok {
		return z, nil
	}
	found, err := list[zoneInfo](ctx, p, "find zone "+name, "/zones", url.Values{"name": {name}}, 50, forZones)
	if err != nil {
		return zoneInfo{}, err
	}
	z = zoneInfo{}
	for _, f := range found {
		if strings.EqualFold(f.Name, name) && (z.ID == "" || f.Status == "active") {
			z = f
			z.Name = strings.ToLower(f.Name)
		}
	}
	p.mu.Lock()
	if p.zones == nil {
		p.zones = map[string]zoneInfo{}
	}
	p.zones[name] = z
	p.mu.Unlock()
	return z, nil
}

// zoneID returns the ID of zone (as given to the libdns methods).
func (p *Provider) zoneID(ctx context.Context, zone string) (string, string, error) {
	name := strings.ToLower(strings.TrimSuffix(zone, "."))
	z, err := p.lookup(ctx, name)
	if err != nil {
		return "", "", err
	}
	if z.ID == "" {
		return "", "", fmt.Errorf("cloudflare: no zone %s in this account, or the token cannot read it: give the token Zone:Read on the zone (or set CLOUDFLARE_ZONE_API_TOKEN)", name)
	}
	return z.ID, name, nil
}

// ListZones lists the account's zones the token can read (GET /zones,
// every page).
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	all, err := list[zoneInfo](ctx, p, "list zones", "/zones", nil, 50, forZones)
	if err != nil {
		return nil, err
	}
	var out []libdns.Zone
	for _, z := range all {
		out = append(out, libdns.Zone{Name: strings.ToLower(z.Name) + "."})
	}
	return out, nil
}

// record is a DNS record as the API shows it.
type record struct {
	ID      string `json:"id,omitempty"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	Content string `json:"content"`
	TTL     int    `json:"ttl"`
}

// records lists zone's records, of typ when it is not "".
func (p *Provider) records(ctx context.Context, id, zone, typ string) ([]record, error) {
	q := url.Values{}
	if typ != "" {
		q.Set("type", typ)
	}
	return list[record](ctx, p, "list records of "+zone, "/zones/"+url.PathEscape(id)+"/dns_records", q, recordsPerPage, forDNS)
}

// GetRecords returns every record of zone: TXT as libdns.TXT (content
// unquoted), others as libdns.RR. An automatic TTL (1) reads as 300 s,
// what Cloudflare serves.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	id, name, err := p.zoneID(ctx, zone)
	if err != nil {
		return nil, err
	}
	recs, err := p.records(ctx, id, name, "")
	if err != nil {
		return nil, err
	}
	var out []libdns.Record
	for _, r := range recs {
		ttl := time.Duration(r.TTL) * time.Second
		if r.TTL == 1 {
			ttl = 300 * time.Second
		}
		rel := libdns.RelativeName(strings.ToLower(r.Name)+".", name+".")
		if r.Type == "TXT" {
			out = append(out, libdns.TXT{Name: rel, TTL: ttl, Text: unquote(r.Content)})
			continue
		}
		out = append(out, libdns.RR{Name: rel, TTL: ttl, Type: r.Type, Data: r.Content})
	}
	return out, nil
}

// wanted is one TXT record of a call, by its absolute name.
type wanted struct {
	rec  libdns.Record
	fqdn string // lower case, no trailing dot
	text string
	ttl  int
}

func (p *Provider) wanted(zone string, recs []libdns.Record) ([]wanted, error) {
	var out []wanted
	for _, rec := range recs {
		rr := rec.RR()
		if !strings.EqualFold(rr.Type, "TXT") {
			return nil, fmt.Errorf("cloudflare: only TXT records are written, not %s at %s", rr.Type, rr.Name)
		}
		fqdn := strings.ToLower(strings.TrimSuffix(libdns.AbsoluteName(rr.Name, zone+"."), "."))
		if fqdn != zone && !strings.HasSuffix(fqdn, "."+zone) {
			return nil, fmt.Errorf("cloudflare: %s is not in zone %s", fqdn, zone)
		}
		ttl := p.TTL
		switch {
		case ttl != 0:
		case rr.TTL >= time.Second:
			ttl = int(rr.TTL / time.Second)
		default:
			ttl = DefaultTTL
		}
		out = append(out, wanted{rec: rec, fqdn: fqdn, text: rr.Data, ttl: ttl})
	}
	return out, nil
}

// AppendRecords adds the TXT records to zone: one read of the zone's TXT
// records, then one batch (BatchLimit operations each) of the values not
// already there. Ours take the TTL of TXT records already at a name (an
// RRset has one TTL, RFC 2181 §5.2). It returns the records, none on
// error.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	id, name, err := p.zoneID(ctx, zone)
	if err != nil {
		return nil, err
	}
	want, err := p.wanted(name, recs)
	if err != nil {
		return nil, err
	}
	have, err := p.records(ctx, id, name, "TXT")
	if err != nil {
		return nil, err
	}
	ttlAt := map[string]int{}
	there := map[[2]string]bool{}
	for _, r := range have {
		n := strings.ToLower(r.Name)
		there[[2]string{n, unquote(r.Content)}] = true
		if _, ok := ttlAt[n]; !ok {
			ttlAt[n] = r.TTL
		}
	}
	var posts []record
	for _, w := range want {
		k := [2]string{w.fqdn, w.text}
		if there[k] {
			continue
		}
		there[k] = true
		ttl, ok := ttlAt[w.fqdn]
		if !ok {
			ttl = w.ttl
			ttlAt[w.fqdn] = ttl
		}
		posts = append(posts, record{Name: w.fqdn, Type: "TXT", Content: quote(w.text), TTL: ttl})
	}
	for len(posts) > 0 {
		n := min(len(posts), BatchLimit)
		if err := p.batch(ctx, id, name, nil, posts[:n]); err != nil {
			return nil, err
		}
		posts = posts[n:]
	}
	return recs, nil
}

// DeleteRecords removes exactly the given TXT values from zone: one read
// of the zone's TXT records, then one batch deleting the records that
// hold them, by ID. Other values at the same names stay; a value that is
// not there is no error. It returns the records deleted. A batch refused
// because a record vanished meanwhile (81044) is read and sent again once.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	id, name, err := p.zoneID(ctx, zone)
	if err != nil {
		return nil, err
	}
	want, err := p.wanted(name, recs)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		have, err := p.records(ctx, id, name, "TXT")
		if err != nil {
			return nil, err
		}
		var ids []string
		var gone []libdns.Record
		for _, w := range want {
			found := false
			for _, r := range have {
				if strings.EqualFold(r.Name, w.fqdn) && unquote(r.Content) == w.text && !contains(ids, r.ID) {
					ids = append(ids, r.ID)
					found = true
				}
			}
			if found {
				gone = append(gone, w.rec)
			}
		}
		for len(ids) > 0 {
			n := min(len(ids), BatchLimit)
			err = p.batch(ctx, id, name, ids[:n], nil)
			if err != nil {
				break
			}
			ids = ids[n:]
		}
		var ae *APIError
		if err != nil && attempt == 0 && errors.As(err, &ae) && ae.Has(81044) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return gone, nil
	}
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// batch sends one POST /zones/{id}/dns_records/batch.
func (p *Provider) batch(ctx context.Context, id, zone string, deletes []string, posts []record) error {
	type del struct {
		ID string `json:"id"`
	}
	body := struct {
		Deletes []del    `json:"deletes,omitempty"`
		Posts   []record `json:"posts,omitempty"`
	}{Posts: posts}
	for _, d := range deletes {
		body.Deletes = append(body.Deletes, del{d})
	}
	_, err := p.call(ctx, "batch write to "+zone, http.MethodPost, "/zones/"+url.PathEscape(id)+"/dns_records/batch", nil, body, forDNS)
	return err
}

// quote turns text into TXT content as the API asks for it: quoted
// character strings (RFC 1035 §5.1) of at most 255 bytes each.
func quote(text string) string {
	var parts []string
	for {
		n := min(len(text), 255)
		chunk := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(text[:n])
		parts = append(parts, `"`+chunk+`"`)
		text = text[n:]
		if text == "" {
			return strings.Join(parts, " ")
		}
	}
}

// unquote returns TXT content as text: its quoted strings joined, or the
// content itself when it is not quoted (records written before the API
// asked for quotes).
func unquote(c string) string {
	c = strings.TrimSpace(c)
	if len(c) < 2 || c[0] != '"' || c[len(c)-1] != '"' {
		return c
	}
	var b strings.Builder
	in := false
	for i := 0; i < len(c); i++ {
		switch ch := c[i]; {
		case ch == '\\' && in && i+1 < len(c):
			i++
			b.WriteByte(c[i])
		case ch == '"':
			in = !in
		case in:
			b.WriteByte(ch)
		}
	}
	return b.String()
}
