package issue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/testworld"
)

// A CA that answers 500 to every try acmez makes on an authorization fetch:
// the idempotent step is retried with backoff (injected sleep) and the order
// completes.
func TestServerErrorOnIdempotentStepRetried(t *testing.T) {
	w := testworld.Start(t)
	clock := newTestClock()
	f := newFixture(t, w, withClock(clock))
	w.CA.Inject(testworld.Fault{Kind: testworld.FaultServerInternal, Path: testworld.PathAuthz, Count: 3})
	if _, err := f.obtain(t, context.Background(), "five.example.com"); err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	slept := clock.sleeps(time.Second)
	if len(slept) != 1 || slept[0] != backoff5xx {
		t.Errorf("slept %v, want one backoff of %v", slept, backoff5xx)
	}
}

// A CA that keeps failing gives up after a bounded number of tries.
func TestServerErrorBounded(t *testing.T) {
	w := testworld.Start(t)
	clock := newTestClock()
	f := newFixture(t, w, withClock(clock))
	w.CA.Inject(testworld.Fault{Kind: testworld.FaultServerInternal, Path: testworld.PathAuthz, Count: 1000})
	w.CA.ResetRequests()
	_, err := f.obtain(t, context.Background(), "down.example.com")
	var p acme.Problem
	if !errors.As(err, &p) || p.Type != acme.ProblemTypeServerInternal {
		t.Fatalf("err = %v, want the serverInternal problem", err)
	}
	slept := clock.sleeps(time.Second)
	if len(slept) != max5xxRetries {
		t.Errorf("slept %v, want %d backoffs", slept, max5xxRetries)
	}
	if n := w.CA.Requests(testworld.PathAuthz); n > 3*(max5xxRetries+1) {
		t.Errorf("%d authorization requests; the retries are not bounded", n)
	}
}
