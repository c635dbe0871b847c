package resolver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// world is one of each transport on loopback, all answering with f.
type world struct {
	pool          *Options
	udp, dot, doh string
	plainSeen     *seen
	dotSeen       *seen
	dohSeen       *seen
}

func newWorld(t *testing.T, f answerFunc) *world {
	t.Helper()
	cert, pool := testCert(t)
	w := &world{pool: &Options{RootCAs: pool, Timeout: 2 * time.Second}}
	w.udp, w.plainSeen = startPlain(t, f)
	w.dot, w.dotSeen = startDoT(t, cert, f)
	w.dohSeen = &seen{}
	w.doh = startDoH(t, cert, dohHandler(t, w.dohSeen, f))
	return w
}

// endpoints lists every transport as (spec, options) pairs.
func (w *world) endpoints() []struct {
	name, spec string
	opts       Options
} {
	get := *w.pool
	get.DoHMethod = http.MethodGet
	return []struct {
		name, spec string
		opts       Options
	}{
		{"udp", "udp://" + w.udp, *w.pool},
		{"bare", w.udp, *w.pool},
		{"tcp", "tcp://" + w.udp, *w.pool},
		{"dot", "tls://" + w.dot, *w.pool},
		{"doh-post", w.doh, *w.pool},
		{"doh-get", w.doh, get},
	}
}

// TestCase_PR06 pins that every query sets RD: the test resolver answers
// REFUSED to a query without RD, as some recursive resolvers answer
// NXDOMAIN/REFUSED from cache-only mode while the record is live.
func TestCase_PR06(t *testing.T) {
	rdOnly := func(q *dns.Msg, tr string) *dns.Msg {
		if !q.RecursionDesired {
			r := new(dns.Msg)
			r.SetRcode(q, dns.RcodeRefused)
			return r
		}
		return txtAnswer(q, tr)
	}
	w := newWorld(t, rdOnly)
	for _, ep := range w.endpoints() {
		t.Run(ep.name, func(t *testing.T) {
			r, err := New(ep.spec, ep.opts)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := Query(t.Context(), r, "_acme-challenge.a.example", dns.TypeTXT)
			if err != nil {
				t.Fatal(err)
			}
			if msg.Rcode != dns.RcodeSuccess {
				t.Fatalf("rcode %s, want NOERROR (RD not set?)", dns.RcodeToString[msg.Rcode])
			}
			if got := TXTValues(msg, "_acme-challenge.a.example."); len(got) != 1 || got[0] != "hello" {
				t.Fatalf("TXTValues = %q, want [hello]", got)
			}
		})
	}
	for _, s := range []*seen{w.plainSeen, w.dotSeen, w.dohSeen} {
		msgs, _ := s.all()
		for _, m := range msgs {
			if !m.RecursionDesired {
				t.Errorf("query without RD: %v", m.Question)
			}
			if o := m.IsEdns0(); o == nil || o.UDPSize() != EDNSBufSize {
				t.Errorf("query without EDNS0 bufsize %d: %v", EDNSBufSize, m.Question)
			}
		}
	}
}

// TestDoH_WireIDAndMethod checks RFC 8484 §4.1 (ID 0 on the wire), that the
// caller's ID comes back, and that GET and POST are both used as chosen.
func TestDoH_WireIDAndMethod(t *testing.T) {
	w := newWorld(t, txtAnswer)
	for _, tc := range []struct{ method, want string }{
		{"", "doh-post"}, {"post", "doh-post"}, {http.MethodGet, "doh-get"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			opts := *w.pool
			opts.DoHMethod = tc.method
			r, err := New(w.doh, opts)
			if err != nil {
				t.Fatal(err)
			}
			q := NewQuery("x.example.", dns.TypeTXT)
			q.Id = 4242
			resp, err := r.Exchange(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Id != 4242 {
				t.Errorf("response ID %d, want the caller's 4242", resp.Id)
			}
			if q.Id != 4242 {
				t.Errorf("Exchange modified the query ID to %d", q.Id)
			}
			msgs, trans := w.dohSeen.all()
			last := len(msgs) - 1
			if msgs[last].Id != 0 {
				t.Errorf("wire ID %d, want 0", msgs[last].Id)
			}
			if trans[last] != tc.want {
				t.Errorf("sent as %s, want %s", trans[last], tc.want)
			}
		})
	}
}

