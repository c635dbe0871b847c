// Package rfc2136 is a libdns provider that writes TXT records with DNS
// dynamic updates (RFC 2136) signed with TSIG (RFC 8945) on a zone's
// primary server: BIND, Knot, PowerDNS and any other server that takes
// UPDATE messages.
//
// Every message goes to the one configured server and to nothing else:
// the zone comes from configuration or from an SOA question to that same
// server, never from a resolver. All records of one call are one UPDATE
// message (RFC 2136 §3: applied as a whole or not at all) without
// prerequisites; a record is added by value (§2.5.1) and deleted by value
// (§2.5.4, class NONE), so other TXT values at the same name, other
// orders' included, are never touched. Messages go over UDP and again
// over TCP when the answer is truncated or the message is larger than 512
// bytes. A refusal is a *ServerError whose text says whether the key, the
// zone or the update policy is at fault.
package rfc2136

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/redact"
)

// Defaults of the zero Provider.
const (
	// DefaultTTL is the TTL of a record that gives none, seconds (lego's).
	DefaultTTL = 120
	// DefaultTimeout bounds one exchange with the server (lego's
	// RFC2136_DNS_TIMEOUT default).
	DefaultTimeout = 10 * time.Second
)

// Provider writes TXT records on the primary Server with TSIG-signed
// UPDATE messages. It is ready to use from its zero value once Server is
// set (and the key, unless the server takes unsigned updates); the JSON
// names are those a Caddy configuration would use. Do not change the
// fields after the first call. Safe for concurrent use.
type Provider struct {
	// Server is the zone's primary, "host" or "host:port" (port 53 when
	// none is given); RFC2136_NAMESERVER. Give an address: a host name is
	// resolved by the system resolver before the first message.
	Server string `json:"server,omitempty"`
	// Zone, when set, is the zone every name is written in; "" means the
	// zone is asked of Server with an SOA question (ZoneFor).
	Zone string `json:"zone,omitempty"`
	// KeyName, KeyAlgorithm and KeySecret are the TSIG key: its name on
	// the server, hmac-sha256 (the default), hmac-sha384 or hmac-sha512,
	// and the base64 secret. With no KeyName and no KeyFile, messages are
	// not signed.
	KeyName      string `json:"key_name,omitempty"`
	KeyAlgorithm string `json:"key_alg,omitempty"`
	KeySecret    string `json:"key,omitempty"`
	// KeyFile is a file holding the key in BIND's key syntax (see
	// ReadKeyFile); KeyName then picks one of several keys. Read on first
	// use.
	KeyFile string `json:"key_file,omitempty"`
	// TTL of written records in seconds; when set it wins over each
	// record's own TTL. 0 means the record's TTL, or DefaultTTL. At a name
	// that already has TXT records, ours take their TTL instead (see
	// AppendRecords), and values written together at a name share the
	// first one's.
	TTL int `json:"ttl,omitempty"`
	// Timeout bounds one exchange with Server; 0 means DefaultTimeout.
	Timeout time.Duration `json:"timeout,omitempty"`
	// Lag is how long the zone's other authoritative servers (the
	// secondaries the CA may ask) take to serve a change the primary
	// accepted: NOTIFY and IXFR make it seconds, a secondary that only
	// polls at the SOA refresh interval much longer. ServingLag returns
	// it; 0 means at once.
	Lag time.Duration `json:"serving_lag,omitempty"`

	keyOnce sync.Once
	keyVal  *Key
	keyErr  error
	mu      sync.Mutex
	zones   map[string]string // name asked → zone found
}

var (
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.RecordGetter   = (*Provider)(nil)
)

// key returns the TSIG key, nil when messages go unsigned. The secret is
// registered with the redactor so nothing strictacme prints can show it.
func (p *Provider) key() (*Key, error) {
	p.keyOnce.Do(func() {
		var k Key
		switch {
		case p.KeyFile != "":
			k, p.keyErr = ReadKeyFile(p.KeyFile, p.KeyName)
		case p.KeyName != "" || p.KeySecret != "":
			k, p.keyErr = Key{Name: p.KeyName, Algorithm: p.KeyAlgorithm, Secret: p.KeySecret}.check()
		default:
			return
		}
		if p.keyErr != nil {
			p.keyErr = fmt.Errorf("rfc2136: %w", p.keyErr)
			return
		}
		redact.Add(k.Secret)
		p.keyVal = &k
	})
	return p.keyVal, p.keyErr
}

