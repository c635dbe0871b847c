// Package route53 is a libdns provider for Amazon Route 53
// (https://docs.aws.amazon.com/Route53/latest/APIReference/).
//
// Requests are made and signed by the AWS SDK for Go v2; credentials come
// from the AWS standard chain (static keys given to the provider, else the
// environment, the shared config and credentials files with their
// profiles, SSO, web identity, the container and instance roles). Zones
// come from ListHostedZones (all pages), never from DNS: the longest
// hosted zone name holding a name, a public zone before a private one of
// the same name, or the zone HostedZoneID names.
//
// Route 53 replaces whole RRsets, so every change reads the TXT RRset at
// each name it touches and sends one ChangeResourceRecordSets batch per
// zone that keeps every value it did not write and the RRset's TTL. The
// batch replaces an RRset with DELETE of exactly what was read plus CREATE
// of the new set, which Route 53 applies only if the RRset is still what
// was read: a concurrent writer's change makes the batch fail
// (InvalidChangeBatch) instead of being overwritten, and the cycle is
// redone. After a write the provider waits, with GetChange, until Route 53
// reports the change INSYNC, which means every Route 53 authoritative
// server answers with it: the provider then declares itself Authoritative
// and no further propagation check is needed.
package route53

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/txtdata"
	"github.com/strictacme/strictacme/internal/version"
)

// Defaults of the zero Provider.
const (
	// DefaultTTL is the TTL of a new TXT RRset, seconds (lego's AWS_TTL
	// default).
	DefaultTTL = 10
	// DefaultMaxRetries is how often a throttled or failed request is
	// retried (lego's AWS_MAX_RETRIES default).
	DefaultMaxRetries = 5
	// DefaultRegion signs requests when no region is configured: Route 53
	// is a global service whose API lives in us-east-1.
	DefaultRegion = "us-east-1"
	// DefaultSyncTimeout bounds the wait for INSYNC; Route 53 documents
	// changes reaching all its servers "generally within 60 seconds".
	DefaultSyncTimeout = 3 * time.Minute
	// DefaultSyncPoll is the first pause between two GetChange calls.
	DefaultSyncPoll = 2 * time.Second
	// conflictRetries bounds the redone cycles after a concurrent change.
	conflictRetries = 4
)

// Provider writes TXT records in Route 53 hosted zones. It is ready from
// its zero value on a machine where the AWS standard chain finds
// credentials; the JSON names are those a Caddy configuration would use.
// Do not change the fields after the first call. Safe for concurrent use.
type Provider struct {
	// AccessKeyID, SecretAccessKey and SessionToken are static
	// credentials; when empty the AWS standard chain is used.
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	SessionToken    string `json:"session_token,omitempty"`
	// Region signs the requests; "" means the chain's, else DefaultRegion.
	Region string `json:"region,omitempty"`
	// Profile is a profile of the shared config files (AWS_PROFILE).
	Profile string `json:"profile,omitempty"`
	// HostedZoneID, when set, is the hosted zone written for every name
	// ("Z…" or "/hostedzone/Z…"), skipping the choice among the listed ones.
	HostedZoneID string `json:"hosted_zone_id,omitempty"`
	// MaxRetries of a throttled or failed request; 0 means
	// DefaultMaxRetries, negative none.
	MaxRetries int `json:"max_retries,omitempty"`
	// TTL of a new TXT RRset in seconds; 0 means the record's own TTL, or
	// DefaultTTL. Values added to an RRset that exists take its TTL.
	TTL int `json:"ttl,omitempty"`
	// NoWait skips the wait for INSYNC after a write; the provider is then
	// not Authoritative and propagation is checked by other means.
	NoWait bool `json:"no_wait,omitempty"`
	// SyncTimeout bounds the wait for INSYNC; 0 means DefaultSyncTimeout.
	SyncTimeout time.Duration `json:"sync_timeout,omitempty"`
	// SyncPoll is the first pause between GetChange calls (growing to five
	// times it); 0 means DefaultSyncPoll.
	SyncPoll time.Duration `json:"sync_poll,omitempty"`
	// Endpoint replaces the Route 53 API's URL (tests, API proxies).
	Endpoint string `json:"endpoint,omitempty"`
	// HTTPClient sends the requests; nil means the SDK's.
	HTTPClient *http.Client `json:"-"`

	// retryMaxBackoff, when set, caps the SDK's pause between retries.
	retryMaxBackoff time.Duration

	initOnce sync.Once
	api      *r53.Client
	initErr  error

	mu     sync.Mutex
	locks  providers.ZoneLocks // hosted zone ID → its read-modify-write
	ids    map[string]string   // zone name → hosted zone ID
	listed []hostedZone        // the last ListHostedZones, for zoneListAge
	listAt time.Time
}