// TestTruncatedUDPFallsBackToTCP: a TC=1 UDP answer is retried over TCP.
func TestTruncatedUDPFallsBackToTCP(t *testing.T) {
	addr, s := startPlain(t, func(q *dns.Msg, tr string) *dns.Msg {
		if tr == "udp" {
			r := new(dns.Msg)
			r.SetReply(q)
			r.Truncated = true
			return r
		}
		return txtAnswer(q, tr)
	})
	r, err := New(addr, Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Query(t.Context(), r, "big.example.", dns.TypeTXT)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Truncated || len(TXTValues(msg, "big.example.")) != 1 {
		t.Fatalf("got truncated or empty answer: %v", msg)
	}
	if _, trans := s.all(); strings.Join(trans, ",") != "udp,tcp" {
		t.Fatalf("transports used %v, want udp then tcp", trans)
	}
}

// TestTransportErrors: each failure is an *Error that names the endpoint
// and gives the reason an operator can act on.
func TestTransportErrors(t *testing.T) {
	cert, pool := testCert(t)
	hang := make(chan struct{})

	forbidden := startDoH(t, cert, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "blocked by policy", http.StatusForbidden)
	}))
	htmlPage := startDoH(t, cert, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>login</html>"))
	}))
	hanging := startDoH(t, cert, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	trusted := startDoH(t, cert, dohHandler(t, &seen{}, txtAnswer))
	dot, _ := startDoT(t, cert, txtAnswer)
	// A UDP socket that reads and never answers: a dropped-packets path.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	t.Cleanup(func() { close(hang) }) // runs before the servers close
	refusing := closedPort(t)
	resetting := resetServer(t)

	// Short only where the timeout is the point: a TLS handshake that loads
	// the system roots can take longer than that on a busy machine.
	const timeout = 150 * time.Millisecond
	for _, tc := range []struct {
		name, spec string
		roots      bool
		kind       Kind
		reason     string
		permanent  bool
		// unreachable is Error.Unreachable; fix is part of Diagnose's fix.
		unreachable bool
		fix         string
	}{
		{"doh 403", forbidden, true, KindHTTPStatus, "HTTP 403 Forbidden (a filtering proxy?)", true, false, "DoH host is blocked here"},
		{"doh html page", htmlPage, true, KindProtocol, `Content-Type "text/html"`, false, true, "use a --resolver that is reachable"},
		{"doh untrusted cert", trusted, false, KindTLS, "TLS: certificate signed by unknown authority (TLS interception?", true, false, "--ca-cert FILE"},
		{"dot untrusted cert", "tls://" + dot, false, KindTLS, "TLS: certificate signed by unknown authority", true, false, "--ca-cert FILE"},
		{"doh hanging", hanging, true, KindTimeout, "timeout after 150ms", false, true, "traffic dropped?"},
		{"udp silent", "udp://" + silent.LocalAddr().String(), true, KindTimeout, "timeout after 150ms", false, true, "traffic dropped?"},
		{"doh connection refused", "https://" + refusing + "/dns-query", true, KindNetwork, "connection refused", false, true, "use a --resolver that is reachable"},
		{"doh connection reset", "https://" + resetting + "/dns-query", true, KindNetwork, "reset", false, true, "use a --resolver that is reachable"},
		{"tcp connection refused", "tcp://" + refusing, true, KindNetwork, "connection refused", false, true, "use a --resolver that is reachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Timeout: 5 * time.Second}
			if tc.kind == KindTimeout {
				opts.Timeout = timeout
			}
			if tc.roots {
				opts.RootCAs = pool
			}
			r, err := New(tc.spec, opts)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = Query(t.Context(), r, "x.example.", dns.TypeTXT)
			elapsed := time.Since(start)
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if re.Endpoint != tc.spec || !strings.HasPrefix(err.Error(), tc.spec+": ") {
				t.Errorf("error %q does not start with the endpoint %q", err, tc.spec)
			}
			if re.Kind != tc.kind || !strings.Contains(re.Reason, tc.reason) {
				t.Errorf("got kind %d reason %q, want kind %d containing %q", re.Kind, re.Reason, tc.kind, tc.reason)
			}
			if re.Permanent() != tc.permanent {
				t.Errorf("Permanent() = %v, want %v", re.Permanent(), tc.permanent)
			}
			if re.Unreachable() != tc.unreachable {
				t.Errorf("Unreachable() = %v, want %v", re.Unreachable(), tc.unreachable)
			}
			if _, fix := Diagnose(err); !strings.Contains(fix, tc.fix) {
				t.Errorf("Diagnose fix %q, want it to contain %q", fix, tc.fix)
			}
			if elapsed > opts.Timeout+time.Second {
				t.Errorf("took %v with a %v timeout", elapsed, timeout)
			}
			if tc.kind == KindTimeout && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("timeout error %v does not wrap context.DeadlineExceeded", err)
			}
		})
	}
}

// TestCallerCancel: the caller's context ending (canceled, or its own
// deadline shorter than Options.Timeout) is KindCanceled, not a verdict on
// the endpoint.
func TestCallerCancel(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	r, err := New(silent.LocalAddr().String(), Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(t.Context(), 50*time.Millisecond)
		}},
	} {
		ctx, cancel := tc.ctx()
		start := time.Now()
		_, err = Query(ctx, r, "x.example.", dns.TypeTXT)
		cancel()
		var re *Error
		if !errors.As(err, &re) || re.Kind != KindCanceled {
			t.Errorf("%s: error %v, want KindCanceled", tc.name, err)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("%s: took %v", tc.name, time.Since(start))
		}
	}
}