// ServingLag returns Lag (providers.ServingLagger): the primary serves a
// change as soon as it accepts it, the secondaries later.
func (p *Provider) ServingLag() time.Duration { return max(p.Lag, 0) }

// AppendRecords adds the TXT records to zone in one UPDATE message (RFC
// 2136 §2.5.1): a value already there stays as it is (§3.4.2.2), other
// values at the name are kept with their TTL (see rrsetTTL: one TXT
// question per name to the primary comes first). Only TXT records are
// accepted; every name must be in zone. It returns the records on
// success, none on error (the server applies an UPDATE as a whole or not
// at all).
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.update(ctx, zone, recs, false)
}

// DeleteRecords removes exactly the given TXT values from zone in one
// UPDATE message, each by value (RFC 2136 §2.5.4, class NONE): other TXT
// values at the same name stay. A value that is not there is no error
// (the server ignores its deletion), so the records are returned as given.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.update(ctx, zone, recs, true)
}

func (p *Provider) ttl(r libdns.RR) uint32 {
	switch {
	case p.TTL > 0:
		return uint32(p.TTL)
	case r.TTL >= time.Second:
		return uint32(r.TTL / time.Second)
	}
	return DefaultTTL
}

func (p *Provider) update(ctx context.Context, zone string, recs []libdns.Record, del bool) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	zone = dns.CanonicalName(zone)
	var rrs []dns.RR
	kept := map[string]uint32{} // name → TTL of the TXT RRset already there
	for _, rec := range recs {
		rr := rec.RR()
		if !strings.EqualFold(rr.Type, "TXT") {
			return nil, fmt.Errorf("rfc2136: only TXT records are written, not %s at %s", rr.Type, rr.Name)
		}
		name := dns.CanonicalName(libdns.AbsoluteName(rr.Name, zone))
		if !dns.IsSubDomain(zone, name) {
			return nil, fmt.Errorf("rfc2136: %s is not in zone %s", name, zone)
		}
		txt := &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: p.ttl(rr)}, Txt: splitTXT(rr.Data)}
		if !del {
			ttl, seen := kept[name]
			if !seen {
				var err error
				if ttl, err = p.rrsetTTL(ctx, name); err != nil {
					return nil, err
				}
				kept[name] = ttl
			}
			if ttl > 0 {
				txt.Hdr.Ttl = ttl
			} else {
				kept[name] = txt.Hdr.Ttl // our own values at a name share one TTL too
			}
		}
		if del {
			// RFC 2136 §2.5.4: class NONE, TTL 0 deletes this value only.
			txt.Hdr.Class, txt.Hdr.Ttl = dns.ClassNONE, 0
		}
		rrs = append(rrs, txt)
	}
	build := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetUpdate(zone)
		m.Ns = append(m.Ns, rrs...)
		return m
	}
	if _, err := p.exchange(ctx, "update", zone, build); err != nil {
		return nil, err
	}
	return recs, nil
}

// rrsetTTL asks the primary for the TXT records at name and returns the
// TTL they share, 0 when there are none. An added record takes that TTL:
// an RRset has one TTL (RFC 2181 §5.2) and servers set the whole RRset to
// the TTL of an added record, which would change the TTL of values that
// are not ours. A CNAME at name is an error: the server would drop the TXT
// silently (RFC 2136 §3.4.2.2).
func (p *Provider) rrsetTTL(ctx context.Context, name string) (uint32, error) {
	build := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeTXT)
		m.RecursionDesired = false
		return m
	}
	r, err := p.exchange(ctx, "TXT query", name, build)
	if err != nil {
		return 0, err
	}
	for _, rr := range r.Answer {
		if dns.CanonicalName(rr.Header().Name) != name {
			continue
		}
		switch rr.Header().Rrtype {
		case dns.TypeCNAME:
			addr, _ := p.server()
			return 0, fmt.Errorf("rfc2136: %s is an alias (CNAME) on %s; a TXT record cannot be added beside it (RFC 2136 §3.4.2.2 drops it silently); write at the alias target instead", strings.TrimSuffix(name, "."), addr)
		case dns.TypeTXT:
			return rr.Header().Ttl, nil
		}
	}
	return 0, nil
}

