package propagation

import (
	"crypto/x509"
	"encoding/base64"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
)

// fakeClock advances only when something waits on it: After(d) moves Now
// forward by d and fires at once, so a test runs a two-minute check in
// microseconds and can read back every pause.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *fakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// answerFunc answers the nth (1-based) query a test server received.
type answerFunc func(q *dns.Msg, n int) *dns.Msg

// server counts what one loopback DNS or DoH server received.
type server struct {
	mu      sync.Mutex
	n       int
	answer  answerFunc
	noRD    int         // queries without RD
	queried []time.Time // clock time of each query, when clock is set
	clock   *fakeClock
}

func (s *server) handle(q *dns.Msg) *dns.Msg {
	s.mu.Lock()
	s.n++
	n := s.n
	if !q.RecursionDesired {
		s.noRD++
	}
	if s.clock != nil {
		s.queried = append(s.queried, s.clock.Now())
	}
	s.mu.Unlock()
	return s.answer(q, n)
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// startPlain serves f over UDP and TCP on one 127.0.0.1 port and returns a
// resolver for it.
func startPlain(t *testing.T, f answerFunc) (resolver.Resolver, *server) {
	t.Helper()
	s := &server{answer: f}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) { _ = w.WriteMsg(s.handle(q)) })
	var pc net.PacketConn
	var l net.Listener
	for range 20 {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		pc = nil
	}
	if pc == nil {
		t.Fatal("no free UDP+TCP port on 127.0.0.1")
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	r, err := resolver.New("udp://"+pc.LocalAddr().String(), resolver.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r, s
}

// startDoH serves f over RFC 8484 POST/GET with httptest's TLS server. A
// nil f gives a server whose handler is raw (see startHTTP).
func startDoH(t *testing.T, f answerFunc, timeout time.Duration) (resolver.Resolver, *server) {
	t.Helper()
	s := &server{answer: f}
	r := startHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var wire []byte
		var err error
		if req.Method == http.MethodGet {
			wire, err = base64.RawURLEncoding.DecodeString(req.URL.Query().Get("dns"))
		} else {
			wire, err = io.ReadAll(req.Body)
		}
		q := new(dns.Msg)
		if err == nil {
			err = q.Unpack(wire)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, err := s.handle(q).Pack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/dns-message")
		_, _ = w.Write(out)
	}), timeout)
	return r, s
}

// startHTTP starts an HTTPS server on 127.0.0.1 and returns a DoH resolver
// that trusts it, with the given per-request timeout.
func startHTTP(t *testing.T, h http.Handler, timeout time.Duration) resolver.Resolver {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	r, err := resolver.New(srv.URL+"/dns-query", resolver.Options{RootCAs: pool, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// txt answers q with the given TXT values, one RR each.
func txt(q *dns.Msg, values ...string) *dns.Msg {
	r := new(dns.Msg)
	r.SetReply(q)
	r.RecursionAvailable = true
	for _, v := range values {
		r.Answer = append(r.Answer, &dns.TXT{
			Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 30},
			Txt: []string{v},
		})
	}
	return r
}

// negative answers q with rcode (NXDOMAIN, or NOERROR for NODATA) and an
// SOA for example. in the authority section with the given TTL and MINIMUM.
func negative(q *dns.Msg, rcode int, ttl, minimum uint32) *dns.Msg {
	r := new(dns.Msg)
	r.SetRcode(q, rcode)
	r.RecursionAvailable = true
	r.Ns = []dns.RR{&dns.SOA{
		Hdr: dns.RR_Header{Name: "example.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:  "ns.example.", Mbox: "hostmaster.example.", Serial: 1, Refresh: 7200, Retry: 900, Expire: 1209600,
		Minttl: minimum,
	}}
	return r
}

// appearsAfter answers NXDOMAIN (SOA MINIMUM 60) for the first `misses`
// queries, then the values.
func appearsAfter(misses int, values ...string) answerFunc {
	return func(q *dns.Msg, n int) *dns.Msg {
		if n <= misses {
			return negative(q, dns.RcodeNameError, 300, 60)
		}
		return txt(q, values...)
	}
}

// events collects Observer lines safely.
type events struct {
	mu    sync.Mutex
	lines []string
}

func (e *events) obs() Observer {
	return func(s string) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.lines = append(e.lines, s)
	}
}

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.lines...)
}
