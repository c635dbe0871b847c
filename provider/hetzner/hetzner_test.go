package hetzner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/version"
	"github.com/strictacme/strictacme/provider/hetzner/hetznertest"
)

const foreign = "another-clients-value"

type fixture struct {
	api    *hetznertest.Server
	p      *Provider
	sleeps []time.Duration
}

// newFixture: a fake account holding example.com with the operator's
// records and another client's TXT value (TTL 120) at the apex challenge
// name.
func newFixture(t *testing.T, opts hetznertest.Options) *fixture {
	t.Helper()
	api := hetznertest.NewServer(opts)
	t.Cleanup(api.Close)
	api.AddZone("example.com",
		hetznertest.Record{Type: "A", Name: "@", Value: "192.0.2.10"},
		hetznertest.Record{Type: "MX", Name: "@", Value: "10 mx.example.net.", TTL: 3600},
		hetznertest.Record{Type: "CNAME", Name: "www", Value: "example.com."},
		hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: foreign, TTL: 120},
	)
	f := &fixture{api: api}
	var mu sync.Mutex
	f.p = &Provider{APIKey: api.Token(), Endpoint: api.URL(), Sleep: func(_ context.Context, d time.Duration) error {
		mu.Lock()
		f.sleeps = append(f.sleeps, d)
		mu.Unlock()
		return nil
	}}
	return f
}

func (f *fixture) txt(name string) (vals []string, ttls []int) {
	for _, r := range f.api.Records("example.com") {
		if r.Type == "TXT" && r.Name == name {
			vals = append(vals, r.Value)
			ttls = append(ttls, r.TTL)
		}
	}
	return vals, ttls
}

func (f *fixture) others() string {
	var b strings.Builder
	for _, r := range f.api.Records("example.com") {
		if !strings.HasPrefix(r.Name, "_acme-challenge") || r.Value == foreign {
			fmt.Fprintf(&b, "%+v\n", r)
		}
	}
	return b.String()
}

var ctx = context.Background()

// Values for an apex, its wildcard (same name) and a subdomain are
// created in ONE POST /records/bulk; a new value at a name that holds TXT
// takes that TTL. Deleting removes exactly our records by ID (one DELETE
// each: the API has no bulk delete); the other client's record, with its
// ID, and every other record stay.
func TestBulkCreateAndExactDelete(t *testing.T) {
	f := newFixture(t, hetznertest.Options{})
	before := f.others()
	recs := []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "apex-value"},
		libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "wildcard-value"},
		libdns.TXT{Name: "_acme-challenge.sub", TTL: time.Minute, Text: "sub-value"},
	}
	got, err := f.p.AppendRecords(ctx, "example.com.", recs)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.api.Count(http.MethodPost, "/records/bulk"); len(got) != 3 || n != 1 {
		t.Fatalf("created %d records in %d bulk calls; want 3 in 1", len(got), n)
	}
	vals, ttls := f.txt("_acme-challenge")
	if !slices.Equal(vals, []string{foreign, "apex-value", "wildcard-value"}) || !slices.Equal(ttls, []int{120, 120, 120}) {
		t.Errorf("apex challenge TXT: %q TTLs %v", vals, ttls)
	}
	if _, ttls := f.txt("_acme-challenge.sub"); !slices.Equal(ttls, []int{60}) {
		t.Errorf("sub TTLs %v", ttls)
	}
	if got, _ := f.p.AppendRecords(ctx, "example.com.", recs[:1]); len(got) != 0 || f.api.Count(http.MethodPost, "/records/bulk") != 1 {
		t.Error("re-append wrote again")
	}
	got, err = f.p.DeleteRecords(ctx, "example.com.", recs)
	if err != nil || len(got) != 3 || f.api.Count(http.MethodDelete, "") != 3 {
		t.Fatalf("delete: %v, %v, %d DELETEs", got, err, f.api.Count(http.MethodDelete, ""))
	}
	if vals, _ := f.txt("_acme-challenge"); !slices.Equal(vals, []string{foreign}) {
		t.Errorf("after delete: %q", vals)
	}
	if vals, _ := f.txt("_acme-challenge.sub"); len(vals) != 0 {
		t.Errorf("left: %q", vals)
	}
	if after := f.others(); after != before {
		t.Errorf("others changed:\n%s\n%s", before, after)
	}
}

// The bulk endpoint answers 200 even when it refused records; that is an
// error naming them, not a success.
func TestBulkCreateWithInvalidRecordsIsAnError(t *testing.T) {
	f := newFixture(t, hetznertest.Options{})
	f.api.RefuseValue("refused")
	_, err := f.p.AppendRecords(ctx, "example.com.", []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", Text: "fine"}, libdns.TXT{Name: "_acme-challenge.x", Text: "refused"}})
	if err == nil || !strings.Contains(err.Error(), "created 1 of 2") || !strings.Contains(err.Error(), `_acme-challenge.x TXT "refused"`) {
		t.Fatalf("err = %v", err)
	}
}

// Zones and records are read page by page (per_page capped at 2 here).
func TestListingsFollowPagination(t *testing.T) {
	f := newFixture(t, hetznertest.Options{MaxPerPage: 2})
	for i := range 4 {
		f.api.AddZone(fmt.Sprintf("zone%d.example", i))
		f.api.AddRecord("example.com", hetznertest.Record{Type: "TXT", Name: fmt.Sprintf("t%d", i), Value: "x"})
	}
	zones, err := f.p.ListZones(ctx)
	if err != nil || len(zones) != 5 {
		t.Fatalf("ListZones = %v, %v", zones, err)
	}
	recs, err := f.p.GetRecords(ctx, "example.com.")
	if err != nil || len(recs) != 8 {
		t.Fatalf("GetRecords: %d, %v", len(recs), err)
	}
	// t3 is on the last page: an existing value there is not created again.
	if got, err := f.p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "t3", Text: "x"}}); err != nil || len(got) != 0 {
		t.Fatalf("append of a value on the last page: %v, %v", got, err)
	}
}

