// Package namecheap is a libdns provider for Namecheap DNS built so that it
// never loses a record. Namecheap's setHosts replaces a zone's whole host
// list, so every change is a read-modify-write: getHosts, add or remove
// exactly our TXT values, setHosts with every other row byte-identical and
// EmailType as read, then getHosts again to verify. Changes to one zone are
// serialised inside the process and, through a lock file, across processes
// on the machine; a verify that finds our change lost redoes the cycle, one
// that finds rows we sent back dropped or altered by the API restores them
// in one more write or fails naming each (DamageError).
// All challenge records for one zone go in one cycle whatever their number.
//
// The API facts come from Namecheap's docs
// (https://www.namecheap.com/support/api/methods/domains-dns/get-hosts/,
// https://www.namecheap.com/support/api/methods/domains-dns/set-hosts/);
// the rules are this package's own, checked by the NC test cases. The XML
// client is in
// internal/api; a fake server for tests is in namecheaptest.
package namecheap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
	"golang.org/x/time/rate"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/redact"
	"github.com/strictacme/strictacme/provider/namecheap/internal/api"
)

// Limits checked before any write (Namecheap's DNS limits,
// https://www.namecheap.com/support/knowledgebase/article.aspx/10058/10/namecheap-dns-limits/).
const (
	maxRecords  = 150
	maxHostName = 60
	maxTXT      = 2500
	minTTL      = 60
	maxTTL      = 60000
	defaultTTL  = 300
)

// DefaultSettle is the documented wait for the `provider` propagation
// strategy: Namecheap's nameservers take minutes to serve a change
// (lexicon's Namecheap provider saw 120 s with a 60 s TTL, Traefik users
// needed 90 s in https://github.com/plexguide/PlexGuide.com/issues/655;
// lego allows up to an hour).
const DefaultSettle = 2 * time.Minute

// Provider implements libdns.RecordGetter, RecordAppender, RecordDeleter and
// ZoneLister for Namecheap. The zone argument is the zone with a trailing
// dot, e.g. "example.co.uk.", as ZoneFor returns it. A Provider is ready
// to use from its zero value once APIUser and APIKey are set; the settings
// are checked on the first call, whose error names the bad one. Do not
// change the settings after the first call. A Provider is safe for
// concurrent use.
type Provider struct {
	// Config holds the settings; its fields are promoted, so a literal
	// reads namecheap.Provider{Config: namecheap.Config{APIUser: ...}} and
	// JSON has them at the top level.
	Config

	once     sync.Once
	setupErr error
	cfg      Config // Config with defaults applied
	// ttlSet: Config.TTL was given (NAMECHEAP_TTL) and wins over the
	// records' own TTL.
	ttlSet bool
	// ipURLSet: Config.ClientIPURL was given, so with a configured
	// ClientIp it may be asked for the egress address after error 1011150.
	ipURLSet bool
	endpoint string
	hc       *http.Client
	limiter  *rate.Limiter
	clock    Clock
	log      *slog.Logger

	clientMu sync.Mutex
	client   *api.Client

	mu        sync.Mutex
	locks     *providers.ZoneLocks // zone → its read-modify-write, across processes
	confirmed map[string]bool
	notFound  map[string]error
}

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
)

var (
	sharedMu       sync.Mutex
	sharedLimiters = map[string]*rate.Limiter{}
)

// New checks cfg and returns a Provider, as the first call of a
// Provider{Config: cfg} would. It makes no network call: the ClientIp is
// discovered (when not configured) on first use.
func New(cfg Config) (*Provider, error) {
	p := &Provider{Config: cfg}
	if err := p.setup(); err != nil {
		return nil, err
	}
	return p, nil
}

// setup checks the settings once and applies their defaults.
func (p *Provider) setup() error {
	p.once.Do(func() { p.setupErr = p.init(p.Config) })
	return p.setupErr
}

