// Package powerdns is a libdns provider for the PowerDNS Authoritative
// Server's HTTP API (https://doc.powerdns.com/authoritative/http-api/).
//
// Zones come from the API's zone list (ListZones), never from DNS. The
// API replaces whole RRsets (PATCH with changetype REPLACE), so every
// change is a read-modify-write of the TXT RRsets it touches: the zone is
// read once, our values are added to or removed from each RRset, every
// other value keeps its content, its disabled flag and the RRset's TTL and
// comments, and all changed RRsets of one zone go in one PATCH, which the
// server applies as a whole or not at all. An RRset left without any value
// is removed with changetype DELETE. Calls of one Provider on one zone
// take turns, so concurrent orders in one process never drop each other's
// values.
package powerdns

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/txtdata"
)

// Defaults of the zero Provider.
const (
	// DefaultServerName is the server id of a stand-alone PowerDNS (lego's
	// PDNS_SERVER_NAME default).
	DefaultServerName = "localhost"
	// DefaultTTL is the TTL of a new TXT RRset, seconds (lego's PDNS_TTL
	// default).
	DefaultTTL = 120
	// DefaultAPIVersion is the API version in the path (/api/v1).
	DefaultAPIVersion = 1
)

// Provider writes TXT records through a PowerDNS Authoritative Server's
// HTTP API. It is ready from its zero value once ServerURL and APIKey are
// set; the JSON names are those a Caddy configuration would use. Do not
// change the fields after the first call. Safe for concurrent use.
type Provider struct {
	// ServerURL is the API's base URL, e.g. "https://pdns.example.net:8081"
	// (PDNS_API_URL). "/api/v1/..." is appended to it.
	ServerURL string `json:"server_url,omitempty"`
	// APIKey is sent as X-API-Key (the server's api-key setting).
	APIKey string `json:"api_key,omitempty"`
	// ServerName is the server id in the path; "" means DefaultServerName.
	ServerName string `json:"server_name,omitempty"`
	// APIVersion is the version in the path; 0 means DefaultAPIVersion.
	// Only version 1 (PowerDNS 4 and later) exists.
	APIVersion int `json:"api_version,omitempty"`
	// TTL of a new TXT RRset in seconds; 0 means the record's own TTL, or
	// DefaultTTL. Values added to an RRset that exists take its TTL.
	TTL int `json:"ttl,omitempty"`
	// Lag is how long the zone's other authoritative servers take to serve
	// a change the API accepted (secondaries fed by NOTIFY and AXFR, or a
	// replicated database); 0 means at once. ServingLag returns it.
	Lag time.Duration `json:"serving_lag,omitempty"`
	// LockDir holds one lock file per zone so that processes on this
	// machine take turns on a zone's read-modify-write (a PATCH REPLACE
	// of an RRset read before would drop a value another process added
	// meanwhile); "" means providers.DefaultLockDir, one for the machine.
	LockDir string `json:"lock_dir,omitempty"`
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client `json:"-"`

	mu       sync.Mutex
	lockOnce sync.Once
	zones    providers.ZoneLocks // zone → lock of its read-modify-write
	listed   []string            // zone names of the last list
	listAt   time.Time
}

// zoneListAge is how long ZoneFor uses a zone list: one list serves all
// names of an order.
const zoneListAge = time.Minute

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
)

// ServingLag returns Lag (providers.ServingLagger).
func (p *Provider) ServingLag() time.Duration { return max(p.Lag, 0) }

// ListZones returns the zones of the server
// (GET /api/v1/servers/{server}/zones), names absolute with the trailing dot.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	zs, err := p.client().listZones(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]libdns.Zone, 0, len(zs))
	for _, z := range zs {
		out = append(out, libdns.Zone{Name: z.Name})
	}
	return out, nil
}

// ZoneFor returns the zone of the server that holds fqdn: the longest
// zone name in the server's zone list that fqdn is at or under. The list
// is asked once a minute at most, so the names of one order cost one
// request. An fqdn no zone holds is an error naming it.
func (p *Provider) ZoneFor(ctx context.Context, fqdn string) (string, error) {
	fqdn = dns.CanonicalName(fqdn)
	p.mu.Lock()
	names, fresh := p.listed, time.Since(p.listAt) < zoneListAge
	p.mu.Unlock()
	if !fresh || names == nil {
		zs, err := p.client().listZones(ctx)
		if err != nil {
			return "", err
		}
		names = make([]string, 0, len(zs))
		for _, z := range zs {
			names = append(names, dns.CanonicalName(z.Name))
		}
		p.mu.Lock()
		p.listed, p.listAt = names, time.Now()
		p.mu.Unlock()
	}
	best := providers.LongestZone(fqdn, names)
	if best == "" {
		return "", fmt.Errorf("powerdns: no zone on the server holds %s; create it (pdnsutil create-zone) or check %s", strings.TrimSuffix(fqdn, "."), EnvServerName)
	}
	return best, nil
}

