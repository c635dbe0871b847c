// Package namecheaptest is a fake Namecheap XML API for tests: an
// httptest server on 127.0.0.1 that behaves like the real API as its docs
// (https://www.namecheap.com/support/api/methods/domains-dns/get-hosts/,
// https://www.namecheap.com/support/api/methods/domains-dns/set-hosts/)
// and captured responses show it: setHosts replaces the whole host list,
// getHosts answers with
// lowercase <host> rows whose HostIds are regenerated on every write,
// EmailType is kept or set per call, MX rows are not saved unless the
// zone's EmailType is MX, surrounding quotes of TXT values are stripped,
// setHosts can be made slow, calls past the per-minute budget get
// HTTP 405, errors come in the documented envelopes
// (https://www.namecheap.com/support/api/error-codes/), an over-long query
// string gets
// an HTML error page, and query and form parameters are merged with names
// matched case-insensitively.
//
// Everything is in memory; a Server is safe for concurrent use.
package namecheaptest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Canonical command names.
const (
	GetHosts  = "namecheap.domains.dns.getHosts"
	SetHosts  = "namecheap.domains.dns.setHosts"
	GetList   = "namecheap.domains.getList"
	GetTLDs   = "namecheap.domains.getTldList"
	DNSGetLst = "namecheap.domains.dns.getList"
)

var canonical = map[string]string{}

func init() {
	for _, c := range []string{GetHosts, SetHosts, GetList, GetTLDs, DNSGetLst} {
		canonical[strings.ToLower(c)] = c
	}
}

// Host is one host record as the fake stores it. MXPref and TTL are text,
// as on the wire.
type Host struct {
	HostId             int
	Name               string
	Type               string
	Address            string
	MXPref             string
	TTL                string
	AssociatedAppTitle string
	FriendlyName       string
	IsActive           bool
	IsDDNSEnabled      bool
}

// Key is the identity of a record as the provider compares zones
// (Name, Type, Address, MXPref,
// TTL); tests compare zones as multisets of keys.
func (h Host) Key() string {
	return strings.ToLower(h.Name) + "\x00" + strings.ToUpper(h.Type) + "\x00" + h.Address + "\x00" + h.MXPref + "\x00" + h.TTL
}

// Options configures a Server. The zero value is usable.
type Options struct {
	APIUser string // default "apiuser"
	APIKey  string // default "0123456789abcdef0123456789abcdef"
	// Whitelist holds the ClientIp values accepted; nil accepts any
	// syntactically valid IPv4 (error 1011150 otherwise).
	Whitelist []string
	// RateLimit is the number of calls accepted in any 60-second window
	// before HTTP 405; 0 means 20, negative means unlimited.
	RateLimit int
	// LegacyThrottle answers XML error 500000 with HTTP 200 instead of 405.
	LegacyThrottle bool
	// MaxQueryLen is the query-string length past which an HTML 404 page
	// comes back; 0 means 2048.
	MaxQueryLen int
	// DefaultTTL is stored when TTL{i} is omitted; "" means "1799".
	DefaultTTL string
	// EgressIP is what the /getip endpoint answers; "" means "203.0.113.7".
	EgressIP string
	// KeepMXWhateverEmailType turns off what the real API does
	// (https://github.com/billputer/go-namecheap/pull/7): by default MX
	// rows sent to setHosts are not saved unless the zone's EmailType after
	// the call is MX.
	KeepMXWhateverEmailType bool
	// SetHostsDelay is how long every setHosts waits, outside the server's
	// lock, before it applies the write: a slow API during which other
	// calls go on. The write lands even if the client gave up waiting.
	SetHostsDelay time.Duration
	// Damage, if set, may change the rows a setHosts is about to store
	// (after MX dropping and quote stripping), to model damage the real API
	// might do; it runs under the server's lock and must not call the Server.
	Damage func(domain string, hosts []Host) []Host
	// Now is the clock of the throttle window; nil means time.Now.
	Now func() time.Time
}

// Zone options for AddZone.
type ZoneOptions struct {
	EmailType    string // default "MX" if Hosts has an MX row (a zone with custom MX), else "NONE"
	CustomNS     bool   // getHosts/setHosts answer 2030288
	OtherAccount bool   // answer 2016166
	Shared       bool   // managed but not owned: absent from getList
	// UnicodeDomain answers getHosts and setHosts with the Domain attribute
	// of an IDN zone in Unicode (bücher.de for xn--bcher-kva.de), as the
	// API may.
	UnicodeDomain bool
	Hosts         []Host
}

