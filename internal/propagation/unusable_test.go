package propagation

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/testworld"
)

// hostile is one endpoint a locked-down network makes unusable, and what
// the check must say about it.
type hostile struct {
	name string
	// start returns a resolver for the endpoint, with a short per-request
	// timeout where the endpoint never answers.
	start func(t *testing.T, w *testworld.World) resolver.Resolver
	// reason and fix must both appear in the drop line and in the error
	// when it is the only endpoint.
	reason, fix string
	// tries is how many exchanges drop it: DefaultMaxFailures for a
	// verdict, DefaultMaxUnreachable for an unreachable path.
	tries int
}

func worldEndpoint(kind testworld.DoHKind) func(*testing.T, *testworld.World) resolver.Resolver {
	return func(t *testing.T, w *testworld.World) resolver.Resolver {
		u, err := w.AddDoHEndpoint(kind)
		if err != nil {
			t.Fatal(err)
		}
		return worldDoH(t, w, u)[0]
	}
}

var hostiles = []hostile{
	{name: "DoH endpoint resets connections", start: worldEndpoint(testworld.DoHReset),
		reason: "reset", fix: "use a --resolver that is reachable", tries: DefaultMaxUnreachable},
	{name: "DoH endpoint refuses connections", start: worldEndpoint(testworld.DoHConnRefused),
		reason: "connection refused", fix: "use a --resolver that is reachable", tries: DefaultMaxUnreachable},
	{name: "DoH endpoint accepts but never answers", start: worldEndpoint(testworld.DoHHang),
		reason: "timeout after 300ms", fix: "traffic dropped?", tries: DefaultMaxUnreachable},
	{name: "DoH endpoint answers REFUSED", start: worldEndpoint(testworld.DoHRefused),
		reason: "answers REFUSED", fix: "use a --resolver that answers", tries: DefaultMaxFailures},
	{name: "plain resolver answers REFUSED", start: func(t *testing.T, _ *testworld.World) resolver.Resolver {
		r, _ := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg { return new(dns.Msg).SetRcode(q, dns.RcodeRefused) })
		return r
	}, reason: "answers REFUSED", fix: "use a --resolver that answers", tries: DefaultMaxFailures},
	{name: "DoH endpoint behind a TLS-inspecting proxy", start: worldEndpoint(testworld.DoHUntrustedCert),
		reason: "certificate signed by unknown authority", fix: "--ca-cert FILE", tries: DefaultMaxFailures},
	{name: "DoH endpoint blocked by a filtering proxy", start: worldEndpoint(testworld.DoHForbidden),
		reason: "HTTP 403", fix: "this DoH host is blocked here", tries: DefaultMaxFailures},
}

