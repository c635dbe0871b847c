package cloudflare

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

	"github.com/strictacme/strictacme/provider/cloudflare/cloudflaretest"
)

// fakeClock is the time of the fake's rate limit; the provider's Sleep
// advances it, so waits are instant and recorded.
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

// operatorZone is example.com as an operator keeps it: records of every
// kind, and another client's TXT value at the apex challenge name, written
// unquoted before the API asked for quotes.
var operatorZone = []cloudflaretest.Record{
	{Name: "example.com", Type: "A", Content: "192.0.2.10", TTL: 1, Proxied: true},
	{Name: "example.com", Type: "MX", Content: "mx1.example.net", TTL: 3600},
	{Name: "example.com", Type: "TXT", Content: `"v=spf1 include:mail.example.net ~all"`, TTL: 3600},
	{Name: "www.example.com", Type: "CNAME", Content: "example.com", TTL: 1, Proxied: true},
	{Name: "_acme-challenge.example.com", Type: "TXT", Content: "another-clients-value", TTL: 300},
}

func newFake(t *testing.T, opts cloudflaretest.Options) (*cloudflaretest.Server, *Provider, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 12, 3, 4, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	s := cloudflaretest.NewServer(opts)
	t.Cleanup(s.Close)
	return s, &Provider{APIToken: cloudflaretest.DefaultToken, BaseURL: s.URL(), Sleep: clock.Sleep}, clock
}

var challenge = []libdns.Record{
	libdns.TXT{Name: "_acme-challenge", Text: "apex-value-000000000000000000000000000000000"},
	libdns.TXT{Name: "_acme-challenge", Text: "wildcard-value-0000000000000000000000000000"},
	libdns.TXT{Name: "_acme-challenge.sub", Text: "sub-value-00000000000000000000000000000000"},
}

// An order's three values are written with one read of the zone's TXT
// records and one batch, next to another client's unquoted value, and
// take that value's TTL at its name (one TTL per RRset); the delete
// removes exactly them in one batch, and every other record is as before.
func TestOneBatchPerZoneKeepsEverythingElse(t *testing.T) {
	s, p, _ := newFake(t, cloudflaretest.Options{})
	s.AddZone("example.com", operatorZone...)
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
	if n, m := s.Count("GET records"), s.Count("POST batch"); n != 1 || m != 1 {
		t.Errorf("append: %d reads and %d batches, want 1 and 1", n, m)
	}
	got := s.TXT("_acme-challenge.example.com")
	if want := []string{"another-clients-value", "apex-value-000000000000000000000000000000000", "wildcard-value-0000000000000000000000000000"}; !slices.Equal(got, want) {
		t.Errorf("TXT at the apex challenge name: %q", got)
	}
	for _, r := range s.Records("example.com") {
		if r.Name == "_acme-challenge.example.com" && r.TTL != 300 {
			t.Errorf("%s %s has TTL %d, want the RRset's 300", r.Name, r.Content, r.TTL)
		}
		if r.Name == "_acme-challenge.sub.example.com" && (r.TTL != DefaultTTL || !strings.HasPrefix(r.Content, `"`)) {
			t.Errorf("%s: TTL %d, content %s; want %d and quoted content", r.Name, r.TTL, r.Content, DefaultTTL)
		}
	}
	s.ResetRequests()
	gone, err := p.DeleteRecords(ctx, zone, challenge)
	if err != nil || len(gone) != 3 {
		t.Fatalf("DeleteRecords = %d records, %v", len(gone), err)
	}
	if n, m := s.Count("GET records"), s.Count("POST batch"); n != 1 || m != 1 {
		t.Errorf("delete: %d reads and %d batches, want 1 and 1", n, m)
	}
	if got := s.TXT("_acme-challenge.example.com"); !slices.Equal(got, []string{"another-clients-value"}) {
		t.Errorf("after the delete: %q", got)
	}
	if after := others(s); after != before {
		t.Errorf("other records changed:\n%s\n---\n%s", before, after)
	}
	for _, r := range s.Requests() {
		if !strings.HasPrefix(r.UserAgent, "strictacme/") {
			t.Errorf("User-Agent %q", r.UserAgent)
		}
	}
}

