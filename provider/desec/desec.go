// Package desec is a libdns provider for deSEC (https://desec.io), whose
// API replaces whole RRsets: the records of one name and type are
// written together, so adding a TXT value means sending every value
// already there as well (https://desec.readthedocs.io/en/latest/dns/rrsets.html).
//
// Every change to a zone is one read-modify-write under a per-zone lock:
// the zone's TXT RRsets are read, our values are added to or removed from
// exactly the RRsets that hold them (every other value and the RRset's
// TTL kept), and all changed RRsets go in one bulk PATCH, which deSEC
// applies atomically. Zones come from deSEC's domain list (owns_qname),
// never from DNS.
package desec

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/apiclient"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/redact"
	"github.com/strictacme/strictacme/internal/txtdata"
)

// lego's variable names (https://go-acme.github.io/lego/dns/desec/), and
// this provider's own.
const (
	EnvToken = "DESEC_TOKEN"
	EnvTTL   = "DESEC_TTL"
	// EnvEndpoint is the API base URL (tests, a deSEC-compatible
	// deployment of desec-stack); lego has none.
	EnvEndpoint = "DESEC_ENDPOINT"
	// EnvServingLag is how long deSEC's name servers take to serve a
	// change; lego has none.
	EnvServingLag = "DESEC_SERVING_LAG"
	// EnvLockDir is the directory of the per-domain lock files
	// (Provider.LockDir); lego has none.
	EnvLockDir = "DESEC_LOCK_DIR"
)

// DefaultServingLag is how long deSEC's name servers take to serve a
// written RRset: changes reach the anycast servers about once a minute
// (https://github.com/go-acme/lego/issues/2072, which raised lego's
// default propagation timeout for it).
const DefaultServingLag = time.Minute

// DefaultMaxWait is the longest Retry-After of a throttled call that is
// waited out before the call fails.
const DefaultMaxWait = 2 * time.Minute

