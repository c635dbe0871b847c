package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lockedBuffer is a log sink safe for the progress goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSilentEndpointCostsTwoCallTimeoutsWithProgressLines: an endpoint that
// accepts the connection and never answers used to cost 5 attempts of the
// transport's 60 s each plus backoff (330 s) with nothing in the log. Each
// call is bounded by CallTimeout, a call that timed out is retried once
// only, progress lines say what is being waited for, and the error says
// that no answer came within the bound.
func TestSilentEndpointCostsTwoCallTimeoutsWithProgressLines(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	var logs lockedBuffer
	c := &Client{
		Endpoint: srv.URL, APIUser: "u", APIKey: "k", ClientIP: "203.0.113.7",
		HTTPClient: srv.Client(), Clock: &instantClock{},
		CallTimeout: 150 * time.Millisecond, ProgressEvery: 40 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	_, err := c.GetHosts(context.Background(), "example", "com")
	var te *TransportError
	if !errors.As(err, &te) || !te.Timeout || !strings.Contains(err.Error(), "no answer within 150ms") {
		t.Fatalf("err = %v, want a timed-out call", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d calls, want 2 (one retry after a timeout)", n)
	}
	out := logs.String()
	for _, want := range []string{"still waiting for the API", "command=getHosts", "namecheap: retrying"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
