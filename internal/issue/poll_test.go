package issue

import (
	"context"
	"testing"
	"time"

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
// order's Retry-After is waited for (test clock).
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
}