func others(s *cloudflaretest.Server) string {
	var b strings.Builder
	for _, r := range s.Records("example.com") {
		if !strings.HasPrefix(r.Name, "_acme-challenge.") {
			fmt.Fprintf(&b, "%+v\n", r)
		}
	}
	return b.String()
}

// Appending a value that is already there sends no batch (the API would
// refuse the whole batch with 81058), and deleting values that are not
// there sends none either.
func TestAppendAndDeleteAreIdempotent(t *testing.T) {
	s, p, _ := newFake(t, cloudflaretest.Options{})
	s.AddZone("example.com", operatorZone...)
	ctx := context.Background()
	if _, err := p.AppendRecords(ctx, "example.com.", challenge); err != nil {
		t.Fatal(err)
	}
	s.ResetRequests()
	if _, err := p.AppendRecords(ctx, "example.com.", challenge); err != nil {
		t.Fatal(err)
	}
	if n := s.Count("POST batch"); n != 0 {
		t.Errorf("second append sent %d batches", n)
	}
	if _, err := p.DeleteRecords(ctx, "example.com.", challenge); err != nil {
		t.Fatal(err)
	}
	s.ResetRequests()
	if gone, err := p.DeleteRecords(ctx, "example.com.", challenge); err != nil || len(gone) != 0 || s.Count("POST batch") != 0 {
		t.Errorf("second delete: %v, %v, %d batches", gone, err, s.Count("POST batch"))
	}
}

// A delegated sub-zone in the same account wins over its parent; a name
// under no zone of the account, or under a zone that is still pending,
// is refused with what to do; the registered domain's public suffix is
// never asked for.
func TestZoneLookupThroughTheAPI(t *testing.T) {
	s, p, _ := newFake(t, cloudflaretest.Options{})
	s.AddZone("example.com")
	s.AddZone("sub.example.com")
	s.AddZoneStatus("example.org", "pending")
	ctx := context.Background()
	tests := []struct{ fqdn, zone, err string }{
		{"_acme-challenge.www.sub.example.com.", "sub.example.com.", ""},
		{"_acme-challenge.example.com.", "example.com.", ""},
		{"_acme-challenge.example.org.", "", "pending, not active"},
		{"_acme-challenge.example.net.", "", "no zone in this account holds"},
	}
	for _, tt := range tests {
		z, err := p.ZoneFor(ctx, tt.fqdn)
		if z != tt.zone || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ZoneFor(%s) = %q, %v; want %q, %q", tt.fqdn, z, err, tt.zone, tt.err)
		}
	}
	for _, r := range s.Requests() {
		if strings.Contains(r.Query, "name=com&") || strings.Contains(r.Query, "name=net&") || strings.HasSuffix(r.Query, "name=com") {
			t.Errorf("asked for a public suffix: %s", r.Query)
		}
	}
	// Found zones are kept: asking again costs nothing.
	s.ResetRequests()
	if _, err := p.ZoneFor(ctx, "_acme-challenge.example.com."); err != nil || len(s.Requests()) != 0 {
		t.Errorf("second look-up: %v after %d requests", err, len(s.Requests()))
	}
}

// Zones and records come in pages: ListZones reads all 120 zones (50 a
// page), and a value on the last page of the TXT records is found and
// deleted.
func TestPagination(t *testing.T) {
	s, p, _ := newFake(t, cloudflaretest.Options{MaxPerPage: 10})
	for i := range 120 {
		s.AddZone(fmt.Sprintf("zone%03d.example", i))
	}
	var recs []cloudflaretest.Record
	for i := range 35 {
		recs = append(recs, cloudflaretest.Record{Name: fmt.Sprintf("r%02d.example.com", i), Type: "TXT", Content: fmt.Sprintf(`"v%02d"`, i), TTL: 60})
	}
	recs = append(recs, cloudflaretest.Record{Name: "_acme-challenge.example.com", Type: "TXT", Content: `"zz-last"`, TTL: 60})
	s.AddZone("example.com", recs...)
	ctx := context.Background()
	zones, err := p.ListZones(ctx)
	if err != nil || len(zones) != 121 {
		t.Fatalf("ListZones = %d zones, %v", len(zones), err)
	}
	if n := s.Count("GET zones"); n != 3 {
		t.Errorf("%d zone pages read, want 3", n)
	}
	s.ResetRequests()
	gone, err := p.DeleteRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "zz-last"}})
	if err != nil || len(gone) != 1 || len(s.TXT("_acme-challenge.example.com")) != 0 {
		t.Fatalf("delete on the last page: %v, %v; left %q", gone, err, s.TXT("_acme-challenge.example.com"))
	}
	if n := s.Count("GET records"); n != 4 {
		t.Errorf("%d record pages read, want 4", n)
	}
}

