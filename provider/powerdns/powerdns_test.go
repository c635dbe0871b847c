package powerdns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/strictacme/strictacme/internal/providers/racetest"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/powerdns/powerdnstest"
)

const foreign = "another-clients-value"

// fakeZone starts a fake server holding example.com with the operator's
// records, a foreign TXT value with its own TTL and comment, and a
// disabled TXT value at the apex challenge name.
func fakeZone(t *testing.T) (*powerdnstest.Server, *Provider) {
	t.Helper()
	s := powerdnstest.New(powerdnstest.Options{})
	t.Cleanup(s.Close)
	s.AddZone("example.com", "Native",
		powerdnstest.RRset{Name: "example.com.", Type: "SOA", TTL: 3600, Records: []powerdnstest.Record{{Content: "ns1.example.net. hostmaster.example.com. 2026010101 10800 3600 604800 3600"}}},
		powerdnstest.RRset{Name: "example.com.", Type: "A", TTL: 3600, Records: []powerdnstest.Record{{Content: "192.0.2.10"}}},
		powerdnstest.RRset{Name: "example.com.", Type: "MX", TTL: 3600, Records: []powerdnstest.Record{{Content: "10 mx.example.net."}}},
		powerdnstest.RRset{Name: "example.com.", Type: "TXT", TTL: 3600, Records: []powerdnstest.Record{{Content: `"v=spf1 include:mail.example.net ~all"`}}},
		powerdnstest.RRset{Name: "_acme-challenge.example.com.", Type: "TXT", TTL: 600,
			Records:  []powerdnstest.Record{{Content: `"` + foreign + `"`}, {Content: `"parked-value"`, Disabled: true}},
			Comments: []powerdnstest.Comment{{Content: "kept by the other client", Account: "ops", ModifiedAt: 1767225600}}},
	)
	return s, &Provider{ServerURL: s.URL(), APIKey: s.APIKey(), HTTPClient: s.Client(), LockDir: t.TempDir()}
}

func others(s *powerdnstest.Server) string {
	var out []string
	for _, r := range s.RRsets("example.com.") {
		if !strings.HasPrefix(r.Name, "_acme-challenge.") {
			b, _ := json.Marshal(r)
			out = append(out, string(b))
		}
	}
	return strings.Join(out, "\n")
}

// The apex and wildcard values share one name: one GET and one PATCH
// write them with the subdomain's beside the foreign value, which keeps
// its TTL, its comment and the disabled value; deleting removes exactly
// ours, the subdomain's RRset with changetype DELETE, and every other
// RRset is as before.
func TestRRsetReplaceKeepsForeignValuesTTLAndComments(t *testing.T) {
	s, p := fakeZone(t)
	ctx := context.Background()
	before := others(s)
	recs := []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", Text: "apex-value"},
		libdns.TXT{Name: "_acme-challenge", Text: "wildcard-value"},
		libdns.TXT{Name: "_acme-challenge.sub", Text: "sub-value"},
	}
	if _, err := p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if g, pa := s.Count(http.MethodGet), s.Count(http.MethodPatch); g != 1 || pa != 1 {
		t.Errorf("append: %d GET, %d PATCH; want 1 and 1", g, pa)
	}
	if got := s.TXT("_acme-challenge.example.com."); !slices.Equal(got, []string{foreign, "apex-value", "wildcard-value"}) {
		t.Errorf("TXT at the apex challenge name: %q", got)
	}
	apex := txtSet(t, s, "_acme-challenge.example.com.")
	if apex.TTL != 600 || len(apex.Comments) != 1 || !slices.Contains(apex.Records, powerdnstest.Record{Content: `"parked-value"`, Disabled: true}) {
		t.Errorf("the foreign RRset lost its TTL, comment or disabled value: %+v", apex)
	}
	if sub := txtSet(t, s, "_acme-challenge.sub.example.com."); sub.TTL != DefaultTTL || len(sub.Records) != 1 {
		t.Errorf("new RRset: %+v", sub)
	}

	s.ResetRequests()
	if _, err := p.DeleteRecords(ctx, "example.com", recs); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[1].Method != http.MethodPatch || !strings.Contains(reqs[1].Body, `"changetype":"DELETE"`) {
		t.Errorf("delete sent %+v; want one GET and one PATCH deleting the emptied RRset", reqs)
	}
	if got := s.TXT("_acme-challenge.example.com."); !slices.Equal(got, []string{foreign}) {
		t.Errorf("after the delete: %q", got)
	}
	if got := txtSet(t, s, "_acme-challenge.example.com."); got.TTL != 600 || len(got.Comments) != 1 || len(got.Records) != 2 {
		t.Errorf("after the delete the foreign RRset is %+v", got)
	}
	if got := s.TXT("_acme-challenge.sub.example.com."); len(got) != 0 {
		t.Errorf("left behind: %q", got)
	}
	if after := others(s); after != before {
		t.Errorf("other RRsets changed:\n%s\n%s", before, after)
	}
}