// splitTXT cuts a value into the 255-byte strings of TXT RDATA (RFC 1035
// §3.3.14); readers join them again.
func splitTXT(s string) []string {
	if s == "" {
		return []string{""}
	}
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}

// GetRecords returns every record of zone by a TSIG-signed zone transfer
// (AXFR, RFC 5936) from Server, less the apex SOA; the key needs transfer
// rights (BIND: allow-transfer { key NAME; }). Names are relative to zone.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	zone = dns.CanonicalName(zone)
	addr, err := p.server()
	if err != nil {
		return nil, err
	}
	key, err := p.key()
	if err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	m.SetAxfr(zone)
	tr := &dns.Transfer{DialTimeout: p.timeout(), ReadTimeout: p.timeout(), WriteTimeout: p.timeout()}
	if key != nil {
		m.SetTsig(key.Name, key.Algorithm, fudge, time.Now().Unix())
		tr.TsigSecret = map[string]string{key.Name: key.Secret}
	}
	if dl, ok := ctx.Deadline(); ok {
		tr.ReadTimeout = min(tr.ReadTimeout, time.Until(dl))
	}
	envs, err := tr.In(m, addr)
	if err != nil {
		return nil, fmt.Errorf("rfc2136 zone transfer of %s at %s: %w", strings.TrimSuffix(zone, "."), addr, err)
	}
	var out []libdns.Record
	soas := 0
	for env := range envs {
		if env.Error != nil {
			for range envs {
			}
			return nil, transferError(env.Error, addr, zone, key)
		}
		for _, rr := range env.RR {
			if rr.Header().Rrtype == dns.TypeSOA {
				soas++
				continue
			}
			rec, err := libdns.RR{
				Name: libdns.RelativeName(rr.Header().Name, zone),
				Type: dns.TypeToString[rr.Header().Rrtype],
				TTL:  time.Duration(rr.Header().Ttl) * time.Second,
				Data: rdata(rr),
			}.Parse()
			if err != nil {
				rec = libdns.RR{Name: libdns.RelativeName(rr.Header().Name, zone), Type: dns.TypeToString[rr.Header().Rrtype], TTL: time.Duration(rr.Header().Ttl) * time.Second, Data: rdata(rr)}
			}
			out = append(out, rec)
		}
	}
	if soas < 2 {
		return nil, fmt.Errorf("rfc2136 zone transfer of %s at %s: incomplete (no closing SOA)", strings.TrimSuffix(zone, "."), addr)
	}
	return out, nil
}

// transferError names the RCODE of a refused transfer; miekg/dns reports
// it as text ("bad xfr rcode: 5").
func transferError(err error, addr, zone string, key *Key) error {
	var rc int
	if _, scan := fmt.Sscanf(err.Error(), "dns: bad xfr rcode: %d", &rc); scan == nil {
		e := &ServerError{Op: "zone transfer", Server: addr, Zone: zone, Rcode: rc}
		if key != nil {
			e.Key = key.Name
		}
		return e
	}
	if errors.Is(err, dns.ErrSig) || errors.Is(err, dns.ErrSecret) {
		return fmt.Errorf("rfc2136 zone transfer of %s at %s: %w (%v); if the server said BADKEY or BADSIG, check the key name and secret", strings.TrimSuffix(zone, "."), addr, ErrUnsigned, err)
	}
	return fmt.Errorf("rfc2136 zone transfer of %s at %s: %w", strings.TrimSuffix(zone, "."), addr, err)
}

// rdata is the presentation form of rr's RDATA, with TXT strings joined
// into the one value libdns carries.
func rdata(rr dns.RR) string {
	if t, ok := rr.(*dns.TXT); ok {
		return strings.Join(t.Txt, "")
	}
	s := rr.String()
	h := rr.Header().String()
	return strings.TrimPrefix(s, h)
}