// More values than one batch may hold (200 on the Free plan) go in as
// few batches as fit.
func TestLargeOrderIsSplitIntoBatchesThePlanTakes(t *testing.T) {
	s, p, _ := newFake(t, cloudflaretest.Options{})
	s.AddZone("example.com")
	var recs []libdns.Record
	for i := range 250 {
		recs = append(recs, libdns.TXT{Name: fmt.Sprintf("_acme-challenge.s%d", i), Text: "v"})
	}
	if _, err := p.AppendRecords(context.Background(), "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if n := s.Count("POST batch"); n != 2 {
		t.Errorf("%d batches for 250 records, want 2", n)
	}
	if n := len(s.Records("example.com")); n != 250 {
		t.Errorf("%d records written", n)
	}
}

// Past the rate limit every call is refused for 5 minutes with 429 and
// retry-after: the provider waits as asked (on its clock) and goes on;
// with a shorter MaxRateWait it stops at once with a line that names the
// limit.
func TestRateLimitIsWaitedOutAsAsked(t *testing.T) {
	s, p, clock := newFake(t, cloudflaretest.Options{RateLimit: 2})
	s.AddZone("example.com", operatorZone...)
	ctx := context.Background()
	if _, err := p.AppendRecords(ctx, "example.com.", challenge); err != nil {
		t.Fatal(err)
	}
	if got := clock.Slept(); len(got) != 1 || got[0] != 5*time.Minute {
		t.Errorf("waits %v, want one of 5m0s (the retry-after)", got)
	}
	if n := len(s.TXT("_acme-challenge.example.com")); n != 3 {
		t.Errorf("%d values after the wait", n)
	}

	s2, p2, _ := newFake(t, cloudflaretest.Options{RateLimit: 1})
	s2.AddZone("example.com")
	p2.MaxRateWait = time.Minute
	_, err := p2.AppendRecords(ctx, "example.com.", challenge)
	var ae *APIError
	if !errors.As(err, &ae) || !ae.RateLimited() || ae.RetryAfter != 5*time.Minute || !strings.Contains(err.Error(), "1200 requests per 5 minutes") {
		t.Fatalf("err = %v", err)
	}
}