func txtSet(t *testing.T, s *powerdnstest.Server, name string) powerdnstest.RRset {
	t.Helper()
	for _, r := range s.RRsets("example.com.") {
		if r.Name == name && r.Type == "TXT" {
			return r
		}
	}
	t.Fatalf("no TXT RRset at %s", name)
	return powerdnstest.RRset{}
}

// Presenting a value already there and deleting one that is not send no
// PATCH: nothing to change is no write.
func TestNothingToChangeWritesNothing(t *testing.T) {
	s, p := fakeZone(t)
	ctx := context.Background()
	if _, err := p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: foreign}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeleteRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "never-written"}}); err != nil {
		t.Fatal(err)
	}
	if n := s.Count(http.MethodPatch); n != 0 {
		t.Errorf("%d PATCH requests", n)
	}
}

// TXT content goes quoted in presentation format: quotes, backslashes and
// a value longer than one 255-byte string survive the round trip, and
// GetRecords gives the value back as written.
func TestTXTContentIsQuotedAndReadBack(t *testing.T) {
	s, p := fakeZone(t)
	ctx := context.Background()
	long := strings.Repeat("x", 300)
	odd := `say "hi" \ there`
	recs := []libdns.Record{libdns.TXT{Name: "q", Text: odd}, libdns.TXT{Name: "q", Text: long}}
	if _, err := p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if got := s.TXT("q.example.com."); !slices.Equal(got, []string{odd, long}) {
		t.Errorf("stored %q", got)
	}
	got, err := p.GetRecords(ctx, "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, r := range got {
		if rr := r.RR(); rr.Name == "q" && rr.Type == "TXT" {
			vals = append(vals, rr.Data)
		}
	}
	if !slices.Equal(vals, []string{odd, long}) {
		t.Errorf("read back %q", vals)
	}
	for _, r := range got {
		if rr := r.RR(); rr.Type == "TXT" && rr.Data == "parked-value" {
			t.Error("GetRecords returned a disabled record, which the server does not serve")
		}
	}
}

// Orders running at once in one process on one zone take turns on its
// read-modify-write: no value is lost to another's REPLACE.
func TestConcurrentAppendsInOneZoneLoseNothing(t *testing.T) {
	s, p := fakeZone(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: fmt.Sprintf("order-%d", i)}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := s.TXT("_acme-challenge.example.com."); len(got) != 9 {
		t.Errorf("TXT after 8 concurrent appends: %q", got)
	}
}

// A throttling proxy's 429 with Retry-After and a 503 are retried.
func TestThrottledRequestsAreRetried(t *testing.T) {
	s, p := fakeZone(t)
	s.Fail(powerdnstest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0"}, powerdnstest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0"})
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if got := s.TXT("_acme-challenge.example.com."); len(got) != 2 {
		t.Errorf("TXT: %q", got)
	}
}

// Refusals are one line that says what to change, and never hold the key.
func TestRefusalsNameTheFix(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(s *powerdnstest.Server, p *Provider)
		zone   string
		status int
		want   string
	}{
		{"wrong key", func(_ *powerdnstest.Server, p *Provider) { p.APIKey = "not-the-key-0000" }, "example.com.", 401, "PDNS_API_KEY"},
		{"unknown zone", nil, "example.org.", 404, "no such zone"},
		{"wrong server id", func(_ *powerdnstest.Server, p *Provider) { p.ServerName = "ns0" }, "example.com.", 404, "PDNS_SERVER_NAME"},
		{"unquoted TXT in the backend", func(s *powerdnstest.Server, _ *Provider) {
			s.AddZone("example.com", "Native", powerdnstest.RRset{Name: "_acme-challenge.example.com.", Type: "TXT", TTL: 60, Records: []powerdnstest.Record{{Content: "v=spf1"}}})
		}, "example.com.", 422, "without quotes"},
		{"secondary zone", func(s *powerdnstest.Server, _ *Provider) { s.AddZone("example.com", "Slave") }, "example.com.", 422, "primary"},
		{"server failure", func(s *powerdnstest.Server, _ *Provider) {
			s.Fail(powerdnstest.Fault{Status: 500, Body: `{"error": "Internal Server Error"}`})
		}, "example.com.", 500, "server failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, p := fakeZone(t)
			if tc.setup != nil {
				tc.setup(s, p)
			}
			_, err := p.AppendRecords(context.Background(), tc.zone, []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}})
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != tc.status {
				t.Fatalf("err = %v; want an APIError with status %d", err, tc.status)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || strings.Contains(msg, s.APIKey()) {
				t.Errorf("error %q: want one line with %q and without the key", msg, tc.want)
			}
		})
	}
}