func (p *Provider) init(cfg Config) error {
	if cfg.APIUser == "" {
		return fmt.Errorf("namecheap: APIUser is empty; set it to the Namecheap ApiUser (%s)", EnvAPIUser)
	}
	if cfg.APIKey == "" {
		return fmt.Errorf("namecheap: APIKey is empty; set it to the Namecheap ApiKey (%s or %s_FILE)", EnvAPIKey, EnvAPIKey)
	}
	redact.Add(cfg.APIKey)
	ep := cfg.Endpoint
	if ep == "" {
		ep = api.ProductionEndpoint
		if cfg.Sandbox {
			ep = api.SandboxEndpoint
		}
	}
	if _, err := api.CheckEndpoint(ep); err != nil {
		return fmt.Errorf("namecheap: %s: %v", EnvEndpoint, err)
	}
	if cfg.ClientIP != "" {
		if _, err := ParseClientIP(cfg.ClientIP); err != nil {
			return fmt.Errorf("namecheap: %s=%q is %v", EnvClientIP, cfg.ClientIP, err)
		}
	}
	ipURLSet := cfg.ClientIPURL != ""
	if ipURLSet {
		if _, err := ParseClientIPURL(cfg.ClientIPURL); err != nil {
			return fmt.Errorf("namecheap: %s: %v", EnvClientIPURL, err)
		}
	}
	if cfg.ClientIPURL == "" {
		cfg.ClientIPURL = api.DefaultIPURL
	}
	ttlSet := cfg.TTL != 0
	if cfg.TTL == 0 {
		cfg.TTL = defaultTTL
	}
	if cfg.TTL < minTTL || cfg.TTL > maxTTL {
		return fmt.Errorf("namecheap: TTL %d is outside %d–%d seconds; setHosts would reject it", cfg.TTL, minTTL, maxTTL)
	}
	if cfg.Zone != "" {
		z, err := normalizeName(cfg.Zone)
		if err != nil {
			return fmt.Errorf("namecheap: %s=%q: %v", EnvZone, cfg.Zone, err)
		}
		if _, _, err := splitZone(z); err != nil {
			return fmt.Errorf("namecheap: %s=%q: %v", EnvZone, cfg.Zone, err)
		}
		cfg.Zone = z
	}
	if cfg.LockDir == "" {
		cfg.LockDir = DefaultLockDir()
	}
	if cfg.MaxCycles <= 0 {
		cfg.MaxCycles = 4
	}
	p.cfg, p.endpoint = cfg, ep
	p.hc, p.limiter, p.clock, p.log = cfg.HTTPClient, cfg.Limiter, cfg.Clock, cfg.Logger
	p.confirmed, p.notFound = map[string]bool{}, map[string]error{}
	p.locks = &providers.ZoneLocks{Dir: cfg.LockDir, Prefix: "namecheap"}
	p.ttlSet, p.ipURLSet = ttlSet, ipURLSet
	if p.hc == nil {
		p.hc = api.NewHTTPClient(cfg.RootCAs, cfg.Proxy)
	}
	if p.clock == nil {
		p.clock = api.SystemClock{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.limiter == nil {
		key := cfg.APIUser + "\x00" + ep
		sharedMu.Lock()
		if sharedLimiters[key] == nil {
			sharedLimiters[key] = api.NewLimiter()
		}
		p.limiter = sharedLimiters[key]
		sharedMu.Unlock()
	}
	return nil
}

// LockDir is the directory of this provider's zone lock files
// (Config.LockDir, or DefaultLockDir).
func (p *Provider) LockDir() string {
	if p.setup() != nil || p.cfg.LockDir == "" {
		return firstNonEmpty(p.Config.LockDir, DefaultLockDir())
	}
	return p.cfg.LockDir
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ServingLag is how long Namecheap's name servers take to serve a change
// after setHosts succeeded: Config.SettleDelay (NAMECHEAP_SETTLE_DELAY), or
// DefaultSettle (2 minutes). Propagation checks wait this long after the
// write before asking a caching resolver, and the "provider" strategy waits
// it after the verifying read (providers.ServingLagger).
func (p *Provider) ServingLag() time.Duration {
	if p.Config.SettleDelay > 0 {
		return p.Config.SettleDelay
	}
	return DefaultSettle
}

// DefaultSettleDelay returns ServingLag.
//
// Deprecated: use ServingLag.
func (p *Provider) DefaultSettleDelay() time.Duration { return p.ServingLag() }

// apiClient returns the client, discovering ClientIp on first use.
func (p *Provider) apiClient(ctx context.Context) (*api.Client, error) {
	if err := p.setup(); err != nil {
		return nil, err
	}
	p.clientMu.Lock()
	defer p.clientMu.Unlock()
	if p.client != nil {
		return p.client, nil
	}
	ip, source := p.cfg.ClientIP, "configured"
	if ip == "" {
		a, err := api.DiscoverClientIP(ctx, p.hc, p.cfg.ClientIPURL)
		if err != nil {
			return nil, fmt.Errorf("namecheap: %w", err)
		}
		// A loopback or private address can never be on the
		// whitelist of a public API; sending it only earns error 1011150.
		if !publicIPv4(a) {
			return nil, fmt.Errorf("namecheap: ClientIp discovery at %s returned %s, which is not a public IPv4 address, so Namecheap would refuse it (error 1011150); set %s to the whitelisted egress IPv4 (explicitly configured addresses are sent as given)",
				p.cfg.ClientIPURL, a, EnvClientIP)
		}
		ip, source = a.String(), "discovered from "+p.cfg.ClientIPURL
	}
	p.log.Info("namecheap ClientIp", "ip", ip, "source", source)
	p.client = &api.Client{
		Endpoint:   p.endpoint,
		APIUser:    p.cfg.APIUser,
		APIKey:     p.cfg.APIKey,
		UserName:   p.cfg.UserName,
		ClientIP:   ip,
		HTTPClient: p.hc,
		Limiter:    p.limiter,
		Clock:      p.clock,
		Logger:     p.log,

		CallTimeout: p.cfg.CallTimeout,
	}
	if source == "configured" && p.ipURLSet {
		p.client.Egress = func(ctx context.Context) (string, error) {
			a, err := api.DiscoverClientIP(ctx, p.hc, p.cfg.ClientIPURL)
			return a.String(), err
		}
	}
	return p.client, nil
}

// ClientIP returns the IPv4 this provider sends as ClientIp and where it
// came from ("configured" or "discovered from URL"), discovering it on
// first use as any call would. It sends no API call; whether Namecheap
// accepts the address shows on the first call (error 1011150 otherwise).
func (p *Provider) ClientIP(ctx context.Context) (ip, source string, err error) {
	c, err := p.apiClient(ctx)
	if err != nil {
		return "", "", err
	}
	source = "configured"
	if p.cfg.ClientIP == "" {
		source = "discovered from " + p.cfg.ClientIPURL
	}
	return c.ClientIP, source, nil
}

func publicIPv4(a netip.Addr) bool {
	if !a.Is4() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsLinkLocalUnicast() || a.IsMulticast() {
		return false
	}
	// 100.64.0.0/10 is carrier-grade NAT space, never a whitelistable egress.
	return !netip.MustParsePrefix("100.64.0.0/10").Contains(a)
}

// GetRecords returns every host record of zone as libdns types (TXT, MX,
// CNAME, Address, CAA, NS; ALIAS, MXE, URL, URL301 and FRAME as libdns.RR).
// TTLs are in whole seconds.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	z, sld, tld, err := zoneParts(zone)
	if err != nil {
		return nil, err
	}
	c, err := p.apiClient(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.GetHosts(ctx, sld, tld)
	if err != nil {
		return nil, fmt.Errorf("namecheap: reading zone %s: %w", z, err)
	}
	out := make([]libdns.Record, 0, len(res.Hosts))
	for _, h := range res.Hosts {
		out = append(out, toLibdns(h))
	}
	return out, nil
}

// ListZones lists the account's own domains on Namecheap DNS
// (namecheap.domains.getList, paged to the end). Domains shared with the
// account and FreeDNS-only zones are not listed
// (https://github.com/rmbolger/Posh-ACME/issues/672); ZoneFor
// does not depend on this list.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	c, err := p.apiClient(ctx)
	if err != nil {
		return nil, err
	}
	ds, err := c.GetList(ctx)
	if err != nil {
		return nil, fmt.Errorf("namecheap: listing domains: %w", err)
	}
	var out []libdns.Zone
	for _, d := range ds {
		if d.IsOurDNS {
			name := strings.ToLower(d.Name)
			if n, err := normalizeName(d.Name); err == nil {
				name = n // an IDN listed in Unicode
			}
			out = append(out, libdns.Zone{Name: name + "."})
		}
	}
	return out, nil
}

// AppendRecords adds TXT records (any other type is refused) to zone in one
// cycle: one getHosts, one setHosts, one verifying getHosts, whatever the
// number of records. A value already present at that name is not written
// again (idempotent). Several values at one name coexist. New records get
// Config.TTL when it is set (the operator's choice wins), else the
// record's TTL, else 300 s. On a refusal
// (*RefusedError: DDNS hosts, more than 150 records, a host name over 60
// characters, a TTL outside 60–60000, MX rows in a zone whose EmailType is
// not MX, a quoted TXT value) the zone is not touched. A write the API
// damaged and one more write could not repair gives a *DamageError. It
// returns the records now present.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if err := p.setup(); err != nil {
		return nil, err
	}
	z, sld, tld, err := zoneParts(zone)
	if err != nil {
		return nil, err
	}
	adds, err := p.hostsFor(z, recs, true)
	if err != nil {
		return nil, err
	}
	if len(adds) == 0 {
		return nil, nil
	}
	if _, _, err := p.change(ctx, z, sld, tld, adds, nil); err != nil {
		return nil, err
	}
	out := make([]libdns.Record, len(adds))
	for i, h := range adds {
		out[i] = toLibdns(h)
	}
	return out, nil
}