type zone struct {
	emailType     string
	customNS      bool
	otherAccount  bool
	shared        bool
	unicodeDomain bool
	hosts         []Host
}

// Fault is an injected failure for the next matching call.
type Fault struct {
	Number     int    // XML error number; 0 with HTTPStatus set means an HTTP failure
	Message    string // error text
	HTTPStatus int    // e.g. 405, 500; with Number 0
	Body       string // raw body instead of an ApiResponse (e.g. HTML, or a 200 with junk)
}

// Request is what the server saw of one call.
type Request struct {
	Command     string
	Method      string
	ContentType string
	UserAgent   string
	QueryLen    int
	Params      url.Values // merged, names lower-cased; apikey removed
}

// Server is the fake API. Create it with NewServer and Close it.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	zones    map[string]*zone
	nextID   int
	white    map[string]bool
	calls    map[string]int
	window   []time.Time
	faults   map[string][]Fault
	requests []Request
	now      func() time.Time
	hook     func(command string)
	delays   []time.Duration // one-shot setHosts delays, used before SetHostsDelay
}

// NewServer starts a fake on 127.0.0.1. The API is at URL(), the IP
// discovery service at IPURL().
func NewServer(opts Options) *Server {
	if opts.APIUser == "" {
		opts.APIUser = "apiuser"
	}
	if opts.APIKey == "" {
		opts.APIKey = "0123456789abcdef0123456789abcdef"
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 20
	}
	if opts.MaxQueryLen == 0 {
		opts.MaxQueryLen = 2048
	}
	if opts.DefaultTTL == "" {
		opts.DefaultTTL = "1799"
	}
	if opts.EgressIP == "" {
		opts.EgressIP = "203.0.113.7"
	}
	s := &Server{
		opts:   opts,
		zones:  map[string]*zone{},
		nextID: 1000,
		calls:  map[string]int{},
		faults: map[string][]Fault{},
		now:    opts.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.Whitelist != nil {
		s.white = map[string]bool{}
		for _, ip := range opts.Whitelist {
			s.white[ip] = true
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/xml.response", s.handle)
	mux.HandleFunc("/getip", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		ip := s.opts.EgressIP
		s.mu.Unlock()
		fmt.Fprintf(w, "%s\n", ip)
	})
	s.srv = httptest.NewServer(mux) // listens on 127.0.0.1
	return s
}

// URL is the API endpoint, http://127.0.0.1:port/xml.response.
func (s *Server) URL() string { return s.srv.URL + "/xml.response" }

// IPURL answers the configured EgressIP, like an IP discovery service.
func (s *Server) IPURL() string { return s.srv.URL + "/getip" }

// APIUser and APIKey are the credentials the server accepts.
func (s *Server) APIUser() string { return s.opts.APIUser }

// APIKey is the key the server accepts.
func (s *Server) APIKey() string { return s.opts.APIKey }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// SetEgressIP changes what IPURL answers.
func (s *Server) SetEgressIP(ip string) { s.mu.Lock(); s.opts.EgressIP = ip; s.mu.Unlock() }

// AddZone creates or replaces a zone (registered domain or FreeDNS
// sub-zone, e.g. "example.co.uk" or "1605.carlini.com") with the given
// rows. Rows get fresh HostIds; empty MXPref/TTL get "10"/DefaultTTL.
func (s *Server) AddZone(domain string, zo ZoneOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	et := zo.EmailType
	if et == "" {
		et = "NONE"
		for _, h := range zo.Hosts {
			if strings.EqualFold(h.Type, "MX") {
				et = "MX"
			}
		}
	}
	z := &zone{emailType: et, customNS: zo.CustomNS, otherAccount: zo.OtherAccount, shared: zo.Shared, unicodeDomain: zo.UnicodeDomain}
	z.hosts = s.stamp(zo.Hosts, true)
	s.zones[strings.ToLower(domain)] = z
}

// stamp copies rows with new HostIds, as setHosts does.
func (s *Server) stamp(in []Host, keepFlags bool) []Host {
	out := make([]Host, len(in))
	for i, h := range in {
		s.nextID++
		h.HostId = s.nextID
		if h.MXPref == "" {
			h.MXPref = "10"
		}
		if h.TTL == "" {
			h.TTL = s.opts.DefaultTTL
		}
		if !keepFlags {
			h.IsDDNSEnabled = false
			h.AssociatedAppTitle, h.FriendlyName = "", ""
			h.IsActive = true
		}
		out[i] = h
	}
	return out
}

// RemoveZone deletes a zone; later calls for it answer 2019166.
func (s *Server) RemoveZone(domain string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.zones, strings.ToLower(strings.TrimSuffix(domain, ".")))
}

// SetZoneHosts replaces a zone's rows as another client would (new HostIds,
// flags as given). It panics if the zone does not exist.
func (s *Server) SetZoneHosts(domain string, hosts []Host) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.mustZone(domain)
	z.hosts = s.stamp(hosts, true)
}