// TestUnusableEndpointIsDroppedAndTheOthersCarryTheCheck: next to a
// working resolver that shows the record only on its fifth answer, each
// unusable endpoint is dropped after its bounded number of tries, the log
// says once why and what fixes it, and the check succeeds through the
// working one under the default quorum (cases PR08, PR09).
func TestUnusableEndpointIsDroppedAndTheOthersCarryTheCheck(t *testing.T) {
	w := testworld.Start(t)
	for _, h := range hostiles {
		t.Run(h.name, func(t *testing.T) {
			bad := h.start(t, w)
			good, _ := startDoH(t, appearsAfter(4, "v"), time.Second)
			clock := newFakeClock()
			var ev events
			p := &Poll{Resolvers: []resolver.Resolver{bad, good}, Clock: clock, Timeout: 10 * time.Minute}
			if err := p.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, clock.Now(), ev.obs()); err != nil {
				t.Fatalf("Wait: %v\n%s", err, strings.Join(ev.all(), "\n"))
			}
			lines := ev.all()
			drop := label(bad) + ": dropped: "
			if n := contains(lines, drop); n != 1 {
				t.Fatalf("drop of %s reported %d times, want once:\n%s", label(bad), n, strings.Join(lines, "\n"))
			}
			for _, l := range lines {
				if strings.Contains(l, drop) && (!strings.Contains(l, h.reason) || !strings.Contains(l, h.fix)) {
					t.Errorf("drop line %q lacks reason %q or fix %q", l, h.reason, h.fix)
				}
			}
			if contains(lines, "visible at 1 of 2 resolvers") != 1 || contains(lines, "; dropped "+label(bad)) != 1 {
				t.Errorf("success line does not name the resolver it rests on and the dropped one:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

// TestEveryEndpointUnusableEndsWithTheFix: when the only endpoint is
// unusable the check ends after the bounded tries with the reason and the
// fix, well within a minute: the pauses on the test clock plus the tries
// at the default per-request timeout (cases PR08, PR09).
func TestEveryEndpointUnusableEndsWithTheFix(t *testing.T) {
	w := testworld.Start(t)
	for _, h := range hostiles {
		t.Run(h.name, func(t *testing.T) {
			clock := newFakeClock()
			start := clock.Now()
			p := &Poll{Resolvers: []resolver.Resolver{h.start(t, w)}, Clock: clock, Timeout: 10 * time.Minute}
			err := p.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, clock.Now(), nil)
			var nv *NotVisibleError
			if !errors.As(err, &nv) || !strings.HasPrefix(nv.Reason, "no resolver can be used") {
				t.Fatalf("error %v, want no resolver can be used", err)
			}
			for _, want := range []string{h.reason, h.fix} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if !strings.Contains(err.Error(), "times in a row") {
				t.Errorf("error %q does not say how often it failed", err)
			}
			worst := clock.Now().Sub(start) + time.Duration(h.tries)*resolver.DefaultTimeout
			if worst >= time.Minute {
				t.Errorf("with default request timeouts the check would take %s, want under a minute", worst)
			}
		})
	}
}

// TestMajorityQuorum: by default a majority of the endpoints that answer
// must see the records. An endpoint that answers but keeps a negative
// answer counts against it, so one of two is not enough; two of three is.
func TestMajorityQuorum(t *testing.T) {
	seeing := func(t *testing.T) resolver.Resolver {
		r, _ := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg { return txt(q, "v") })
		return r
	}
	stale := func(t *testing.T) resolver.Resolver {
		r, _ := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg { return negative(q, dns.RcodeNameError, 30, 30) })
		return r
	}
	for _, tc := range []struct {
		name string
		rs   func(t *testing.T) []resolver.Resolver
		ok   bool
	}{
		{"one of two sees it", func(t *testing.T) []resolver.Resolver { return []resolver.Resolver{seeing(t), stale(t)} }, false},
		{"two of three see it", func(t *testing.T) []resolver.Resolver { return []resolver.Resolver{seeing(t), stale(t), seeing(t)} }, true},
		{"one of one sees it", func(t *testing.T) []resolver.Resolver { return []resolver.Resolver{seeing(t)} }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			p := &Poll{Resolvers: tc.rs(t), Clock: clock, Timeout: time.Minute}
			err := p.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, clock.Now(), nil)
			if (err == nil) != tc.ok {
				t.Fatalf("error %v, want success %v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "timed out") {
				t.Errorf("error %v, want a timeout listing the stale resolver", err)
			}
		})
	}
}

// silentUDP is a UDP port that reads and never answers: port 53 dropped.
func silentUDP(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
	return port
}

// TestAuthoritativePort53Dropped: the zone's name servers are found over
// DoH, but port 53 to them is dropped. The check ends after the bounded
// tries, within a minute at the default request timeout, naming the fix;
// with a fallback configured it hands over and succeeds (case PR01).
func TestAuthoritativePort53Dropped(t *testing.T) {
	w := testworld.Start(t)
	const fqdn = "_acme-challenge.d.example.com."
	if err := w.DNS.Set(fqdn, dns.TypeTXT, 60, "v"); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	start := clock.Now()
	a := &AuthoritativeCheck{Resolvers: worldDoH(t, w), Port: silentUDP(t), Timeout: 10 * time.Minute, Clock: clock,
		Options: resolver.Options{Timeout: 100 * time.Millisecond}}
	var ev events
	err := a.Wait(context.Background(), []Record{{FQDN: fqdn, Value: "v"}}, clock.Now(), ev.obs())
	if err == nil || !strings.Contains(err.Error(), Port53Fix) || !strings.Contains(err.Error(), "timeout after 100ms") {
		t.Fatalf("error %v, want the timeout and %q", err, Port53Fix)
	}
	if worst := clock.Now().Sub(start) + DefaultMaxUnreachable*resolver.DefaultTimeout; worst >= time.Minute {
		t.Errorf("with default request timeouts the check would take %s, want under a minute", worst)
	}
	if contains(ev.all(), "dropped: ") != 1 {
		t.Errorf("the dropped server is not reported once: %q", ev.all())
	}

	f := Fallback{Strategies: []Strategy{a, FixedDelay{Delay: time.Minute, Clock: clock}}}
	ev = events{}
	if err := f.Wait(context.Background(), []Record{{FQDN: fqdn, Value: "v"}}, clock.Now(), ev.obs()); err != nil {
		t.Fatalf("fallback: %v", err)
	}
	if contains(ev.all(), "falling back to wait") != 1 {
		t.Errorf("hand-over not reported: %q", ev.all())
	}
}
