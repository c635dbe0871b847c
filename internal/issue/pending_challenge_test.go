package issue

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/testworld"
)

// A CA that keeps a failed challenge pending with an error (RFC 8555 §8.2,
// as step-ca does) and a wrong TXT value: the order fails after a bounded
// number of attempts with the CA's own error text and the CA exit code,
// having shown each error with the record the CA looked at, and waiting 1,
// 2, 4 and 8 s (test clock) between the posts.
func TestPendingChallengeWithWrongValueFailsWithCAError(t *testing.T) {
	w := testworld.Start(t, testworld.Options{ChallengeRetries: 100})
	clock := newTestClock()
	f := newFixture(t, w, withProvider(corruptingProvider{w.Provider()}), withClock(clock))
	w.CA.ResetRequests()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := clock.Now()
	_, err := f.obtain(t, ctx, "wrong.example.com")
	if err == nil {
		t.Fatal("Obtain succeeded with a wrong TXT value")
	}
	if code := exitcode.Of(err); code != exitcode.CA {
		t.Errorf("exit code = %d, want %d (CA); err = %v", code, exitcode.CA, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, `incorrect TXT record "wrong-`) || !strings.Contains(msg, "_acme-challenge.wrong.example.com") || strings.Contains(msg, "deadline") {
		t.Errorf("error should carry the CA's own problem, not a deadline: %q", msg)
	}
	if n := w.CA.Requests(testworld.PathChallenge); n != defaultAttempts {
		t.Errorf("challenge posted %d times, want %d", n, defaultAttempts)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	if got := clock.sleeps(time.Second); !equalDurations(got, want) {
		t.Errorf("waits between attempts = %v, want %v", got, want)
	}
	if el := clock.Now().Sub(start); el > 30*time.Second {
		t.Errorf("gave up after %v of test time, want within 30 s", el)
	}
	shown := 0
	for _, l := range f.log {
		if strings.Contains(l, "validation of TXT _acme-challenge.wrong.example.com.") && strings.Contains(l, "incorrect TXT record") {
			shown++
		}
	}
	if shown != defaultAttempts {
		t.Errorf("the CA's error was shown %d times, want once per attempt (%d); log:\n%s", shown, defaultAttempts, strings.Join(f.log, "\n"))
	}
	if n := challengeTXTs(t, w); n != 0 {
		t.Errorf("%d challenge records left", n)
	}
}

// lateProvider accepts a write but publishes the records only when told
// (publish), like a provider whose name servers lag behind its API.
type lateProvider struct {
	*testworld.Provider
	mu      sync.Mutex
	pending map[string][]libdns.Record
}

func (p *lateProvider) AppendRecords(_ context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending[zone] = append(p.pending[zone], recs...)
	return recs, nil
}

func (p *lateProvider) publish(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for zone, recs := range p.pending {
		if _, err := p.Provider.AppendRecords(ctx, zone, recs); err != nil {
			return err
		}
	}
	p.pending = map[string][]libdns.Record{}
	return nil
}

// A CA that keeps a failed challenge pending, and a record that becomes
// visible 3 s (test clock) after the first attempt: the challenge is posted
// again with backoff and the order succeeds.
func TestPendingChallengeRecordAppearsLateSucceeds(t *testing.T) {
	w := testworld.Start(t, testworld.Options{ChallengeRetries: 100})
	clock := newTestClock()
	late := &lateProvider{Provider: w.Provider(), pending: map[string][]libdns.Record{}}
	var first time.Time
	var published bool
	clock.onSleep = func(now time.Time) {
		if first.IsZero() && w.CA.Requests(testworld.PathChallenge) > 0 {
			first = now
		}
		if !published && !first.IsZero() && now.Sub(first) >= 3*time.Second {
			published = true
			if err := late.publish(context.Background()); err != nil {
				t.Error(err)
			}
		}
	}
	f := newFixture(t, w, withProvider(late), withClock(clock))
	w.CA.ResetRequests()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := f.obtain(t, ctx, "late.example.com")
	if err != nil {
		t.Fatalf("Obtain: %v\nlog:\n%s", err, strings.Join(f.log, "\n"))
	}
	if len(res.Certificate.Leaf.DNSNames) != 1 {
		t.Errorf("SANs = %v", res.Certificate.Leaf.DNSNames)
	}
	if n := w.CA.Requests(testworld.PathChallenge); n < 2 || n > 4 {
		t.Errorf("challenge posted %d times, want a few (the record appeared on the third)", n)
	}
	if !strings.Contains(strings.Join(f.log, "\n"), "no TXT record found at _acme-challenge.late.example.com") {
		t.Errorf("the CA's error was not shown; log:\n%s", strings.Join(f.log, "\n"))
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// When --timeout runs out while the CA still allows attempts, the error is
// the timeout exit code and still names the CA's last error.
func TestPendingChallengeTimeoutNamesCAError(t *testing.T) {
	w := testworld.Start(t, testworld.Options{ChallengeRetries: 1000})
	clock := newTestClock()
	f := newFixture(t, w, withProvider(corruptingProvider{w.Provider()}), withClock(clock),
		func(_ *fixture, c *Config) { c.ChallengeAttempts = 1000 })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := f.obtain(t, ctx, "slow.example.com")
	if code := exitcode.Of(err); code != exitcode.Timeout {
		t.Fatalf("exit code = %d, want %d (timeout); err = %v", code, exitcode.Timeout, err)
	}
	if !strings.Contains(err.Error(), "the CA's last error: unauthorized: incorrect TXT record") {
		t.Errorf("error should name the CA's last error: %q", err)
	}
	if n := challengeTXTs(t, w); n != 0 {
		t.Errorf("%d challenge records left", n)
	}
}