// AddHosts appends rows to a zone as another writer would.
func (s *Server) AddHosts(domain string, hosts ...Host) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.mustZone(domain)
	z.hosts = append(z.hosts, s.stamp(hosts, true)...)
}

// Hosts returns a copy of a zone's rows in stored order.
func (s *Server) Hosts(domain string) []Host {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Host(nil), s.mustZone(domain).hosts...)
}

// EmailType returns a zone's EmailType.
func (s *Server) EmailType(domain string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustZone(domain).emailType
}

// SetEmailType changes a zone's EmailType.
func (s *Server) SetEmailType(domain, emailType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustZone(domain).emailType = emailType
}

func (s *Server) mustZone(domain string) *zone {
	z := s.zones[strings.ToLower(strings.TrimSuffix(domain, "."))]
	if z == nil {
		panic("namecheaptest: no zone " + domain)
	}
	return z
}

// Whitelist adds ClientIp values to the allow-list (creating it if the
// server was started with none, which accepted any IPv4).
func (s *Server) Whitelist(ips ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.white == nil {
		s.white = map[string]bool{}
	}
	for _, ip := range ips {
		s.white[ip] = true
	}
}

// Calls counts requests received for a command (canonical or any-case
// name, or a short form such as "getHosts"), throttled and failed ones included.
func (s *Server) Calls(command string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[resolveCommand(command)]
}

// TotalCalls counts every request to the API endpoint.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// ResetCalls zeroes the counters and the request log (not the throttle window).
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.requests = nil
}

// maxRequestLog bounds the request log so that long tests stay fast.
const maxRequestLog = 128

// Requests returns what the server saw, oldest first (at most the last
// 128 requests).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// InjectError queues a fault for the next call of command (any spelling of
// the name); several queued faults are used one call each, in order.
func (s *Server) InjectError(command string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := resolveCommand(command)
	s.faults[c] = append(s.faults[c], f)
}

// DelayNextSetHosts makes the next setHosts that arrives wait d (outside
// the server's lock) before its write is applied, as a slow API would;
// queued delays are used one call each, in order.
func (s *Server) DelayNextSetHosts(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays = append(s.delays, d)
}

// SetDamage replaces Options.Damage (nil: no damage).
func (s *Server) SetDamage(fn func(domain string, hosts []Host) []Host) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Damage = fn
}

// setHostsDelay takes the delay of the setHosts call now arriving.
func (s *Server) setHostsDelay() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.delays) > 0 {
		d := s.delays[0]
		s.delays = s.delays[1:]
		return d
	}
	return s.opts.SetHostsDelay
}

// SetClock replaces the throttle's clock (for fake-clock tests).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// OnCall sets a hook run after each successfully handled command and
// before its answer is sent, outside the server's lock: tests use it to act
// as a concurrent writer on another machine (e.g. clobber the zone right
// after a client's setHosts).
func (s *Server) OnCall(hook func(command string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = hook
}

func resolveCommand(c string) string {
	l := strings.ToLower(c)
	if v, ok := canonical[l]; ok {
		return v
	}
	for k, v := range canonical {
		if strings.HasSuffix(k, "."+l) && (l != "getlist" || v == GetList) {
			return v
		}
	}
	return c
}

// sortedZones lists owned zones for getList.
func (s *Server) sortedZones() []string {
	var names []string
	for n, z := range s.zones {
		if !z.shared && !z.otherAccount {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func atoiDefault(s string, d int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return d
	}
	return n
}