// zoneListAge is how long ZoneFor uses a listing of the hosted zones: one
// listing serves all names of an order, within Route 53's five requests a
// second.
const zoneListAge = time.Minute

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
)

// Authoritative reports whether AppendRecords returns only once Route 53
// serves the records on all its authoritative servers (INSYNC): true
// unless NoWait is set (providers.Authoritative).
func (p *Provider) Authoritative() bool { return !p.NoWait }

func (p *Provider) client(ctx context.Context) (*r53.Client, error) {
	p.initOnce.Do(func() {
		retries := p.MaxRetries
		if retries == 0 {
			retries = DefaultMaxRetries
		}
		opts := []func(*config.LoadOptions) error{
			config.WithRetryer(func() aws.Retryer {
				return retry.NewStandard(func(o *retry.StandardOptions) {
					o.MaxAttempts = max(retries, 0) + 1
					if p.retryMaxBackoff > 0 {
						o.MaxBackoff = p.retryMaxBackoff
						o.Backoff = retry.NewExponentialJitterBackoff(p.retryMaxBackoff)
					}
				})
			}),
		}
		if p.Region != "" {
			opts = append(opts, config.WithRegion(p.Region))
		}
		if p.Profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(p.Profile))
		}
		switch {
		case p.AccessKeyID != "" && p.SecretAccessKey != "":
			opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(p.AccessKeyID, p.SecretAccessKey, p.SessionToken)))
		case p.AccessKeyID != "" || p.SecretAccessKey != "":
			p.initErr = fmt.Errorf("route53: only one of %s and %s is set; set both, or neither to use the AWS credential chain", EnvAccessKeyID, EnvSecretAccessKey)
			return
		}
		if p.HTTPClient != nil {
			opts = append(opts, config.WithHTTPClient(buildable(p.HTTPClient)))
		}
		cfg, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			p.initErr = fmt.Errorf("route53: loading the AWS configuration: %w; check %s and the shared config files", err, EnvProfile)
			return
		}
		if cfg.Region == "" {
			cfg.Region = DefaultRegion
		}
		p.api = r53.NewFromConfig(cfg, func(o *r53.Options) {
			if p.Endpoint != "" {
				o.BaseEndpoint = aws.String(p.Endpoint)
			}
			o.APIOptions = append(o.APIOptions, awsmiddleware.AddUserAgentKeyValue(version.Name, version.Get().Version))
		})
	})
	return p.api, p.initErr
}

// buildable returns hc as the SDK's BuildableClient when its transport is
// an *http.Transport, keeping its roots, proxy and dialer: the SDK adds the
// AWS_CA_BUNDLE roots only to a client it can build (and refuses any other
// when that variable is set, as it often is behind TLS-inspecting proxies).
// The roots are copied first, so the bundle never leaks into hc's pool.
func buildable(hc *http.Client) config.HTTPClient {
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		return hc
	}
	return awshttp.NewBuildableClient().WithTimeout(hc.Timeout).WithTransportOptions(func(t *http.Transport) {
		t.Proxy, t.DialContext, t.TLSHandshakeTimeout = tr.Proxy, tr.DialContext, tr.TLSHandshakeTimeout
		if tr.TLSClientConfig != nil {
			t.TLSClientConfig = tr.TLSClientConfig.Clone()
			if roots := t.TLSClientConfig.RootCAs; roots != nil {
				t.TLSClientConfig.RootCAs = roots.Clone()
			}
		}
	})
}

// hostedZone is one listed hosted zone.
type hostedZone struct {
	id, name string
	private  bool
}

func (p *Provider) listZones(ctx context.Context) ([]hostedZone, error) {
	api, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	var out []hostedZone
	pages := r53.NewListHostedZonesPaginator(api, &r53.ListHostedZonesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, explain("ListHostedZones", "", err)
		}
		for _, z := range page.HostedZones {
			hz := hostedZone{id: bareID(aws.ToString(z.Id)), name: dns.CanonicalName(unescapeName(aws.ToString(z.Name)))}
			hz.private = z.Config != nil && z.Config.PrivateZone
			out = append(out, hz)
		}
	}
	return out, nil
}