func TestListZonesFromTheAPI(t *testing.T) {
	s, p := fakeZone(t)
	s.AddZone("sub.example.com", "Master")
	zs, err := p.ListZones(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(zs) != 2 || zs[0].Name != "example.com." || zs[1].Name != "sub.example.com." {
		t.Errorf("zones %+v", zs)
	}
}

func TestFromEnv(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("file-key-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // error text; "" for success
	}{
		{"minimal", map[string]string{EnvAPIURL: "https://pdns.example.net:8081", EnvAPIKey: "k"}, ""},
		{"key from file", map[string]string{EnvAPIURL: "https://pdns.example.net:8081", EnvAPIKey + "_FILE": keyFile, EnvServerName: "ns1", EnvTTL: "60", EnvServingLag: "30"}, ""},
		{"no URL", map[string]string{EnvAPIKey: "k"}, EnvAPIURL + " is not set"},
		{"URL with path", map[string]string{EnvAPIURL: "https://pdns.example.net/api/v1", EnvAPIKey: "k"}, "without the /api/v1"},
		{"plain http on the operator's network", map[string]string{EnvAPIURL: "http://pdns.internal:8081", EnvAPIKey: "k"}, ""},
		{"a token in the URL's query", map[string]string{EnvAPIURL: "https://pdns.example.net:8081/x?token=qsecret123#frag", EnvAPIKey: "k"}, "no query or fragment; give credentials as the provider's secret settings"},
		{"credentials in the URL", map[string]string{EnvAPIURL: "https://user:pa55word@pdns.example.net:8081/", EnvAPIKey: "k"}, "credentials in the URL"},
		{"a port out of range", map[string]string{EnvAPIURL: "https://pdns.example.net:99999", EnvAPIKey: "k"}, "want a port from 1 to 65535"},
		{"no key", map[string]string{EnvAPIURL: "https://pdns.example.net"}, EnvAPIKey + " is not set"},
		{"API version 0", map[string]string{EnvAPIURL: "https://pdns.example.net", EnvAPIKey: "k", EnvAPIVersion: "0"}, "only API version 1"},
		{"bad TTL", map[string]string{EnvAPIURL: "https://pdns.example.net", EnvAPIKey: "k", EnvTTL: "-1"}, EnvTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := FromEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.APIKey == "" || p.ServerURL == "" {
					t.Errorf("%+v", p)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "qsecret123") || strings.Contains(err.Error(), "pa55word") {
				t.Errorf("err = %v; want %q, no secret", err, tc.want)
			}
		})
	}
}

// ZoneFor picks the longest zone of the server's list holding the name,
// asks for the list once for several names, and names a name no zone
// holds.
func TestZoneForTakesTheLongestZoneFromOneList(t *testing.T) {
	s, p := fakeZone(t)
	s.AddZone("sub.example.com", "Native")
	ctx := context.Background()
	for fqdn, want := range map[string]string{
		"_acme-challenge.example.com.":        "example.com.",
		"_acme-challenge.www.sub.example.com": "sub.example.com.",
		"SUB.example.com.":                    "sub.example.com.",
	} {
		if got, err := p.ZoneFor(ctx, fqdn); err != nil || got != want {
			t.Errorf("ZoneFor(%s) = %q, %v; want %s", fqdn, got, err, want)
		}
	}
	if n := s.Count(http.MethodGet); n != 1 {
		t.Errorf("%d zone lists for three names", n)
	}
	if _, err := p.ZoneFor(ctx, "_acme-challenge.example.org."); err == nil || !strings.Contains(err.Error(), "no zone on the server holds _acme-challenge.example.org") {
		t.Errorf("err = %v", err)
	}
}

// DL04 across processes: two runs on one machine (two Providers, each
// with its own in-process lock, like two processes with different state directories) write the
// apex and the wildcard value of one name into the same RRset at once,
// each reading the RRset before the other writes: with the machine's
// lock directory shared they take turns and both values stay. With
// separate lock directories the fake loses one value to the later PATCH
// REPLACE, which shows that the race the lock prevents is real.
func TestTwoRunsWritingOneRRsetLoseNeitherValue(t *testing.T) {
	for _, tt := range []struct {
		name   string
		shared bool
	}{
		{"shared lock directory", true},
		{"separate lock directories", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, first := fakeZone(t)
			second := &Provider{ServerURL: s.URL(), APIKey: s.APIKey(), HTTPClient: s.Client(), LockDir: first.LockDir}
			if !tt.shared {
				second.LockDir = t.TempDir()
			}
			var b racetest.PairReads
			s.OnRead(b.Read)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, w := range []struct {
				p     *Provider
				value string
			}{{first, "apex-token"}, {second, "wildcard-token"}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = w.p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: w.value}})
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			got := s.TXT("_acme-challenge.example.com.")
			kept := slices.Contains(got, "apex-token") && slices.Contains(got, "wildcard-token") && slices.Contains(got, foreign)
			if kept != tt.shared {
				t.Errorf("TXT after both writes: %q (both values kept: %v, want %v)", got, kept, tt.shared)
			}
		})
	}
}

// A server that refuses the connection: the zone list's error says
// "listing zones: Get …", with no stray space where a zone name would go.
func TestUnreachableServerListingZonesNamesNoEmptyZone(t *testing.T) {
	s, p := fakeZone(t)
	s.Close()
	_, err := p.ListZones(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "powerdns: listing zones: ") {
		t.Fatalf("error %v, want it to start with %q", err, "powerdns: listing zones: ")
	}
}