// Zones come from the zone list: the longest zone holding the name; a
// name in no zone says that the zone may have moved to the Hetzner Console.
func TestZoneForPicksTheLongestZoneOfTheList(t *testing.T) {
	f := newFixture(t, hetznertest.Options{MaxPerPage: 1})
	f.api.AddZone("dev.example.com")
	for fqdn, want := range map[string]string{
		"_acme-challenge.example.com.":       "example.com.",
		"_acme-challenge.a.dev.example.com.": "dev.example.com.",
		"_acme-challenge.Dev.Example.com":    "dev.example.com.",
	} {
		if got, err := f.p.ZoneFor(ctx, fqdn); err != nil || got != want {
			t.Errorf("ZoneFor(%s) = %q, %v; want %q", fqdn, got, err, want)
		}
	}
	f.api.MoveToConsole("example.com")
	if _, err := f.p.ZoneFor(ctx, "_acme-challenge.example.com."); err == nil || !strings.Contains(err.Error(), "Hetzner Console") {
		t.Errorf("moved zone: %v", err)
	}
}

func TestThrottledCallsWaitForRetryAfter(t *testing.T) {
	f := newFixture(t, hetznertest.Options{})
	f.api.Throttle(1, 4*time.Second)
	if _, err := f.p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.sleeps, []time.Duration{4 * time.Second}) {
		t.Errorf("waits %v", f.sleeps)
	}
	f.api.Throttle(1, time.Hour)
	_, err := f.p.DeleteRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || !strings.Contains(err.Error(), "try again after") {
		t.Fatalf("hour-long throttle: %v", err)
	}
}

func TestAPIErrorsSayWhatToDo(t *testing.T) {
	rec := []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}
	for _, tc := range []struct {
		name  string
		setup func(*fixture)
		zone  string
		want  []string
	}{
		{"wrong token", func(f *fixture) { f.p.APIKey = "wrong-token-0123456789" }, "example.com.", []string{"HTTP 401", EnvAPIKey}},
		{"zone moved to the Hetzner Console", func(f *fixture) { f.api.MoveToConsole("example.com") }, "example.com.", []string{"no zone example.com", "Cloud API", EnvAPIToken}},
		{"server errors past the retries", func(f *fixture) { f.api.Fail(10, http.StatusInternalServerError) }, "example.com.", []string{"HTTP 500", "try again later"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, hetznertest.Options{})
			tc.setup(f)
			_, err := f.p.AppendRecords(ctx, tc.zone, rec)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), f.p.APIKey) {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}

func TestRequestsCarryUserAgentAndToken(t *testing.T) {
	f := newFixture(t, hetznertest.Options{})
	if _, err := f.p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.api.Requests() {
		if r.UserAgent != version.UserAgent() || !r.Authorized {
			t.Errorf("%s %s: User-Agent %q, token %v", r.Method, r.Path, r.UserAgent, r.Authorized)
		}
	}
}

func TestFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte("file-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	p, err := FromEnv(env(EnvAPIKey+"_FILE", file, EnvTTL, "300"))
	if err != nil || p.APIKey != "file-key" || p.TTL != 5*time.Minute {
		t.Fatalf("FromEnv = %+v, %v", p, err)
	}
	p, err = FromEnv(env(EnvAPIToken+"_FILE", file))
	if err != nil || p.APIToken != "file-key" || p.APIKey != "" {
		t.Fatalf("FromEnv with a Cloud API token file = %+v, %v", p, err)
	}
	for name, tc := range map[string]struct {
		get  func(string) (string, bool)
		want string
	}{
		"no token":              {env(), EnvAPIToken},
		"both tokens":           {env(EnvAPIToken, "x", EnvAPIKey, "y"), "unset " + EnvAPIKey + " if the zone is in the Hetzner Console"},
		"Cloud token, bad TTL":  {env(EnvAPIToken, "x", EnvTTL, "30"), EnvTTL},
		"Cloud token, http URL": {env(EnvAPIToken, "x", EnvEndpoint, "http://api.example/v1/"), "plain http"},
		"TTL under 60":          {env(EnvAPIKey, "a", EnvTTL, "30"), EnvTTL},
		"plain http":            {env(EnvAPIKey, "a", EnvEndpoint, "http://dns.example/api/v1/"), "plain http"},
	} {
		if _, err := FromEnv(tc.get); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", name, err, tc.want)
		}
	}
}
