package digitalocean

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/digitalocean/digitaloceantest"
)

// fakeClock is the time of the fake's rate limits and of the provider;
// the provider's Sleep advances it, so waits are instant and recorded.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return ctx.Err()
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}

// operatorDomain is example.com as an operator keeps it, with another
// client's TXT value at the apex challenge name.
var operatorDomain = []digitaloceantest.Record{
	{Type: "A", Name: "@", Data: "192.0.2.10", TTL: 3600},
	{Type: "MX", Name: "@", Data: "mx1.example.net", TTL: 1800},
	{Type: "TXT", Name: "@", Data: "v=spf1 include:mail.example.net ~all", TTL: 3600},
	{Type: "CNAME", Name: "www", Data: "@", TTL: 1800},
	{Type: "TXT", Name: "_acme-challenge", Data: "another-clients-value", TTL: 300},
}

func newFake(t *testing.T, opts digitaloceantest.Options) (*digitaloceantest.Server, *Provider, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 12, 3, 4, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	s := digitaloceantest.NewServer(opts)
	t.Cleanup(s.Close)
	return s, &Provider{Token: digitaloceantest.DefaultToken, BaseURL: s.URL(), Sleep: clock.Sleep, Now: clock.Now}, clock
}

var challenge = []libdns.Record{
	libdns.TXT{Name: "_acme-challenge", Text: "apex-value-000000000000000000000000000000000"},
	libdns.TXT{Name: "_acme-challenge", Text: "wildcard-value-0000000000000000000000000000"},
	libdns.TXT{Name: "_acme-challenge.sub", Text: "sub-value-00000000000000000000000000000000"},
}

func others(s *digitaloceantest.Server) string {
	var b strings.Builder
	for _, r := range s.Records("example.com") {
		if !strings.HasPrefix(r.Name, "_acme-challenge") {
			fmt.Fprintf(&b, "%+v\n", r)
		}
	}
	return b.String()
}

// DigitalOcean has no batch: an order's three values are one read of the
// domain's TXT records and three POSTs, next to another client's value,
// taking its TTL at its name; the delete is one read and three DELETEs of
// exactly them, and every other record is as before.
func TestOneRequestPerRecordKeepsEverythingElse(t *testing.T) {
	s, p, _ := newFake(t, digitaloceantest.Options{})
	s.AddDomain("example.com", operatorDomain...)
	before := others(s)
	ctx := context.Background()
	zone, err := p.ZoneFor(ctx, "_acme-challenge.sub.example.com.")
	if err != nil || zone != "example.com." {
		t.Fatalf("ZoneFor = %q, %v", zone, err)
	}
	s.ResetRequests()
	if _, err := p.AppendRecords(ctx, zone, challenge); err != nil {
		t.Fatal(err)
	}
	if n, m := s.Count("GET records"), s.Count("POST records"); n != 1 || m != 3 {
		t.Errorf("append: %d reads and %d creates, want 1 and 3", n, m)
	}
	if got, want := s.TXT("_acme-challenge.example.com"), []string{"another-clients-value", "apex-value-000000000000000000000000000000000", "wildcard-value-0000000000000000000000000000"}; !slices.Equal(got, want) {
		t.Errorf("TXT at the apex challenge name: %q", got)
	}
	for _, r := range s.Records("example.com") {
		if r.Name == "_acme-challenge" && r.TTL != 300 || r.Name == "_acme-challenge.sub" && r.TTL != DefaultTTL {
			t.Errorf("%s %s: TTL %d", r.Name, r.Data, r.TTL)
		}
	}
	s.ResetRequests()
	gone, err := p.DeleteRecords(ctx, zone, challenge)
	if err != nil || len(gone) != 3 {
		t.Fatalf("DeleteRecords = %d, %v", len(gone), err)
	}
	if n, m := s.Count("GET records"), s.Count("DELETE record"); n != 1 || m != 3 {
		t.Errorf("delete: %d reads and %d deletes, want 1 and 3", n, m)
	}
	if got := s.TXT("_acme-challenge.example.com"); !slices.Equal(got, []string{"another-clients-value"}) {
		t.Errorf("after the delete: %q", got)
	}
	if after := others(s); after != before {
		t.Errorf("other records changed:\n%s---\n%s", before, after)
	}
	for _, r := range s.Requests() {
		if !strings.HasPrefix(r.UserAgent, "strictacme/") {
			t.Errorf("User-Agent %q", r.UserAgent)
		}
	}
	// Again: nothing to create, nothing to delete.
	s.ResetRequests()
	if _, err := p.DeleteRecords(ctx, zone, challenge); err != nil || s.Count("DELETE record") != 0 {
		t.Errorf("second delete: %v, %d deletes", err, s.Count("DELETE record"))
	}
}