// Each refusal of the API is one line that says what to change, never
// with the credential in it.
func TestRefusalsAreExplained(t *testing.T) {
	const other = "0123456789abcdef0123456789abcdef01234"
	tests := []struct {
		name  string
		opts  cloudflaretest.Options
		setup func(*cloudflaretest.Server, *Provider)
		want  string
	}{
		{"token with a line break", cloudflaretest.Options{}, func(_ *cloudflaretest.Server, p *Provider) { p.APIToken = "abc def" }, "Authorization header is malformed"},
		{"unknown token", cloudflaretest.Options{}, func(_ *cloudflaretest.Server, p *Provider) { p.APIToken = other }, "token is not valid"},
		{"token without Zone:Read", cloudflaretest.Options{Tokens: map[string]cloudflaretest.Token{other: {DNSEdit: true}}}, func(_ *cloudflaretest.Server, p *Provider) { p.APIToken = other }, "Zone:Read"},
		{"token without DNS:Edit on the zone", cloudflaretest.Options{Tokens: map[string]cloudflaretest.Token{other: {ZoneRead: true, DNSEdit: true, Zones: []string{"example.org"}}}}, func(_ *cloudflaretest.Server, p *Provider) {
			p.APIToken = ""
			p.ZoneToken = cloudflaretest.DefaultToken
			p.APIToken = other
		}, "give it DNS:Edit"},
		{"global key of another account", cloudflaretest.Options{Email: "ops@example.com", GlobalKey: other}, func(_ *cloudflaretest.Server, p *Provider) {
			p.APIToken, p.Email, p.APIKey = "", "ops@example.com", "f"+other[1:]
		}, "do not match an account"},
		{"a token given as the global key", cloudflaretest.Options{}, func(_ *cloudflaretest.Server, p *Provider) {
			p.APIToken, p.Email, p.APIKey = "", "ops@example.com", cloudflaretest.DefaultToken
		}, "not a Global API Key"},
		{"identical record", cloudflaretest.Options{}, func(s *cloudflaretest.Server, _ *Provider) {
			s.InjectFault("POST batch", cloudflaretest.Fault{Status: 400, Code: 81058, Message: "An identical record already exists."})
		}, "already there"},
		{"HTML page of a proxy on the batch", cloudflaretest.Options{}, func(s *cloudflaretest.Server, _ *Provider) {
			s.InjectFault("POST batch", cloudflaretest.Fault{Status: 502, Body: "<html>Bad gateway</html>"})
		}, "HTTP 502: Cloudflare's API failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Tokens != nil {
				tt.opts.Tokens[cloudflaretest.DefaultToken] = cloudflaretest.Token{ZoneRead: true}
			}
			s, p, _ := newFake(t, tt.opts)
			s.AddZone("example.com")
			tt.setup(s, p)
			ctx := context.Background()
			zone, err := p.ZoneFor(ctx, "_acme-challenge.example.com.")
			if err == nil {
				_, err = p.AppendRecords(ctx, zone, challenge)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want it to say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), other[2:]) || strings.Contains(err.Error(), cloudflaretest.DefaultToken) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error holds a credential or more than one line: %v", err)
			}
			if n := s.Count("POST batch"); n > 1 {
				t.Errorf("a failed batch was sent %d times", n)
			}
		})
	}
}

// A read that meets a 5xx is tried again; a batch whose record vanished
// meanwhile (81044: nothing applied) is read again and sent again once.
func TestTransientFailuresAreRetriedWhereSafe(t *testing.T) {
	s, p, clock := newFake(t, cloudflaretest.Options{})
	s.AddZone("example.com", operatorZone...)
	ctx := context.Background()
	s.InjectFault("GET records", cloudflaretest.Fault{Status: 503, Body: "<html>busy</html>"})
	if _, err := p.AppendRecords(ctx, "example.com.", challenge); err != nil {
		t.Fatal(err)
	}
	if len(clock.Slept()) != 1 {
		t.Errorf("waits %v, want one backoff", clock.Slept())
	}
	s.InjectFault("POST batch", cloudflaretest.Fault{Status: 404, Code: 81044, Message: "Record does not exist."})
	if _, err := p.DeleteRecords(ctx, "example.com.", challenge); err != nil {
		t.Fatal(err)
	}
	if got := s.TXT("_acme-challenge.example.com"); !slices.Equal(got, []string{"another-clients-value"}) {
		t.Errorf("after the delete: %q", got)
	}
}

// With lego's two tokens, the zone token finds the zone and the DNS token,
// which may only edit DNS in example.com and cannot read zones, writes.
func TestZoneTokenFindsDNSTokenWrites(t *testing.T) {
	const zoneTok, dnsTok = "zone-token-0000000000000000000000000000", "dns-token-00000000000000000000000000000"
	s, p, _ := newFake(t, cloudflaretest.Options{Tokens: map[string]cloudflaretest.Token{
		zoneTok: {ZoneRead: true},
		dnsTok:  {DNSEdit: true, Zones: []string{"example.com"}},
	}})
	s.AddZone("example.com")
	p.APIToken, p.ZoneToken = dnsTok, zoneTok
	ctx := context.Background()
	zone, err := p.ZoneFor(ctx, "_acme-challenge.example.com.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AppendRecords(ctx, zone, challenge); err != nil {
		t.Fatal(err)
	}
	recs, err := p.GetRecords(ctx, zone)
	if err != nil || len(recs) != 3 {
		t.Fatalf("GetRecords = %v, %v", recs, err)
	}
}

func TestFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("file-token-000000000000000000000000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type settings struct {
		APIToken, ZoneToken, Email, APIKey, BaseURL string
		TTL                                         int
		Lag                                         time.Duration
	}
	tests := []struct {
		name string
		env  map[string]string
		want settings
		err  string
	}{
		{"lego's CF_ alias", map[string]string{"CF_DNS_API_TOKEN": "t1"}, settings{APIToken: "t1"}, ""},
		{"token from a file", map[string]string{"CLOUDFLARE_DNS_API_TOKEN_FILE": file}, settings{APIToken: "file-token-000000000000000000000000000"}, ""},
		{"zone token only serves both", map[string]string{"CF_ZONE_API_TOKEN": "z"}, settings{APIToken: "z", ZoneToken: "z"}, ""},
		{"legacy global key", map[string]string{"CF_API_EMAIL": "a@example.com", "CLOUDFLARE_API_KEY": "k"}, settings{Email: "a@example.com", APIKey: "k"}, ""},
		{"settings", map[string]string{"CLOUDFLARE_DNS_API_TOKEN": "t", "CLOUDFLARE_TTL": "1", "CLOUDFLARE_BASE_URL": "https://cf.internal/client/v4", "CLOUDFLARE_SERVING_LAG": "0"},
			settings{APIToken: "t", TTL: 1, BaseURL: "https://cf.internal/client/v4", Lag: -1}, ""},
		{"the CLOUDFLARE_ name wins over the CF_ alias", map[string]string{"CF_DNS_API_TOKEN": "a", "CLOUDFLARE_DNS_API_TOKEN": "b"}, settings{APIToken: "b"}, ""},
		{"a value and a file", map[string]string{"CF_DNS_API_TOKEN": "a", "CF_DNS_API_TOKEN_FILE": file}, settings{}, "both CF_DNS_API_TOKEN and CF_DNS_API_TOKEN_FILE"},
		{"nothing", map[string]string{}, settings{}, "CLOUDFLARE_DNS_API_TOKEN is not set"},
		{"e-mail without key", map[string]string{"CLOUDFLARE_EMAIL": "a@example.com"}, settings{}, "go together"},
		{"TTL too short", map[string]string{"CF_DNS_API_TOKEN": "t", "CLOUDFLARE_TTL": "10"}, settings{}, "CLOUDFLARE_TTL"},
		{"missing file", map[string]string{"CF_DNS_API_TOKEN_FILE": "/nonexistent/token"}, settings{}, "CF_DNS_API_TOKEN_FILE: cannot read"},
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
			if got := (settings{p.APIToken, p.ZoneToken, p.Email, p.APIKey, p.BaseURL, p.TTL, p.Lag}); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", `with "quotes" and \`, strings.Repeat("x", 600)} {
		q := quote(s)
		if got := unquote(q); got != s {
			t.Errorf("unquote(quote(%q)) = %q", s, got)
		}
		if got := cloudflaretest.Unquote(q); got != s {
			t.Errorf("the fake reads %q as %q", q, got)
		}
	}
	if got := quote(strings.Repeat("y", 300)); strings.Count(got, `"`) != 4 {
		t.Errorf("300 bytes: %s", got)
	}
}

// A zero Provider without credentials fails at once, sends nothing and
// waits for nothing; a server that cannot be reached is tried three times.
func TestNoCredentialsFailNowUnreachableIsRetried(t *testing.T) {
	s, p, clock := newFake(t, cloudflaretest.Options{})
	p.APIToken = ""
	if _, err := p.ZoneFor(context.Background(), "_acme-challenge.example.com."); err == nil || !strings.Contains(err.Error(), "CLOUDFLARE_DNS_API_TOKEN") {
		t.Errorf("err = %v", err)
	}
	if len(s.Requests()) != 0 || len(clock.Slept()) != 0 {
		t.Errorf("%d requests, waits %v", len(s.Requests()), clock.Slept())
	}
	s.Close()
	p.APIToken = cloudflaretest.DefaultToken
	if _, err := p.ListZones(context.Background()); err == nil || len(clock.Slept()) != 2 {
		t.Errorf("unreachable: %v after waits %v", err, clock.Slept())
	}
}
