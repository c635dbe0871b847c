package namecheap

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"golang.org/x/time/rate"

	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

// fakeClock is a Clock whose Sleep advances time instantly.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	slept  time.Duration
	sleeps int
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
		c.slept += d
		c.sleeps++
	}
	return nil
}

// world is a fake Namecheap account with one provider talking to it.
type world struct {
	t     *testing.T
	srv   *namecheaptest.Server
	p     *Provider
	clock *fakeClock
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newWorld starts a fake server (throttle on the world's fake clock) and a
// provider with an explicit ClientIp, no call budget and a private LockDir.
// edit may change the Config before New.
func newWorld(t testing.TB, opts namecheaptest.Options, edit func(*Config)) *world {
	t.Helper()
	clock := newFakeClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	srv := namecheaptest.NewServer(opts)
	t.Cleanup(srv.Close)
	logs := &syncBuffer{}
	cfg := Config{
		APIUser:  srv.APIUser(),
		APIKey:   srv.APIKey(),
		ClientIP: "198.51.100.7",
		Endpoint: srv.URL(),
		LockDir:  t.TempDir(),
		Limiter:  rate.NewLimiter(rate.Inf, 1),
		Clock:    clock,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	w := &world{srv: srv, p: p, clock: clock, logs: logs}
	if tt, ok := t.(*testing.T); ok {
		w.t = tt
	}
	return w
}

func txt(name, value string) libdns.Record { return libdns.TXT{Name: name, Text: value} }

// zoneKeys is the zone as a sorted multiset of record keys.
func zoneKeys(hosts []namecheaptest.Host) []string {
	keys := make([]string, len(hosts))
	for i, h := range hosts {
		keys[i] = h.Key()
	}
	sort.Strings(keys)
	return keys
}

func sameKeys(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// baseZone is a small live-shaped zone.
func baseZone() []namecheaptest.Host {
	return []namecheaptest.Host{
		{Name: "@", Type: "A", Address: "192.0.2.10", MXPref: "10", TTL: "1799", IsActive: true},
		{Name: "www", Type: "CNAME", Address: "parkingpage.namecheap.com.", MXPref: "10", TTL: "1800", IsActive: true},
		{Name: "@", Type: "MX", Address: "mx1.mail.example.net.", MXPref: "20", TTL: "1800", IsActive: true},
		{Name: "@", Type: "TXT", Address: "v=spf1 include:mail.example.net ~all", MXPref: "10", TTL: "1799", IsActive: true},
		{Name: "@", Type: "CAA", Address: `0 issue "letsencrypt.org"`, MXPref: "10", TTL: "1799", IsActive: true},
	}
}

// withoutMX drops the MX rows: a zone whose mail Namecheap manages
// (EmailType MXE, FWD, OX, GMAIL) or that has none.
func withoutMX(hosts []namecheaptest.Host) []namecheaptest.Host {
	var out []namecheaptest.Host
	for _, h := range hosts {
		if h.Type != "MX" {
			out = append(out, h)
		}
	}
	return out
}

func hasTXT(hosts []namecheaptest.Host, name, value string) int {
	n := 0
	for _, h := range hosts {
		if h.Type == "TXT" && strings.EqualFold(h.Name, name) && h.Address == value {
			n++
		}
	}
	return n
}

func itoa(i int) string { return strconv.Itoa(i) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