// TestIPv4Only: IPv6 literals are refused up front, and the transports
// dial IPv4 only (a server listening on ::1 only is not reached).
func TestIPv4Only(t *testing.T) {
	v4 := Options{IPv4Only: true}
	for _, spec := range []string{"[::1]:53", "::1", "udp://[::1]", "tcp://[::1]:5353", "tls://[::1]", "https://[::1]/dns-query"} {
		if _, err := New(spec, v4); err == nil || !strings.Contains(err.Error(), "IPv4-only") {
			t.Errorf("New(%q, IPv4Only) error %v, want an IPv4-only refusal", spec, err)
		}
	}

	pc, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	s := &seen{}
	serve(t, &dns.Server{PacketConn: pc, Handler: handler(s, "udp", txtAnswer)})
	addr := pc.LocalAddr().String()

	for _, ipv4 := range []bool{false, true} {
		opts := Options{Timeout: 300 * time.Millisecond, IPv4Only: ipv4}
		// Bypass New's literal check to see what the dialer does.
		r := newPlain(addr, addr, false, opts)
		_, err := Query(t.Context(), r, "x.example.", dns.TypeTXT)
		if ipv4 && err == nil {
			t.Errorf("IPv4Only reached an IPv6-only server")
		}
		if !ipv4 && err != nil {
			t.Errorf("dual-stack query to %s: %v", addr, err)
		}
	}

	// The DoH transport dials tcp4 as well.
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tr := newTransport(Options{Timeout: time.Second, IPv4Only: true})
	if c, err := tr.DialContext(t.Context(), "tcp", l.Addr().String()); err == nil {
		c.Close()
		t.Errorf("IPv4Only DoH transport dialed %s", l.Addr())
	}
}

func TestNewSpecs(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		opts    Options
		wantErr string // "" means valid
	}{
		{spec: "https://dns.quad9.net/dns-query"},
		{spec: "https://127.0.0.1:8443/dns-query"},
		{spec: "https://dns.google/resolve?ct=x"},
		{spec: "tls://dns.quad9.net"},
		{spec: "tls://9.9.9.9:853"},
		{spec: "udp://192.0.2.1"},
		{spec: "tcp://192.0.2.1:5353"},
		{spec: "192.0.2.1"},
		{spec: "192.0.2.1:53"},
		{spec: "[2001:db8::1]:53"},
		{spec: "2001:db8::1"},
		{spec: "ns.example:53"},
		{spec: "", wantErr: "empty spec"},
		{spec: "dns.google", wantErr: `a bare name needs a port (dns.google:53) or a scheme (https://dns.google/dns-query`},
		{spec: "https://dns.google", wantErr: "missing the DoH path; most servers use https://dns.google/dns-query"},
		{spec: "https:///dns-query", wantErr: "missing host"},
		{spec: "http://dns.google/dns-query", wantErr: "use https://dns.google/dns-query"},
		{spec: "quic://dns.adguard.com", wantErr: `unknown scheme "quic"; use https://, tls://, udp:// or tcp://`},
		{spec: "tls://", wantErr: "missing host"},
		{spec: "tls://dns.quad9.net/dns-query", wantErr: "only host[:port] may follow the scheme"},
		{spec: "udp://192.0.2.1:99999", wantErr: "not a number from 1 to 65535"},
		{spec: "192.0.2.1:dns", wantErr: "not a number from 1 to 65535"},
		{spec: "https://u:p@dns.example/dns-query", wantErr: "credentials in the URL"},
		{spec: "https://dns.google/dns-query", opts: Options{DoHMethod: "PUT"}, wantErr: `DoH method "PUT" not supported; use GET or POST`},
	} {
		r, err := New(tc.spec, tc.opts)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("New(%q): %v", tc.spec, err)
			} else if r.String() != tc.spec {
				t.Errorf("New(%q).String() = %q", tc.spec, r.String())
			}
			continue
		}
		if err == nil {
			t.Errorf("New(%q) succeeded, want error containing %q", tc.spec, tc.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantErr) || (tc.spec != "" && !strings.Contains(err.Error(), `"`+tc.spec+`"`)) {
			t.Errorf("New(%q) error %q, want it to name the spec and contain %q", tc.spec, err, tc.wantErr)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("New(%q) error is not one line: %q", tc.spec, err)
		}
	}
}

func TestDefaultsAreDoH(t *testing.T) {
	for _, spec := range Defaults {
		if _, err := New(spec, Options{}); err != nil || !strings.HasPrefix(spec, "https://") {
			t.Errorf("default %q: %v", spec, err)
		}
	}
}

// The defaults are reachable on a network whose system resolver does not
// answer: every one is an address, so no name has to be resolved first,
// and IPv4 so IPv4-only accepts them.
func TestDefaultsNeedNoDNS(t *testing.T) {
	for _, spec := range Defaults {
		u, err := url.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		if ip := net.ParseIP(u.Hostname()); ip == nil || ip.To4() == nil {
			t.Errorf("default %q: host %q is not an IPv4 address", spec, u.Hostname())
		}
		if _, err := New(spec, Options{IPv4Only: true}); err != nil {
			t.Errorf("default %q with IPv4-only: %v", spec, err)
		}
	}
}
