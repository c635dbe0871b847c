package issue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/testworld"
)

// TestCase_AC01: a 429 on new-order with a far Retry-After, in both header
// forms, stops the order at once with "retry after T" and a CA exit code;
// nothing is retried in line.
func TestCase_AC01(t *testing.T) {
	for _, form := range []struct {
		name string
		date bool
	}{{"seconds", false}, {"HTTP-date", true}} {
		t.Run(form.name, func(t *testing.T) {
			w := testworld.Start(t)
			f := newFixture(t, w)
			w.CA.ResetRequests()
			w.CA.Inject(testworld.Fault{Kind: testworld.FaultRateLimited, Path: testworld.PathNewOrder, Count: 10, RetryAfter: 3 * time.Hour, RetryAfterDate: form.date})
			start := time.Now()
			_, err := f.obtain(t, context.Background(), "rl.example.com")
			var rl *RateLimitedError
			if !errors.As(err, &rl) {
				t.Fatalf("err = %v, want RateLimitedError", err)
			}
			if exitcode.Of(err) != exitcode.CA {
				t.Errorf("exit code %d, want CA", exitcode.Of(err))
			}
			if d := time.Until(rl.RetryAfter); d < 2*time.Hour || d > 4*time.Hour {
				t.Errorf("RetryAfter %v from now, want about 3h", d)
			}
			if !strings.Contains(err.Error(), "retry after 20") {
				t.Errorf("message lacks the retry time: %q", err)
			}
			if n := w.CA.Requests(testworld.PathNewOrder); n != 1 {
				t.Errorf("new-order requests = %d, want 1 (no busy retry)", n)
			}
			if time.Since(start) > 10*time.Second {
				t.Error("the order waited instead of stopping")
			}
		})
	}
}

// TestCase_AC02: a 429 with a short Retry-After on an authorization fetch is
// retried (bounded) and the order succeeds.
func TestCase_AC02(t *testing.T) {
	w := testworld.Start(t)
	clock := newTestClock()
	f := newFixture(t, w, withClock(clock))
	w.CA.Inject(testworld.Fault{Kind: testworld.FaultRateLimited, Path: testworld.PathAuthz, Count: 2, RetryAfter: 2 * time.Second})
	if _, err := f.obtain(t, context.Background(), "retry.example.com"); err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	slept := clock.sleeps(time.Second)
	if len(slept) != 2 {
		t.Fatalf("slept %v, want two waits honouring Retry-After", slept)
	}
	for _, d := range slept {
		if d < time.Second || d > 3*time.Second {
			t.Errorf("waited %v, want about 2s (Retry-After)", d)
		}
	}
}

// TestCase_AC03: a CA that rejects many nonces as badNonce: requests are
// retried with the nonce carried by the error response, bounded, and the
// order completes.
func TestCase_AC03(t *testing.T) {
	w := testworld.Start(t, testworld.Options{BadNonceRate: 30})
	f := newFixture(t, w)
	if _, err := f.obtain(t, context.Background(), "nonce.example.com", "*.nonce.example.com"); err != nil {
		t.Fatalf("Obtain with 30%% badNonce: %v", err)
	}
	// And an injected burst on finalize.
	w.CA.Inject(testworld.Fault{Kind: testworld.FaultBadNonce, Path: testworld.PathFinalize, Count: 3})
	if _, err := f.obtain(t, context.Background(), "nonce2.example.com"); err != nil {
		t.Fatalf("Obtain with badNonce on finalize: %v", err)
	}
}

// A CA that rejects half of the nonces while requests run concurrently (a
// 20-name order: authorizations fetched, challenges posted and polled side by
// side) still issues: every badNonce is retried with the nonce of its error
// response (case AC03 under concurrency).
func TestConcurrentOrderWithHalfTheNoncesRejected(t *testing.T) {
	w := testworld.Start(t, testworld.Options{BadNonceRate: 50})
	f := newFixture(t, w)
	var in []string
	for i := 0; i < 20; i++ {
		in = append(in, fmt.Sprintf("n%02d.example.com", i))
	}
	if _, err := f.obtain(t, context.Background(), in...); err != nil {
		t.Fatalf("Obtain with 50%% badNonce: %v", err)
	}
}

// A CA that refuses more nonces in a row than acmez tries (ten) on an
// authorization request still issues: the refused request was not
// processed (RFC 8555 §6.5), so it is sent again. Pebble refusing half of
// all nonces makes such a streak likely somewhere in a 100-name order.
func TestBadNonceStreakLongerThanAcmezRetries(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w)
	w.CA.Inject(testworld.Fault{Kind: testworld.FaultBadNonce, Path: testworld.PathAuthz, Count: 11})
	if _, err := f.obtain(t, context.Background(), "streak.example.com"); err != nil {
		t.Fatalf("Obtain with 11 badNonce answers in a row: %v", err)
	}
}