// Provider writes TXT records through deSEC's API. Its zero value is
// ready once Token is set; it is safe for concurrent use, and changes to
// one zone through one Provider take turns.
type Provider struct {
	// Token is the API token (Authorization: Token …). Never logged.
	Token string `json:"token,omitempty"`
	// Endpoint is the API base URL; "" is DefaultEndpoint. It must be
	// https, or http on a loopback address (test servers).
	Endpoint string `json:"endpoint,omitempty"`
	// TTL is the TTL of a TXT RRset this provider creates, overriding the
	// records' own; either is raised to the domain's minimum_ttl (3600 s
	// unless deSEC lowered it). An RRset that exists keeps its TTL.
	TTL time.Duration `json:"ttl,omitempty"`
	// Lag is how long deSEC's name servers take to serve a change: 0 is
	// DefaultServingLag, negative none.
	Lag time.Duration `json:"serving_lag,omitempty"`
	// MaxWait is the longest Retry-After waited out; 0 is DefaultMaxWait.
	MaxWait time.Duration `json:"max_wait,omitempty"`
	// LockDir holds one lock file per domain so that processes on this
	// machine take turns on a domain's read-modify-write (an RRset
	// rewritten whole would drop a value another process added
	// meanwhile); "" means providers.DefaultLockDir, one for the machine.
	LockDir string `json:"lock_dir,omitempty"`

	// HTTPClient sends the requests; nil is a client with a 30 s timeout.
	HTTPClient *http.Client `json:"-"`
	// Sleep waits out throttling; nil waits on the real clock. Tests
	// give a fake.
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`
	// Now is the time source for Retry-After dates; nil is time.Now.
	Now func() time.Time `json:"-"`
	// Logger receives one line per write; nil discards.
	Logger *slog.Logger `json:"-"`

	initOnce sync.Once
	c        *client
	initErr  error

	mu       sync.Mutex
	lockOnce sync.Once
	locks    providers.ZoneLocks
	minTTLs  map[string]int
}

// domain is deSEC's domain object (the fields used here).
type domain struct {
	Name       string `json:"name"`
	MinimumTTL int    `json:"minimum_ttl"`
}

// rrset is deSEC's RRset object. TTL is a pointer so that a bulk request
// can leave it out; Records holds presentation-format contents.
type rrset struct {
	Subname string   `json:"subname"`
	Type    string   `json:"type"`
	TTL     *int     `json:"ttl,omitempty"`
	Records []string `json:"records"`
}

func (p *Provider) client() (*client, error) {
	p.initOnce.Do(func() {
		if strings.TrimSpace(p.Token) == "" {
			p.initErr = fmt.Errorf("desec: no API token; set %s (or %s_FILE) to a deSEC token", EnvToken, EnvToken)
			return
		}
		redact.Add(p.Token)
		base, err := endpointURL(p.Endpoint)
		if err != nil {
			p.initErr = err
			return
		}
		token := strings.TrimSpace(p.Token)
		api := &apiclient.Client{
			Name:   "desec",
			Secret: token,
			HTTP:   p.HTTPClient,
			Sign:   func(req *http.Request) { req.Header.Set("Authorization", "Token "+token) },
			Refuse: func(op string, status int, body []byte, retryAt time.Time) (error, bool) {
				ae := newAPIError(op, status, body)
				ae.RetryAt = retryAt
				return ae, false
			},
			MaxWait:  p.MaxWait,
			Attempts: 5,
			MaxBody:  16 << 20,
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
		c := &client{base: base, api: api}
		p.c = c
	})
	return p.c, p.initErr
}

// ServingLag is how long deSEC's name servers take to serve a change.
func (p *Provider) ServingLag() time.Duration {
	switch {
	case p.Lag < 0:
		return 0
	case p.Lag == 0:
		return DefaultServingLag
	}
	return p.Lag
}

// ListZones lists the account's domains (GET /domains/, every page).
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	c, err := p.client()
	if err != nil {
		return nil, err
	}
	var ds []domain
	if err := list(ctx, c, request{op: "listing domains", method: http.MethodGet, path: "domains/"}, &ds); err != nil {
		return nil, err
	}
	out := make([]libdns.Zone, 0, len(ds))
	for _, d := range ds {
		p.rememberMinTTL(d)
		out = append(out, libdns.Zone{Name: d.Name + "."})
	}
	return out, nil
}

// ZoneFor returns the account's domain that holds fqdn, asking deSEC
// which domain owns the name (GET /domains/?owns_qname=…): the longest
// matching domain of this account, which is how deSEC itself decides.
func (p *Provider) ZoneFor(ctx context.Context, fqdn string) (string, error) {
	c, err := p.client()
	if err != nil {
		return "", err
	}
	name := strings.TrimSuffix(strings.ToLower(fqdn), ".")
	var ds []domain
	if _, err := c.do(ctx, request{op: "finding the domain of " + name, method: http.MethodGet, path: "domains/", query: url.Values{"owns_qname": {name}}}, &ds); err != nil {
		return "", err
	}
	if len(ds) == 0 {
		return "", fmt.Errorf("desec: no domain in this deSEC account holds %s; add the domain in deSEC or use a token of the account that has it", name)
	}
	p.rememberMinTTL(ds[0])
	return ds[0].Name + ".", nil
}

// GetRecords returns every record of zone (GET …/rrsets/, every page).
// TXT contents are unquoted; other types are as deSEC presents them.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	c, err := p.client()
	if err != nil {
		return nil, err
	}
	z := zoneName(zone)
	var sets []rrset
	if err := list(ctx, c, request{op: "reading zone " + z, method: http.MethodGet, path: "domains/" + url.PathEscape(z) + "/rrsets/"}, &sets); err != nil {
		return nil, err
	}
	var out []libdns.Record
	for _, s := range sets {
		name := s.Subname
		if name == "" {
			name = "@"
		}
		ttl := time.Duration(deref(s.TTL)) * time.Second
		for _, r := range s.Records {
			rr := libdns.RR{Name: name, TTL: ttl, Type: s.Type, Data: r}
			if s.Type == "TXT" {
				if rr.Data, err = txtdata.Unquote(r); err != nil {
					return nil, fmt.Errorf("desec: reading zone %s: %w", z, err)
				}
			}
			if rec, err := rr.Parse(); err == nil {
				out = append(out, rec)
			} else {
				out = append(out, rr)
			}
		}
	}
	return out, nil
}

// AppendRecords adds TXT values to zone, in one bulk write: each value
// joins the RRset at its name, whose other values and TTL stay; a value
// already there is not written again. It returns the records added.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.change(ctx, zone, recs, true)
}

// DeleteRecords removes exactly the given TXT values from zone, in one
// bulk write; other values at the same names stay with their TTL, and an
// RRset left empty is deleted. It returns the records that were there.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.change(ctx, zone, recs, false)
}

// want is one TXT value to add or remove, at subname.
type want struct {
	subname string
	text    string
	ttl     time.Duration
}

func (p *Provider) change(ctx context.Context, zone string, recs []libdns.Record, add bool) ([]libdns.Record, error) {
	c, err := p.client()
	if err != nil {
		return nil, err
	}
	z := zoneName(zone)
	if z == "" {
		return nil, errors.New("desec: no zone given")
	}
	var wants []want
	for _, r := range recs {
		rr := r.RR()
		if rr.Type != "TXT" {
			return nil, fmt.Errorf("desec: %s record at %s: this provider writes TXT records only", rr.Type, rr.Name)
		}
		if rr.Data == "" && !add {
			return nil, fmt.Errorf("desec: deleting TXT at %s without a value is refused: only exact values are deleted", rr.Name)
		}
		wants = append(wants, want{subname: subname(rr.Name, z), text: rr.Data, ttl: rr.TTL})
	}
	if len(wants) == 0 {
		return nil, nil
	}

	unlock, err := p.lock(ctx, z)
	if err != nil {
		return nil, err
	}
	defer unlock()

	var current []rrset
	if err := list(ctx, c, request{op: "reading TXT RRsets of " + z, method: http.MethodGet, path: "domains/" + url.PathEscape(z) + "/rrsets/", query: url.Values{"type": {"TXT"}}}, &current); err != nil {
		return nil, err
	}
	have := map[string]*rrset{}
	for i := range current {
		have[current[i].Subname] = &current[i]
	}

	var minTTL int
	if add {
		if minTTL, err = p.minTTL(ctx, c, z); err != nil {
			return nil, err
		}
	}
	changed := map[string]*rrset{}
	var done []libdns.Record
	for _, w := range wants {
		s := changed[w.subname]
		if s == nil {
			if old := have[w.subname]; old != nil {
				s = &rrset{Subname: old.Subname, Type: "TXT", TTL: old.TTL, Records: slices.Clone(old.Records)}
			} else if add {
				ttl := max(p.ttlFor(w.ttl), minTTL)
				s = &rrset{Subname: w.subname, Type: "TXT", TTL: &ttl, Records: []string{}}
			} else {
				continue // nothing at that name: nothing of ours to delete
			}
		}
		idx := -1
		for i, r := range s.Records {
			if t, err := txtdata.Unquote(r); err == nil && t == w.text {
				idx = i
				break
			}
		}
		switch {
		case add && idx < 0:
			s.Records = append(s.Records, txtdata.Quote(w.text))
		case !add && idx >= 0:
			s.Records = slices.Delete(s.Records, idx, idx+1)
		default:
			continue
		}
		changed[w.subname] = s
		done = append(done, libdns.TXT{Name: nameOf(w.subname), TTL: time.Duration(deref(s.TTL)) * time.Second, Text: w.text})
	}
	if len(changed) == 0 {
		return nil, nil
	}
	body := make([]rrset, 0, len(changed))
	for _, s := range changed {
		body = append(body, *s)
	}
	sort.Slice(body, func(i, j int) bool { return body[i].Subname < body[j].Subname })
	var result []rrset
	op := "writing zone " + z
	if _, err := c.do(ctx, request{op: op, method: http.MethodPatch, path: "domains/" + url.PathEscape(z) + "/rrsets/", body: body}, &result); err != nil {
		return nil, err
	}
	if err := verify(body, result); err != nil {
		return nil, fmt.Errorf("desec: %s: %w", op, err)
	}
	if p.Logger != nil {
		verb := "added"
		if !add {
			verb = "removed"
		}
		p.Logger.Info("desec: one bulk write", "zone", z, "rrsets", len(body), "values "+verb, len(done))
	}
	return done, nil
}

// verify checks deSEC's answer to a bulk write: every RRset sent is
// there with exactly the records sent, and an emptied one is gone.
func verify(sent, got []rrset) error {
	byName := map[string]rrset{}
	for _, s := range got {
		byName[s.Subname+"\x00"+s.Type] = s
	}
	for _, s := range sent {
		g, ok := byName[s.Subname+"\x00"+s.Type]
		switch {
		case len(s.Records) == 0 && ok && len(g.Records) > 0:
			return fmt.Errorf("deSEC kept TXT at %q after it was emptied", nameOf(s.Subname))
		case len(s.Records) > 0 && !ok:
			return fmt.Errorf("deSEC's answer lacks the TXT RRset at %q", nameOf(s.Subname))
		case len(s.Records) > 0 && !sameSet(s.Records, g.Records):
			return fmt.Errorf("deSEC stored TXT at %q as %q, not as sent (%q)", nameOf(s.Subname), g.Records, s.Records)
		}
	}
	return nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

func (p *Provider) ttlFor(asked time.Duration) int {
	if p.TTL > 0 {
		asked = p.TTL
	}
	return int(asked / time.Second)
}

// minTTL is the domain's minimum_ttl, from an earlier listing or from
// GET /domains/{name}/.
func (p *Provider) minTTL(ctx context.Context, c *client, z string) (int, error) {
	p.mu.Lock()
	v, ok := p.minTTLs[z]
	p.mu.Unlock()
	if ok {
		return v, nil
	}
	var d domain
	if _, err := c.do(ctx, request{op: "reading domain " + z, method: http.MethodGet, path: "domains/" + url.PathEscape(z) + "/"}, &d); err != nil {
		return 0, err
	}
	p.rememberMinTTL(d)
	return d.MinimumTTL, nil
}

func (p *Provider) rememberMinTTL(d domain) {
	if d.MinimumTTL <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.minTTLs == nil {
		p.minTTLs = map[string]int{}
	}
	p.minTTLs[strings.ToLower(d.Name)] = d.MinimumTTL
}

// lock serialises changes to zone z through p: each is a
// read-modify-write of whole RRsets, so two at once would lose a value.
// lock takes domain z's lock in this process and, through a lock file in
// LockDir, across the machine's processes.
func (p *Provider) lock(ctx context.Context, z string) (func(), error) {
	p.lockOnce.Do(func() {
		p.locks.Dir, p.locks.Prefix = cmp.Or(p.LockDir, providers.DefaultLockDir()), "desec"
	})
	unlock, err := p.locks.LockContext(ctx, z)
	if err != nil {
		var de *providers.LockDirError
		if errors.As(err, &de) {
			return nil, fmt.Errorf("desec: locking domain %s: %v; set %s to a writable directory", z, err, EnvLockDir)
		}
		return nil, fmt.Errorf("desec: locking domain %s: %w", z, err)
	}
	return unlock, nil
}

func zoneName(zone string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(zone)), ".")
}

// subname is a libdns record name relative to zone z as deSEC spells it:
// "" for the apex. An absolute name (trailing dot) is made relative.
func subname(name, z string) string {
	name = strings.ToLower(name)
	if strings.HasSuffix(name, ".") {
		name = libdns.RelativeName(name, z+".")
	}
	if name == "@" {
		return ""
	}
	return name
}

func nameOf(sub string) string {
	if sub == "" {
		return "@"
	}
	return sub
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// Interface guards.
var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
)