// recentZones returns the hosted zones listed less than zoneListAge ago,
// listing them again when older.
func (p *Provider) recentZones(ctx context.Context) ([]hostedZone, error) {
	p.mu.Lock()
	zs, fresh := p.listed, p.listed != nil && time.Since(p.listAt) < zoneListAge
	p.mu.Unlock()
	if fresh {
		return zs, nil
	}
	zs, err := p.listZones(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.listed, p.listAt = zs, time.Now()
	p.mu.Unlock()
	return zs, nil
}

// ListZones returns the account's hosted zones, public and private, names
// absolute (ListHostedZones, every page).
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	zs, err := p.listZones(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]libdns.Zone, 0, len(zs))
	for _, z := range zs {
		out = append(out, libdns.Zone{Name: z.name})
	}
	return out, nil
}

// ZoneFor returns the name of the hosted zone fqdn's records go in: the
// zone HostedZoneID names, else the longest listed zone name holding
// fqdn, public before private. The listing is reused for a minute. Two public zones of that name (only one of
// which can be delegated) are an error asking for HostedZoneID, and so is
// a name held by private zones only (the CA cannot see them).
func (p *Provider) ZoneFor(ctx context.Context, fqdn string) (string, error) {
	fqdn = dns.CanonicalName(fqdn)
	zs, err := p.recentZones(ctx)
	if err != nil {
		return "", err
	}
	z, err := p.pick(zs, fqdn)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	if p.ids == nil {
		p.ids = map[string]string{}
	}
	p.ids[z.name] = z.id
	p.mu.Unlock()
	return z.name, nil
}

func (p *Provider) pick(zs []hostedZone, fqdn string) (hostedZone, error) {
	if p.HostedZoneID != "" {
		want := bareID(p.HostedZoneID)
		for _, z := range zs {
			if z.id == want {
				if !dns.IsSubDomain(z.name, fqdn) {
					return hostedZone{}, fmt.Errorf("route53: hosted zone %s (%s) does not hold %s; fix %s", z.id, strings.TrimSuffix(z.name, "."), strings.TrimSuffix(fqdn, "."), EnvHostedZoneID)
				}
				return z, nil
			}
		}
		return hostedZone{}, fmt.Errorf("route53: the account has no hosted zone %s; fix %s (the ID of a hosted zone in the Route 53 console)", want, EnvHostedZoneID)
	}
	names := make([]string, len(zs))
	for i, z := range zs {
		names[i] = z.name
	}
	best := providers.LongestZone(fqdn, names)
	if best == "" {
		return hostedZone{}, fmt.Errorf("route53: no hosted zone of this account holds %s; create one or check the credentials' account", strings.TrimSuffix(fqdn, "."))
	}
	var public, private []hostedZone
	for _, z := range zs {
		if z.name == best && z.private {
			private = append(private, z)
		} else if z.name == best {
			public = append(public, z)
		}
	}
	switch {
	case len(public) == 1:
		return public[0], nil
	case len(public) > 1:
		var ids []string
		for _, z := range public {
			ids = append(ids, z.id)
		}
		return hostedZone{}, fmt.Errorf("route53: %d public hosted zones are named %s (%s); set %s to the one its registrar delegates to", len(public), strings.TrimSuffix(best, "."), strings.Join(ids, ", "), EnvHostedZoneID)
	}
	return hostedZone{}, fmt.Errorf("route53: only private hosted zones hold %s (%s), which the CA cannot query; create a public hosted zone, or set %s to use the private one", strings.TrimSuffix(fqdn, "."), private[0].id, EnvHostedZoneID)
}

// zoneID returns the hosted zone ID of zone (a name, absolute).
func (p *Provider) zoneID(ctx context.Context, zone string) (string, error) {
	p.mu.Lock()
	id, ok := p.ids[zone]
	p.mu.Unlock()
	if ok {
		return id, nil
	}
	zs, err := p.recentZones(ctx)
	if err != nil {
		return "", err
	}
	z, err := p.pick(zs, zone)
	if err != nil {
		return "", err
	}
	if z.name != zone {
		return "", fmt.Errorf("route53: no hosted zone is named %s (the one holding it is %s)", strings.TrimSuffix(zone, "."), strings.TrimSuffix(z.name, "."))
	}
	p.mu.Lock()
	if p.ids == nil {
		p.ids = map[string]string{}
	}
	p.ids[zone] = z.id
	p.mu.Unlock()
	return z.id, nil
}