// ZoneFor returns the zone that holds fqdn on Server
// (providers.ZoneFinder). With Zone set it only checks that fqdn is in it
// and that Server is authoritative for it; otherwise it asks Server alone
// for the SOA of fqdn and takes the zone from the answer or the authority
// section, never asking any other server. The question is signed when a key
// is set, so a wrong key shows here, before any order. Answers are kept
// for the Provider's life.
func (p *Provider) ZoneFor(ctx context.Context, fqdn string) (string, error) {
	fqdn = dns.CanonicalName(fqdn)
	ask := fqdn
	if p.Zone != "" {
		zone := dns.CanonicalName(p.Zone)
		if !dns.IsSubDomain(zone, fqdn) {
			return "", fmt.Errorf("rfc2136: %s is not in the configured zone %s", strings.TrimSuffix(fqdn, "."), strings.TrimSuffix(zone, "."))
		}
		ask = zone
	}
	p.mu.Lock()
	z, ok := p.zones[ask]
	for _, known := range p.zones {
		if known == ask { // an apex found before is its own zone
			z, ok = known, true
		}
	}
	p.mu.Unlock()
	if ok {
		return z, nil
	}
	z, err := p.soa(ctx, ask)
	if err != nil {
		return "", err
	}
	if p.Zone != "" && z != ask {
		return "", fmt.Errorf("rfc2136: %s serves %s inside zone %s, not as a zone of its own; set RFC2136_ZONE to %s", p.Server, strings.TrimSuffix(ask, "."), strings.TrimSuffix(z, "."), strings.TrimSuffix(z, "."))
	}
	p.mu.Lock()
	if p.zones == nil {
		p.zones = map[string]string{}
	}
	p.zones[ask] = z
	p.mu.Unlock()
	return z, nil
}

// soa asks the server for the SOA of name, without recursion, and returns
// the owner of the SOA in an authoritative answer: the zone apex at or
// above name.
func (p *Provider) soa(ctx context.Context, name string) (string, error) {
	build := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeSOA)
		m.RecursionDesired = false
		return m
	}
	r, err := p.exchange(ctx, "SOA query", name, build)
	if err != nil {
		return "", err
	}
	addr, _ := p.server()
	if !r.Authoritative {
		return "", fmt.Errorf("rfc2136: %s answered the SOA question for %s without authority; point RFC2136_NAMESERVER at the zone's primary or set RFC2136_ZONE", addr, strings.TrimSuffix(name, "."))
	}
	for _, rr := range append(append([]dns.RR{}, r.Answer...), r.Ns...) {
		switch rr.Header().Rrtype {
		case dns.TypeCNAME:
			if dns.CanonicalName(rr.Header().Name) == name {
				return "", fmt.Errorf("rfc2136: %s is an alias (CNAME) on %s; a TXT record cannot be added beside it (RFC 2136 §3.4.2.2 drops it silently); write at the alias target instead", strings.TrimSuffix(name, "."), addr)
			}
		case dns.TypeSOA:
			z := dns.CanonicalName(rr.Header().Name)
			if dns.IsSubDomain(z, name) {
				return z, nil
			}
		}
	}
	return "", fmt.Errorf("rfc2136: %s gave no SOA for %s; set RFC2136_ZONE", addr, strings.TrimSuffix(name, "."))
}

// WriteOnly returns p without GetRecords: for a key without transfer
// rights, so callers that read records when they can (propagation,
// delegation, check) do not try a zone transfer the server refuses.
func (p *Provider) WriteOnly() *WriteOnly { return &WriteOnly{p: p} }

// WriteOnly is a Provider that cannot read records back.
type WriteOnly struct{ p *Provider }

// AppendRecords is Provider.AppendRecords.
func (w *WriteOnly) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return w.p.AppendRecords(ctx, zone, recs)
}

// DeleteRecords is Provider.DeleteRecords.
func (w *WriteOnly) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return w.p.DeleteRecords(ctx, zone, recs)
}

// ZoneFor is Provider.ZoneFor.
func (w *WriteOnly) ZoneFor(ctx context.Context, fqdn string) (string, error) {
	return w.p.ZoneFor(ctx, fqdn)
}

// ServingLag is Provider.ServingLag.
func (w *WriteOnly) ServingLag() time.Duration { return w.p.ServingLag() }