// The account's 450 domains come in three pages of 200; a sub-domain
// added as its own domain wins for names under it; a name in no domain is
// refused with what to do; the list is read once.
func TestZonesFromTheDomainList(t *testing.T) {
	s, p, _ := newFake(t, digitaloceantest.Options{})
	for i := range 448 {
		s.AddDomain(fmt.Sprintf("d%03d.example", i))
	}
	s.AddDomain("example.com")
	s.AddDomain("sub.example.com")
	ctx := context.Background()
	for fqdn, want := range map[string]string{"_acme-challenge.www.sub.example.com.": "sub.example.com.", "_acme-challenge.example.com.": "example.com."} {
		if z, err := p.ZoneFor(ctx, fqdn); err != nil || z != want {
			t.Errorf("ZoneFor(%s) = %q, %v; want %q", fqdn, z, err, want)
		}
	}
	if _, err := p.ZoneFor(ctx, "_acme-challenge.example.net."); err == nil || !strings.Contains(err.Error(), "Networking → Domains") {
		t.Errorf("outside every domain: %v", err)
	}
	if n := s.Count("GET domains"); n != 3 {
		t.Errorf("%d domain pages read, want 3 (read once)", n)
	}
	zones, err := p.ListZones(ctx)
	if err != nil || len(zones) != 450 {
		t.Errorf("ListZones = %d, %v", len(zones), err)
	}
}

// A value on the second page of 200 TXT records is found and deleted.
func TestPaginationOfRecords(t *testing.T) {
	s, p, _ := newFake(t, digitaloceantest.Options{})
	var recs []digitaloceantest.Record
	for i := range 250 {
		recs = append(recs, digitaloceantest.Record{Type: "TXT", Name: fmt.Sprintf("r%03d", i), Data: "v", TTL: 60})
	}
	recs = append(recs, digitaloceantest.Record{Type: "TXT", Name: "_acme-challenge", Data: "on-the-last-page", TTL: 60})
	s.AddDomain("example.com", recs...)
	gone, err := p.DeleteRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "on-the-last-page"}})
	if err != nil || len(gone) != 1 || len(s.TXT("_acme-challenge.example.com")) != 0 {
		t.Fatalf("delete: %v, %v; left %q", gone, err, s.TXT("_acme-challenge.example.com"))
	}
	if n := s.Count("GET records"); n != 2 {
		t.Errorf("%d pages read, want 2", n)
	}
}

// Past 250 requests a minute the API answers 429 with Retry-After: the
// provider waits as asked and goes on.
func TestBurstLimitIsWaitedOutAsAsked(t *testing.T) {
	s, p, clock := newFake(t, digitaloceantest.Options{PerMinute: 2})
	s.AddDomain("example.com", operatorDomain...)
	if _, err := p.AppendRecords(context.Background(), "example.com.", challenge); err != nil {
		t.Fatal(err)
	}
	if got := clock.Slept(); len(got) != 1 || got[0] != time.Minute {
		t.Errorf("waits %v, want one of 1m0s (the Retry-After)", got)
	}
	if n := len(s.TXT("_acme-challenge.example.com")); n != 3 {
		t.Errorf("%d values after the wait", n)
	}
}

// When an answer says the hour's quota is used up (ratelimit-remaining
// 0), the next call waits for ratelimit-reset without being sent, if the
// wait is within MaxRateWait; otherwise it fails at once, saying when
// calls are accepted again, and nothing more is sent.
func TestHourlyQuotaIsWaitedForOrRefusedBeforeSending(t *testing.T) {
	s, p, clock := newFake(t, digitaloceantest.Options{PerHour: 2, PerMinute: -1})
	s.AddDomain("example.com")
	ctx := context.Background()
	recs := challenge[:2]
	_, err := p.AppendRecords(ctx, "example.com.", recs)
	var ae *APIError
	if !errors.As(err, &ae) || !ae.RateLimited() || !strings.Contains(err.Error(), "5000 an hour") || !strings.Contains(err.Error(), "2026-12-03T05:00:00Z") {
		t.Fatalf("err = %v", err)
	}
	if n := len(s.Requests()); n != 2 {
		t.Errorf("%d requests sent, want 2 (the third is not sent to be refused)", n)
	}
	p.MaxRateWait = 2 * time.Hour
	if _, err := p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if got := clock.Slept(); len(got) == 0 || got[0] != time.Hour {
		t.Errorf("waits %v, want the hour until ratelimit-reset first", got)
	}
}

