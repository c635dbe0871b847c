package issue

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/testworld"
)

func TestBackoffDoublesToCapAndRetryAfterBoundsIt(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		first time.Duration
		max   time.Duration
		capAt time.Time
		want  []time.Duration
	}{
		{"doubles up to the cap", 5 * time.Millisecond, 40 * time.Millisecond, time.Time{},
			[]time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond}},
		{"a Retry-After sooner than the next delay shortens it", time.Second, 4 * time.Second, now.Add(1500 * time.Millisecond),
			[]time.Duration{time.Second, 1500 * time.Millisecond, 1500 * time.Millisecond}},
		{"a Retry-After later than the next delay does not lengthen it", 5 * time.Millisecond, time.Second, now.Add(3 * time.Second),
			[]time.Duration{5 * time.Millisecond, 10 * time.Millisecond}},
		{"a Retry-After in the past means now", 5 * time.Millisecond, time.Second, now.Add(-time.Second),
			[]time.Duration{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackoff(tt.first, tt.max)
			for i, want := range tt.want {
				if got := b.delay(tt.capAt, now); got != want {
					t.Errorf("delay %d = %v, want %v", i, got, want)
				}
			}
		})
	}
}

// With Pebble's default Retry-After (3 s on a processing authorization, 5 s
// on a processing order) the first authorization poll still comes 5 ms after
// the challenge answer, no poll waits longer than the CA asked, and the
// order's Retry-After is waited for, once, and said in the log (test
// clock).
func TestPollingWaitsOnlyWhereTheCAAsks(t *testing.T) {
	w := testworld.Start(t, testworld.Options{RetryAfterAuthz: 3 * time.Second, RetryAfterOrder: 5 * time.Second})
	clock := newTestClock()
	f := newFixture(t, w, withClock(clock), func(_ *fixture, c *Config) { c.PollInterval = 0 })
	if _, err := f.obtain(t, context.Background(), "polite.example.com"); err != nil {
		t.Fatal(err)
	}
	clock.mu.Lock()
	slept := append([]time.Duration(nil), clock.slept...)
	clock.mu.Unlock()
	if len(slept) == 0 || slept[0] != firstPoll {
		t.Fatalf("sleeps %v: the first poll should follow the challenge answer after %v", slept, firstPoll)
	}
	// Pebble sends Retry-After as seconds or as an HTTP-date; the date is
	// read against the test clock, which lags the real one by the world's
	// start-up, so allow a second.
	long := 0
	for _, d := range slept {
		if d > 6*time.Second {
			t.Errorf("waited %v, longer than any Retry-After", d)
		}
		if d >= 3*time.Second {
			long++
		}
	}
	if long != 1 {
		t.Errorf("sleeps %v: want exactly one long wait, the order's Retry-After", slept)
	}
	said := 0
	for _, l := range f.log {
		if strings.Contains(l, "as the CA asks (Retry-After)") {
			said++
		}
	}
	if said != 1 {
		t.Errorf("the log states %d waits asked by the CA, want 1:\n%s", said, strings.Join(f.log, "\n"))
	}
}

// deleteSignal closes deleted at its first DeleteRecords call.
type deleteSignal struct {
	*testworld.Provider
	once    sync.Once
	deleted chan struct{}
}

func (p *deleteSignal) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	p.once.Do(func() { close(p.deleted) })
	return p.Provider.DeleteRecords(ctx, zone, recs)
}

// While the CA keeps the order processing (Pebble's 5 s Retry-After), the
// challenge records, whose authorizations are all valid, are already being
// removed: the provider's calls cost no time after the download. The wait
// for the order's Retry-After (test clock) looks for the first delete; it
// waits in real time only when the delete does not come.
func TestRecordsRemovedWhileTheOrderIsProcessing(t *testing.T) {
	w := testworld.Start(t, testworld.Options{RetryAfterOrder: 5 * time.Second})
	p := &deleteSignal{Provider: w.Provider(), deleted: make(chan struct{})}
	clock := newTestClock()
	var during atomic.Bool
	clock.onSleep = func(time.Time) {
		clock.mu.Lock()
		d := clock.slept[len(clock.slept)-1]
		clock.mu.Unlock()
		if d < 3*time.Second {
			return
		}
		select {
		case <-p.deleted:
			during.Store(true)
		case <-time.After(10 * time.Second):
		}
	}
	f := newFixture(t, w, withClock(clock), withProvider(p), func(_ *fixture, c *Config) { c.PollInterval = 0 })
	if _, err := f.obtain(t, context.Background(), "overlap.example.com", "*.overlap.example.com"); err != nil {
		t.Fatal(err)
	}
	if len(clock.sleeps(3*time.Second)) == 0 {
		t.Fatalf("sleeps %v: the CA sent no order Retry-After to wait for", clock.slept)
	}
	if !during.Load() {
		t.Errorf("the records were not removed while the order was processing")
	}
	if rrs, _ := w.DNS.Records("example.com."); strings.Contains(fmt.Sprint(rrs), "_acme-challenge.overlap") {
		t.Errorf("challenge records left behind after Obtain: %v", rrs)
	}
}

// A CA that answers the challenge POST with the challenge valid and the
// finalize with the order valid (step-ca validates and signs within the
// request) gets no authorization poll, no order poll and no wait: the
// status in a response is as good as a poll's, and the Retry-After the CA
// would send on a processing authorization or order never comes into play.
func TestFinalStatusInTheAnswerNeedsNoPoll(t *testing.T) {
	w := testworld.Start(t, testworld.Options{Synchronous: true, RetryAfterAuthz: 3 * time.Second, RetryAfterOrder: 5 * time.Second})
	clock := newTestClock()
	f := newFixture(t, w, withClock(clock))
	w.CA.ResetRequests()
	res, err := f.obtain(t, context.Background(), "sync.example.com", "*.sync.example.com", "www.sync.example.com")
	if err != nil {
		t.Fatalf("Obtain: %v\nlog:\n%s", err, strings.Join(f.log, "\n"))
	}
	if n := res.Stats.Authorizations; n != 3 {
		t.Fatalf("%d authorizations, want 3", n)
	}
	if got := w.CA.Requests(testworld.PathAuthz); got != 3 {
		t.Errorf("%d authorization requests, want 3 (one fetch each, no poll)", got)
	}
	if got := w.CA.Requests(testworld.PathOrder); got != 0 {
		t.Errorf("%d order requests after the new order, want 0 (finalize answered valid)", got)
	}
	clock.mu.Lock()
	defer clock.mu.Unlock()
	if len(clock.slept) != 0 {
		t.Errorf("slept %v, want no wait at all", clock.slept)
	}
}