// GetRecords returns every record of zone (ListResourceRecordSets, every
// page), names relative to it. TXT values are unquoted; other types carry
// Route 53's value as their data; alias records carry their target.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	zone = dns.CanonicalName(zone)
	id, err := p.zoneID(ctx, zone)
	if err != nil {
		return nil, err
	}
	api, _ := p.client(ctx)
	var out []libdns.Record
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)}
	for {
		page, err := api.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, explain("ListResourceRecordSets", zone, err)
		}
		for _, set := range page.ResourceRecordSets {
			name := libdns.RelativeName(dns.CanonicalName(unescapeName(aws.ToString(set.Name))), zone)
			ttl := time.Duration(aws.ToInt64(set.TTL)) * time.Second
			if set.AliasTarget != nil {
				out = append(out, libdns.RR{Name: name, Type: string(set.Type), Data: aws.ToString(set.AliasTarget.DNSName)})
			}
			for _, r := range set.ResourceRecords {
				rr := libdns.RR{Name: name, Type: string(set.Type), TTL: ttl, Data: aws.ToString(r.Value)}
				if set.Type == types.RRTypeTxt {
					if v, err := txtdata.Unquote(rr.Data); err == nil {
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
		if !page.IsTruncated {
			return out, nil
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = page.NextRecordName, page.NextRecordType, page.NextRecordIdentifier
	}
}

// AppendRecords adds the TXT values to zone in one change batch, keeping
// every value at each name and the RRset's TTL, then waits until Route 53
// reports the change INSYNC (unless NoWait). It returns the records on
// success, none on error (a batch is applied whole or not at all).
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.change(ctx, zone, recs, false)
}

// DeleteRecords removes exactly the given TXT values from zone in one
// change batch; other values at the same name stay with their TTL, and an
// RRset left empty is deleted. A value that is not there is no error. It
// does not wait for INSYNC.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.change(ctx, zone, recs, true)
}

type want struct {
	name   string
	ttl    int64
	values []string
}

func (p *Provider) change(ctx context.Context, zone string, recs []libdns.Record, del bool) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	zone = dns.CanonicalName(zone)
	var order []string
	byName := map[string]*want{}
	for _, rec := range recs {
		rr := rec.RR()
		if !strings.EqualFold(rr.Type, "TXT") {
			return nil, fmt.Errorf("route53: only TXT records are written, not %s at %s", rr.Type, rr.Name)
		}
		name := dns.CanonicalName(libdns.AbsoluteName(rr.Name, zone))
		if !dns.IsSubDomain(zone, name) {
			return nil, fmt.Errorf("route53: %s is not in zone %s", name, zone)
		}
		w, ok := byName[name]
		if !ok {
			w = &want{name: name, ttl: p.ttl(rr)}
			byName[name] = w
			order = append(order, name)
		}
		w.values = append(w.values, rr.Data)
	}
	id, err := p.zoneID(ctx, zone)
	if err != nil {
		return nil, err
	}
	api, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	unlock := p.lock(id)
	defer unlock()
	var info *types.ChangeInfo
	for attempt := 0; ; attempt++ {
		changes, err := p.batch(ctx, api, id, zone, order, byName, del)
		if err != nil {
			return nil, err
		}
		if len(changes) == 0 {
			return recs, nil
		}
		out, err := api.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(id),
			ChangeBatch:  &types.ChangeBatch{Comment: aws.String("ACME challenge records (" + version.UserAgent() + ")"), Changes: changes},
		})
		if err == nil {
			info = out.ChangeInfo
			break
		}
		if !concurrentChange(err) || attempt >= conflictRetries {
			return nil, explain("ChangeResourceRecordSets", zone, err)
		}
		// Another writer changed an RRset since it was read: read again.
	}
	if del || p.NoWait || info == nil || info.Status == types.ChangeStatusInsync {
		return recs, nil
	}
	if err := p.waitInSync(ctx, api, aws.ToString(info.Id), zone); err != nil {
		return nil, err
	}
	return recs, nil
}

