package propagation

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
)

const chal = "_acme-challenge.a.example."

func contains(lines []string, sub string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

// TestPoll_RecordAppearsAfterPolls: the record shows up on the third query;
// the check polls with backoff 1s, 2s and returns, over plain DNS and DoH.
func TestPoll_RecordAppearsAfterPolls(t *testing.T) {
	for _, transport := range []string{"resolver", "doh"} {
		t.Run(transport, func(t *testing.T) {
			var r resolver.Resolver
			var s *server
			if transport == "doh" {
				r, s = startDoH(t, appearsAfter(2, "v1"), 2*time.Second)
			} else {
				r, s = startPlain(t, appearsAfter(2, "v1"))
			}
			clock := newFakeClock()
			st, err := ByName(transport, Config{Resolvers: []resolver.Resolver{r}, Clock: clock, Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			var ev events
			if err := st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v1"}}, clock.Now(), ev.obs()); err != nil {
				t.Fatal(err)
			}
			if got := s.count(); got != 3 {
				t.Errorf("%d queries, want 3", got)
			}
			if got, want := clock.sleeps(), []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(got, want) {
				t.Errorf("pauses %v, want %v", got, want)
			}
			if s.noRD != 0 {
				t.Errorf("%d queries without RD (PR06)", s.noRD)
			}
			lines := ev.all()
			if contains(lines, "NXDOMAIN for "+chal) != 1 {
				t.Errorf("want the NXDOMAIN reported once (same state twice stays quiet), got %q", lines)
			}
			if contains(lines, "visible at 1 of 1 resolvers") != 1 {
				t.Errorf("no success line in %q", lines)
			}
		})
	}
}

// TestCase_PR10: no query before Wait, none before written, and the
// negative-cache time reported comes from the SOA in the authority
// section: min(SOA TTL, SOA MINIMUM), naming which one.
func TestCase_PR10(t *testing.T) {
	for _, tc := range []struct {
		name         string
		rcode        int
		ttl, minimum uint32
		want         string
	}{
		{"nxdomain minimum", dns.RcodeNameError, 3600, 180, "NXDOMAIN for " + chal + " (negative answer may stay cached up to 3m0s, from SOA MINIMUM)"},
		{"nxdomain counted-down ttl", dns.RcodeNameError, 55, 3600, "NXDOMAIN for " + chal + " (negative answer may stay cached up to 55s, from SOA TTL)"},
		{"nodata", dns.RcodeSuccess, 300, 60, "NODATA for " + chal + " (negative answer may stay cached up to 1m0s, from SOA MINIMUM)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			r, s := startDoH(t, func(q *dns.Msg, n int) *dns.Msg {
				if n == 1 {
					return negative(q, tc.rcode, tc.ttl, tc.minimum)
				}
				return txt(q, "v")
			}, 2*time.Second)
			s.clock = clock
			st, err := ByName("doh", Config{Resolvers: []resolver.Resolver{r}, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			if s.count() != 0 {
				t.Fatal("a query was sent before Wait")
			}
			// The write is recorded 5s ahead of the clock: no query may
			// precede it.
			written := clock.Now().Add(5 * time.Second)
			var ev events
			if err := st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, written, ev.obs()); err != nil {
				t.Fatal(err)
			}
			for _, at := range s.queried {
				if at.Before(written) {
					t.Errorf("query at %v, before the write at %v", at, written)
				}
			}
			if lines := ev.all(); contains(lines, tc.want) != 1 {
				t.Errorf("want %q once in %q", tc.want, lines)
			}
		})
	}
}