// DeleteRecords removes TXT records from zone, each matched by exact name
// and value (never by TTL, never by name alone: an empty value is refused),
// one zone row per given record, in one cycle. Other records at the same
// name, e.g. another order's challenge value, stay. The caller passes only
// values it wrote (the journal is the record of those). Records not in the
// zone are ignored; if none match nothing is written. Removing the last
// records of a zone is refused (*RefusedError; they stay). Refusals and
// damage are as for AppendRecords. It returns the records actually removed.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if err := p.setup(); err != nil {
		return nil, err
	}
	z, sld, tld, err := zoneParts(zone)
	if err != nil {
		return nil, err
	}
	dels, err := p.hostsFor(z, recs, false)
	if err != nil {
		return nil, err
	}
	if len(dels) == 0 {
		return nil, nil
	}
	_, deleted, err := p.change(ctx, z, sld, tld, nil, dels)
	out := make([]libdns.Record, len(deleted))
	for i, h := range deleted {
		out[i] = toLibdns(h)
	}
	return out, err
}

// hostsFor turns libdns records into TXT rows of zone z, checking each.
func (p *Provider) hostsFor(z string, recs []libdns.Record, adding bool) ([]api.Host, error) {
	var out []api.Host
	for _, r := range recs {
		rr := r.RR()
		typ := strings.ToUpper(rr.Type)
		if typ != "TXT" && !(typ == "" && !adding) {
			return nil, fmt.Errorf("namecheap: record %s type %q: this provider writes and deletes TXT records only", rr.Name, rr.Type)
		}
		host, err := hostName(rr.Name, z)
		if err != nil {
			return nil, err
		}
		if rr.Data == "" {
			if adding {
				return nil, fmt.Errorf("namecheap: TXT %s has an empty value; nothing to write", host)
			}
			return nil, fmt.Errorf("namecheap: refusing to delete TXT %s without a value: records are deleted by exact name and value only", host)
		}
		if len(host) > maxHostName {
			return nil, fmt.Errorf("namecheap: host name %q is %d characters; Namecheap allows %d (KB 10058), nothing was written; use a shorter name or delegate _acme-challenge with a CNAME", host, len(host), maxHostName)
		}
		h := api.Host{Name: host, Type: "TXT", Address: rr.Data, MXPref: "10"}
		if adding {
			if len(rr.Data) > maxTXT {
				return nil, fmt.Errorf("namecheap: TXT %s value is %d characters; Namecheap allows %d", host, len(rr.Data), maxTXT)
			}
			if unquote(rr.Data) != rr.Data {
				return nil, fmt.Errorf("namecheap: TXT %s value is wrapped in quotes, which setHosts strips; pass the bare value", host)
			}
			ttl := p.cfg.TTL
			if rr.TTL > 0 && !p.ttlSet {
				ttl = int(rr.TTL / time.Second)
			}
			if ttl < minTTL || ttl > maxTTL {
				return nil, fmt.Errorf("namecheap: TXT %s TTL %d s is outside %d–%d; setHosts would reject it, nothing was written", host, ttl, minTTL, maxTTL)
			}
			h.TTL = fmt.Sprint(ttl)
		}
		out = append(out, h)
	}
	return out, nil
}

func toLibdns(h api.Host) libdns.Record {
	var ttl time.Duration
	if n, err := parseInt(h.TTL); err == nil {
		ttl = time.Duration(n) * time.Second
	}
	typ := strings.ToUpper(h.Type)
	if typ == "TXT" {
		return libdns.TXT{Name: h.Name, TTL: ttl, Text: h.Address}
	}
	data := h.Address
	if typ == "MX" {
		data = h.MXPref + " " + h.Address
	}
	rr := libdns.RR{Name: h.Name, TTL: ttl, Type: typ, Data: data}
	if rec, err := rr.Parse(); err == nil {
		return rec
	}
	return rr
}

// errorsAs is errors.As, kept short for the many checks below.
func errorsAs[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}
