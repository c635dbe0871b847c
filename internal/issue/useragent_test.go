package issue

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/strictacme/strictacme/internal/version"
)

// uaRecorder records the User-Agent of every request it carries.
type uaRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]bool
}

func (u *uaRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	u.mu.Lock()
	u.seen[r.Header.Get("User-Agent")] = true
	u.mu.Unlock()
	return u.next.RoundTrip(r)
}

// Every request to the CA, from the directory to the certificate download,
// carries strictacme's product and version first in its User-Agent (RFC 8555
// §6.1), followed by acmez's own token.
func TestCARequestsCarryUserAgent(t *testing.T) {
	rec := &uaRecorder{seen: map[string]bool{}}
	f := newFixture(t, nil, func(_ *fixture, c *Config) {
		hc := *c.HTTPClient
		rec.next = hc.Transport
		if rec.next == nil {
			rec.next = http.DefaultTransport
		}
		hc.Transport = rec
		c.HTTPClient = &hc
	})
	if _, err := f.obtain(t, context.Background(), "ua.example.com"); err != nil {
		t.Fatal(err)
	}
	if len(rec.seen) == 0 {
		t.Fatal("no request went through the recorder")
	}
	for ua := range rec.seen {
		if !strings.HasPrefix(ua, version.UserAgent()+" acmez") {
			t.Errorf("User-Agent %q, want %q first", ua, version.UserAgent())
		}
	}
}