// TestCase_PR08: a filtering proxy answers 403 for one of three DoH
// endpoints. With quorum 2 the check drops it (reported once, with the
// reason and the fix) and succeeds through the others; with quorum 3 it
// fails at once saying why instead of looping until the timeout.
func TestCase_PR08(t *testing.T) {
	forbidden := startHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "blocked", http.StatusForbidden)
	}), time.Second)
	good1, _ := startDoH(t, appearsAfter(3, "v"), time.Second)
	good2, _ := startDoH(t, appearsAfter(3, "v"), time.Second)
	rs := []resolver.Resolver{forbidden, good1, good2}

	clock := newFakeClock()
	var ev events
	st, err := ByName("doh", Config{Resolvers: rs, Quorum: 2, Clock: clock, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, clock.Now(), ev.obs()); err != nil {
		t.Fatal(err)
	}
	lines := ev.all()
	if n := contains(lines, "dropped: HTTP 403 Forbidden (a filtering proxy?), 2 times in a row: this DoH host is blocked here"); n != 1 {
		t.Errorf("drop reported %d times, want once: %q", n, lines)
	}
	if contains(lines, "visible at 2 of 3 resolvers") != 1 {
		t.Errorf("no 2-of-3 success line in %q", lines)
	}

	clock = newFakeClock()
	st, err = ByName("doh", Config{Resolvers: rs, Quorum: 3, Clock: clock, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, clock.Now(), nil)
	if err == nil || !strings.Contains(err.Error(), "quorum cannot be met") || !strings.Contains(err.Error(), "HTTP 403 Forbidden") {
		t.Fatalf("error %v, want quorum failure naming the 403", err)
	}
	if clock.Now().Sub(newFakeClock().Now()) >= time.Minute {
		t.Errorf("waited until the timeout instead of failing once the quorum was lost")
	}
}

// TestCase_PR09: one DoH endpoint hangs. The per-request timeout bounds
// it and the check does not wait for it once two others agree.
func TestCase_PR09(t *testing.T) {
	release := make(chan struct{})
	hanging := startHTTP(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), 300*time.Millisecond)
	t.Cleanup(func() { close(release) })
	good1, _ := startDoH(t, appearsAfter(1, "v"), time.Second)
	good2, _ := startDoH(t, appearsAfter(1, "v"), time.Second)

	clock := newFakeClock()
	var ev events
	st, err := ByName("doh", Config{Resolvers: []resolver.Resolver{hanging, good1, good2}, Quorum: 2, Clock: clock, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, clock.Now(), ev.obs()); err != nil {
		t.Fatal(err)
	}
	// Round one waits for the hanging endpoint's 300ms timeout (the others
	// said NXDOMAIN); round two ends as soon as the two agree.
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("check took %v of real time", elapsed)
	}
	if lines := ev.all(); contains(lines, "timeout after 300ms; retrying") != 1 {
		t.Errorf("hanging endpoint's timeout not reported once: %q", lines)
	}
}

// TestPoll_TimeoutSaysWhatEachResolverSaw: on timeout the error lists, per
// resolver and name, the last answer.
func TestPoll_TimeoutSaysWhatEachResolverSaw(t *testing.T) {
	nx, _ := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg { return negative(q, dns.RcodeNameError, 3600, 3600) })
	partial, _ := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg { return txt(q, "abc") })
	failing, _ := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg {
		r := new(dns.Msg)
		return r.SetRcode(q, dns.RcodeServerFailure)
	})
	clock := newFakeClock()
	st, err := ByName("resolver", Config{Resolvers: []resolver.Resolver{nx, partial, failing}, Clock: clock, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Wait(t.Context(), []Record{{FQDN: chal, Value: "abc"}, {FQDN: chal, Value: "xyz"}}, clock.Now(), nil)
	var nv *NotVisibleError
	if !errors.As(err, &nv) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want *NotVisibleError wrapping DeadlineExceeded", err)
	}
	for _, want := range []string{
		"propagation resolver: timed out after 2m0s: ",
		nx.String() + ": " + chal + " NXDOMAIN (cached up to ",
		partial.String() + ": " + chal + ` TXT "abc" missing "xyz"`,
		failing.String() + ": " + chal + " SERVFAIL",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
	if sum := clock.Now().Sub(newFakeClock().Now()); sum != 2*time.Minute {
		t.Errorf("clock advanced %v, want exactly the 2m timeout", sum)
	}
}

// TestPoll_FailFast: a negative answer cached for an hour with two minutes
// left ends the check after the first poll, saying so.
func TestPoll_FailFast(t *testing.T) {
	nx, s := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg { return negative(q, dns.RcodeNameError, 3600, 3600) })
	clock := newFakeClock()
	var ev events
	st, err := ByName("resolver", Config{Resolvers: []resolver.Resolver{nx}, Clock: clock, Timeout: 2 * time.Minute, FailFast: true})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, clock.Now(), ev.obs())
	if err == nil || !strings.Contains(err.Error(), "giving up with 2m0s left: negative answers stay cached longer") ||
		!strings.Contains(err.Error(), "NXDOMAIN (cached up to 1h0m0s more)") {
		t.Fatalf("error %v, want a fail-fast explanation", err)
	}
	if s.count() != 1 {
		t.Errorf("%d queries, want 1", s.count())
	}
	if lines := ev.all(); contains(lines, "longer than the 2m0s left") != 1 {
		t.Errorf("observer did not warn about the cache outliving the deadline: %q", lines)
	}
}