// GetRecords returns every record of zone, names relative to it. TXT
// values are unquoted (several strings joined); other types carry the
// API's content as their data.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	zone = dns.CanonicalName(zone)
	z, err := p.client().getZone(ctx, zone)
	if err != nil {
		return nil, err
	}
	var out []libdns.Record
	for _, set := range z.RRsets {
		for _, r := range set.Records {
			if r.Disabled {
				continue // not served
			}
			rr := libdns.RR{Name: libdns.RelativeName(set.Name, zone), Type: set.Type, TTL: time.Duration(set.TTL) * time.Second, Data: r.Content}
			if set.Type == "TXT" {
				if v, err := txtdata.Unquote(r.Content); err == nil {
					rr.Data = v
				}
			}
			rec, err := rr.Parse()
			if err != nil {
				rec = rr
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

// AppendRecords adds the TXT values to zone: one GET of the zone and one
// PATCH for all of them. Values at a name keep the RRset's TTL and every
// value already there (a value given twice, or already present, is
// written once). It returns the records on success, none on error (the
// server applies a PATCH as a whole or not at all).
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.change(ctx, zone, recs, false)
}

// DeleteRecords removes exactly the given TXT values from zone: one GET of
// the zone and one PATCH. Other values at the same name stay with their
// TTL; an RRset left empty is deleted. A value that is not there is no
// error. It returns the records given.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.change(ctx, zone, recs, true)
}

func (p *Provider) change(ctx context.Context, zone string, recs []libdns.Record, del bool) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	zone = dns.CanonicalName(zone)
	type want struct {
		name   string
		ttl    int
		values []string
	}
	var order []string
	byName := map[string]*want{}
	for _, rec := range recs {
		rr := rec.RR()
		if !strings.EqualFold(rr.Type, "TXT") {
			return nil, fmt.Errorf("powerdns: only TXT records are written, not %s at %s", rr.Type, rr.Name)
		}
		name := dns.CanonicalName(libdns.AbsoluteName(rr.Name, zone))
		if !dns.IsSubDomain(zone, name) {
			return nil, fmt.Errorf("powerdns: %s is not in zone %s", name, zone)
		}
		w, ok := byName[name]
		if !ok {
			w = &want{name: name, ttl: p.ttl(rr)}
			byName[name] = w
			order = append(order, name)
		}
		w.values = append(w.values, rr.Data)
	}

	unlock, err := p.lock(ctx, zone)
	if err != nil {
		return nil, err
	}
	defer unlock()
	c := p.client()
	z, err := c.getZone(ctx, zone)
	if err != nil {
		return nil, err
	}
	var patch []rrset
	for _, name := range order {
		w := byName[name]
		cur := z.find(name, "TXT")
		next := rrset{Name: name, Type: "TXT", TTL: w.ttl, ChangeType: "REPLACE"}
		if cur != nil {
			next.TTL = cur.TTL // the RRset's TTL is not ours to change
			next.Records = slices.Clone(cur.Records)
		}
		changed := false
		for _, v := range w.values {
			i := indexTXT(next.Records, v)
			switch {
			case del && i >= 0:
				next.Records = slices.Delete(next.Records, i, i+1)
				changed = true
			case !del && i < 0:
				next.Records = append(next.Records, record{Content: txtdata.Quote(v)})
				changed = true
			}
		}
		if !changed {
			continue
		}
		if len(next.Records) == 0 {
			next = rrset{Name: name, Type: "TXT", ChangeType: "DELETE"}
		}
		patch = append(patch, next)
	}
	if len(patch) > 0 {
		if err := c.patchZone(ctx, zone, patch); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

func (p *Provider) ttl(rr libdns.RR) int {
	switch {
	case p.TTL > 0:
		return p.TTL
	case rr.TTL >= time.Second:
		return int(rr.TTL / time.Second)
	}
	return DefaultTTL
}

// lock serialises the read-modify-write cycles of one zone.
// lock takes zone's lock in this process and, through a lock file in
// LockDir, across the machine's processes.
func (p *Provider) lock(ctx context.Context, zone string) (func(), error) {
	p.lockOnce.Do(func() {
		p.zones.Dir, p.zones.Prefix = cmp.Or(p.LockDir, providers.DefaultLockDir()), "powerdns"
	})
	unlock, err := p.zones.LockContext(ctx, zone)
	if err != nil {
		var de *providers.LockDirError
		if errors.As(err, &de) {
			return nil, fmt.Errorf("powerdns: locking zone %s: %v; set %s to a writable directory", zone, err, EnvLockDir)
		}
		return nil, fmt.Errorf("powerdns: locking zone %s: %w", zone, err)
	}
	return unlock, nil
}

func (p *Provider) client() *client {
	server := p.ServerName
	if server == "" {
		server = DefaultServerName
	}
	version := p.APIVersion
	if version == 0 {
		version = DefaultAPIVersion
	}
	hc := p.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	return &client{base: strings.TrimRight(p.ServerURL, "/"), key: p.APIKey, server: server, version: version, http: hc}
}

// indexTXT returns the index of the record holding value v, or -1.
func indexTXT(recs []record, v string) int {
	for i, r := range recs {
		if got, err := txtdata.Unquote(r.Content); err == nil && got == v {
			return i
		}
	}
	return -1
}