// Each refusal is one line that says what to change, never with the
// token; a read that meets a 5xx is tried again, a create is not (it may
// have been done).
func TestRefusalsAreExplained(t *testing.T) {
	tests := []struct {
		name    string
		opts    digitaloceantest.Options
		setup   func(*digitaloceantest.Server, *Provider)
		want    string
		creates int
	}{
		{"unknown token", digitaloceantest.Options{}, func(_ *digitaloceantest.Server, p *Provider) { p.Token = "dop_v1_revoked" }, "token is not valid", 0},
		{"read-only token", digitaloceantest.Options{Tokens: map[string][]string{digitaloceantest.DefaultToken: {"domain:read"}}}, nil, "domain:create", 1},
		{"TTL under 30", digitaloceantest.Options{}, func(_ *digitaloceantest.Server, p *Provider) { p.TTL = 10 }, "DO_TTL to 30", 1},
		{"CNAME at the name", digitaloceantest.Options{}, func(s *digitaloceantest.Server, _ *Provider) {
			s.AddDomain("cname.example", digitaloceantest.Record{Type: "CNAME", Name: "_acme-challenge", Data: "elsewhere.example.net."})
		}, "can have no TXT beside it", 1},
		{"5xx on create", digitaloceantest.Options{}, func(s *digitaloceantest.Server, _ *Provider) {
			s.InjectFault("POST records", digitaloceantest.Fault{Status: 503, Body: "<html>busy</html>"})
		}, "DigitalOcean's API failed", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p, _ := newFake(t, tt.opts)
			s.AddDomain("example.com")
			zone := "example.com."
			if tt.setup != nil {
				tt.setup(s, p)
			}
			if tt.name == "CNAME at the name" {
				zone = "cname.example."
			}
			_, err := p.AppendRecords(context.Background(), zone, challenge[:1])
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), p.Token) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error holds the token or more than one line: %v", err)
			}
			if n := s.Count("POST records"); n != tt.creates {
				t.Errorf("%d creates sent, want %d", n, tt.creates)
			}
		})
	}
	s, p, clock := newFake(t, digitaloceantest.Options{})
	s.AddDomain("example.com")
	s.InjectFault("GET records", digitaloceantest.Fault{Status: 502, Body: "<html>bad gateway</html>"})
	if _, err := p.AppendRecords(context.Background(), "example.com.", challenge); err != nil || len(clock.Slept()) != 1 {
		t.Errorf("a 502 on the read: %v, waits %v", err, clock.Slept())
	}
}

// When the second create fails, the records already created are returned
// with the error, so the caller can clean them up.
func TestPartialWriteReportsWhatWasWritten(t *testing.T) {
	// Two requests a minute: the read and the first create pass, the
	// second create meets a 429 that may not be waited out.
	s, p, _ := newFake(t, digitaloceantest.Options{PerMinute: 2, PerHour: -1})
	s.AddDomain("example.com")
	p.MaxRateWait = -1
	done, err := p.AppendRecords(context.Background(), "example.com.", challenge)
	if err == nil || len(done) != 1 || len(s.TXT("_acme-challenge.example.com")) != 1 {
		t.Fatalf("AppendRecords = %v, %v; zone %q", done, err, s.TXT("_acme-challenge.example.com"))
	}
}

func TestFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("dop_v1_from_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type settings struct {
		Token, BaseURL string
		TTL            int
		Lag            time.Duration
	}
	tests := []struct {
		name string
		env  map[string]string
		want settings
		err  string
	}{
		{"token", map[string]string{"DO_AUTH_TOKEN": "t"}, settings{Token: "t"}, ""},
		{"token from a file", map[string]string{"DO_AUTH_TOKEN_FILE": file}, settings{Token: "dop_v1_from_file"}, ""},
		{"settings", map[string]string{"DO_AUTH_TOKEN": "t", "DO_API_URL": "https://do.internal", "DO_TTL": "60", "DO_SERVING_LAG": "0"}, settings{"t", "https://do.internal", 60, -1}, ""},
		{"nothing", nil, settings{}, "DO_AUTH_TOKEN is not set"},
		{"TTL under 30", map[string]string{"DO_AUTH_TOKEN": "t", "DO_TTL": "10"}, settings{}, "DO_TTL"},
		{"bad URL", map[string]string{"DO_AUTH_TOKEN": "t", "DO_API_URL": "api.digitalocean.com"}, settings{}, "DO_API_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := FromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := (settings{p.Token, p.BaseURL, p.TTL, p.Lag}); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// A zero Provider without a token fails at once, sends nothing and waits
// for nothing; a server that cannot be reached is tried three times.
func TestNoTokenFailsNowUnreachableIsRetried(t *testing.T) {
	s, p, clock := newFake(t, digitaloceantest.Options{})
	p.Token = ""
	if _, err := p.ZoneFor(context.Background(), "_acme-challenge.example.com."); err == nil || !strings.Contains(err.Error(), "DO_AUTH_TOKEN") {
		t.Errorf("err = %v", err)
	}
	if len(s.Requests()) != 0 || len(clock.Slept()) != 0 {
		t.Errorf("%d requests, waits %v", len(s.Requests()), clock.Slept())
	}
	s.Close()
	p.Token = digitaloceantest.DefaultToken
	if _, err := p.ListZones(context.Background()); err == nil || len(clock.Slept()) != 2 {
		t.Errorf("unreachable: %v after waits %v", err, clock.Slept())
	}
}