// TestPoll_SeveralNamesAndValues: apex and wildcard values at one name plus
// a second name, behind a CNAME, all must be seen.
func TestPoll_SeveralNamesAndValues(t *testing.T) {
	const other = "_acme-challenge.b.example."
	r, _ := startPlain(t, func(q *dns.Msg, n int) *dns.Msg {
		name := q.Question[0].Name
		if name == other {
			m := txt(q)
			m.Answer = append(m.Answer,
				&dns.CNAME{Hdr: dns.RR_Header{Name: other, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 30}, Target: "x.auth.example."},
				&dns.TXT{Hdr: dns.RR_Header{Name: "x.auth.example.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 30}, Txt: []string{"b"}})
			return m
		}
		if n < 3 {
			return txt(q, "apex")
		}
		return txt(q, "apex", "wild")
	})
	clock := newFakeClock()
	st, err := ByName("resolver", Config{Resolvers: []resolver.Resolver{r}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var ev events
	recs := []Record{{FQDN: "_ACME-challenge.a.example", Value: "apex"}, {FQDN: chal, Value: "wild"}, {FQDN: other, Value: "b"}}
	if err := st.Wait(t.Context(), recs, clock.Now(), ev.obs()); err != nil {
		t.Fatal(err)
	}
	if lines := ev.all(); contains(lines, `missing "wild"`) != 1 {
		t.Errorf("partial answer not reported: %q", lines)
	}
}

// TestPoll_ContextCanceled: the caller's context ends the check with what
// was seen so far.
func TestPoll_ContextCanceled(t *testing.T) {
	nx, _ := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg { return negative(q, dns.RcodeNameError, 60, 60) })
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	clock := newFakeClock()
	st := &Poll{Resolvers: []resolver.Resolver{nx}, Clock: clock}
	err := st.Wait(ctx, []Record{{FQDN: chal, Value: "v"}}, clock.Now(), func(string) {
		calls++
		if calls == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "NXDOMAIN") {
		t.Fatalf("error %v, want canceled with the NXDOMAIN seen", err)
	}
}

// TestPoll_ContextDeadline: with the real clock and only a context
// deadline, the error still lists what each resolver saw.
func TestPoll_ContextDeadline(t *testing.T) {
	nx, _ := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg { return negative(q, dns.RcodeNameError, 55, 3600) })
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	st := &Poll{StrategyName: "resolver", Resolvers: []resolver.Resolver{nx}, PollInitial: 20 * time.Millisecond, PollMax: 40 * time.Millisecond}
	err := st.Wait(ctx, []Record{{FQDN: chal, Value: "v"}}, time.Now(), nil)
	if !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "propagation resolver: timed out after ") ||
		!strings.Contains(err.Error(), nx.String()+": "+chal+" NXDOMAIN (cached up to 55s more)") {
		t.Fatalf("error %v", err)
	}
}

// TestPoll_FailFastQuorum: one resolver already sees the record, two hold
// NXDOMAIN for an hour: with quorum 2 and 2m left the check cannot succeed.
// When one of the two only caches it for 30s, it goes on.
func TestPoll_FailFastQuorum(t *testing.T) {
	for _, tc := range []struct {
		name     string
		secondNX uint32
		wantErr  bool
	}{
		{"both cached past the deadline", 3600, true},
		{"one expires in time", 30, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			visible, _ := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg { return txt(q, "v") })
			long, _ := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg { return negative(q, dns.RcodeNameError, 3600, 3600) })
			second, _ := startPlain(t, func(q *dns.Msg, n int) *dns.Msg {
				if n == 1 {
					return negative(q, dns.RcodeNameError, tc.secondNX, tc.secondNX)
				}
				return txt(q, "v")
			})
			clock := newFakeClock()
			st := &Poll{Resolvers: []resolver.Resolver{visible, long, second}, Quorum: 2, Clock: clock, Timeout: 2 * time.Minute, FailFast: true}
			err := st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, clock.Now(), nil)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error: %v", err, tc.wantErr)
			}
			if tc.wantErr && !strings.Contains(err.Error(), "giving up with 2m0s left") {
				t.Fatalf("error %v", err)
			}
		})
	}
}