// batch reads the TXT RRset at each name and returns the changes that
// make it hold the values wanted: DELETE of the RRset as read with CREATE
// of the new one, CREATE of a new RRset, DELETE of one left empty.
func (p *Provider) batch(ctx context.Context, api *r53.Client, id, zone string, order []string, byName map[string]*want, del bool) ([]types.Change, error) {
	var changes []types.Change
	for _, name := range order {
		w := byName[name]
		cur, err := readTXT(ctx, api, id, name)
		if err != nil {
			return nil, explain("ListResourceRecordSets", zone, err)
		}
		var values []string
		ttl := w.ttl
		if cur != nil {
			if cur.SetIdentifier != nil {
				return nil, fmt.Errorf("route53: the TXT records at %s use a routing policy (set %q); strictacme writes only simple records, so remove the policy or use another name (CNAME delegation)", strings.TrimSuffix(name, "."), aws.ToString(cur.SetIdentifier))
			}
			ttl = aws.ToInt64(cur.TTL) // the RRset's TTL is not ours to change
			for _, r := range cur.ResourceRecords {
				values = append(values, aws.ToString(r.Value))
			}
		}
		next := slices.Clone(values)
		changed := false
		for _, v := range w.values {
			i := slices.IndexFunc(next, func(s string) bool { u, err := txtdata.Unquote(s); return err == nil && u == v })
			switch {
			case del && i >= 0:
				next = slices.Delete(next, i, i+1)
				changed = true
			case !del && i < 0:
				next = append(next, txtdata.Quote(v))
				changed = true
			}
		}
		if !changed {
			continue
		}
		if cur != nil {
			changes = append(changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: cur})
		}
		if len(next) > 0 {
			set := &types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeTxt, TTL: aws.Int64(ttl)}
			for _, v := range next {
				set.ResourceRecords = append(set.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
			}
			changes = append(changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set})
		}
	}
	return changes, nil
}

// readTXT returns the TXT RRset at name, nil when there is none.
func readTXT(ctx context.Context, api *r53.Client, id, name string) (*types.ResourceRecordSet, error) {
	out, err := api.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(id), StartRecordName: aws.String(name), StartRecordType: types.RRTypeTxt, MaxItems: aws.Int32(1),
	})
	if err != nil {
		return nil, err
	}
	for _, s := range out.ResourceRecordSets {
		if s.Type == types.RRTypeTxt && dns.CanonicalName(unescapeName(aws.ToString(s.Name))) == name {
			s := s
			return &s, nil
		}
	}
	return nil, nil
}

// waitInSync polls GetChange until the change is INSYNC: every Route 53
// authoritative server answers with it.
func (p *Provider) waitInSync(ctx context.Context, api *r53.Client, changeID, zone string) error {
	poll := p.SyncPoll
	if poll <= 0 {
		poll = DefaultSyncPoll
	}
	timeout := p.SyncTimeout
	if timeout <= 0 {
		timeout = DefaultSyncTimeout
	}
	w := r53.NewResourceRecordSetsChangedWaiter(api, func(o *r53.ResourceRecordSetsChangedWaiterOptions) {
		o.MinDelay, o.MaxDelay = poll, 5*poll
	})
	if err := w.Wait(ctx, &r53.GetChangeInput{Id: aws.String(changeID)}, timeout); err != nil {
		if ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "exceeded max wait time")) {
			return fmt.Errorf("route53: change %s in zone %s not INSYNC after %s; Route 53 is slow to serve it (raise %s) or see the AWS health dashboard", changeID, strings.TrimSuffix(zone, "."), timeout, EnvSyncTimeout)
		}
		return explain("GetChange", zone, err)
	}
	return nil
}

func (p *Provider) ttl(rr libdns.RR) int64 {
	switch {
	case p.TTL > 0:
		return int64(p.TTL)
	case rr.TTL >= time.Second:
		return int64(rr.TTL / time.Second)
	}
	return DefaultTTL
}

func (p *Provider) lock(id string) func() { return p.locks.Lock(id) }

// bareID strips the "/hostedzone/" prefix Route 53 puts on zone IDs.
func bareID(id string) string {
	return strings.TrimPrefix(strings.TrimSpace(id), "/hostedzone/")
}

// unescapeName undoes Route 53's octal escapes in names ("\052" for "*").
func unescapeName(name string) string {
	if !strings.Contains(name, `\`) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' && i+3 < len(name) && isOctal(name[i+1]) && isOctal(name[i+2]) && isOctal(name[i+3]) {
			b.WriteByte((name[i+1]-'0')*64 + (name[i+2]-'0')*8 + (name[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(name[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// concurrentChange reports whether a batch failed because an RRset is no
// longer what was read (another writer changed it in between).
func concurrentChange(err error) bool {
	var icb *types.InvalidChangeBatch
	if !errors.As(err, &icb) {
		return false
	}
	for _, m := range icb.Messages {
		if strings.Contains(m, "already exists") || strings.Contains(m, "not found") || strings.Contains(m, "values provided do not match") {
			return true
		}
	}
	return false
}
