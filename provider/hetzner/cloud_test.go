package hetzner

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/version"
	"github.com/strictacme/strictacme/provider/hetzner/hetznertest"
)

// newCloudFixture: a fake Cloud API project holding example.com with the
// operator's records and another client's quoted TXT value (TTL 120) at
// the apex challenge name. Sleeps advance a test clock.
func newCloudFixture(t *testing.T, opts hetznertest.Options) *fixture {
	t.Helper()
	api := hetznertest.NewServer(opts)
	t.Cleanup(api.Close)
	api.AddZone("example.com",
		hetznertest.Record{Type: "A", Name: "@", Value: "192.0.2.10"},
		hetznertest.Record{Type: "MX", Name: "@", Value: "10 mx.example.net.", TTL: 3600},
		hetznertest.Record{Type: "CNAME", Name: "www", Value: "example.com."},
		hetznertest.Record{Type: "TXT", Name: "_acme-challenge", Value: `"` + foreign + `"`, TTL: 120},
	)
	f := &fixture{api: api}
	var mu sync.Mutex
	now := time.Now()
	f.p = &Provider{APIToken: api.Token(), Endpoint: api.CloudURL(),
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			f.sleeps = append(f.sleeps, d)
			now = now.Add(d)
			mu.Unlock()
			return nil
		}}
	return f
}

func (f *fixture) cloudOthers() string {
	var b strings.Builder
	for _, r := range f.api.Records("example.com") {
		if !strings.HasPrefix(r.Name, "_acme-challenge") || strings.Contains(r.Value, foreign) {
			b.WriteString(r.Type + " " + r.Name + " " + r.Value + " " + r.ID + "\n")
		}
	}
	return b.String()
}

var cloudRecs = []libdns.Record{
	libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "apex-value"},
	libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "wildcard-value"},
	libdns.TXT{Name: "_acme-challenge.sub", TTL: time.Minute, Text: "sub-value"},
}

// Values for an apex, its wildcard (same name) and a subdomain are added
// by one add_records action per name, quoted as the Cloud API wants
// them; the existing RRset keeps its TTL and the other client's value.
// Each action is polled until it reports success. remove_records names
// exactly our values; the other client's value and every other record
// stay, and the subdomain's RRset is gone with its last value.
func TestCloudAddAndRemoveRecordsKeepForeignValues(t *testing.T) {
	f := newCloudFixture(t, hetznertest.Options{})
	before := f.cloudOthers()
	got, err := f.p.AppendRecords(ctx, "example.com.", cloudRecs)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.api.Count(http.MethodPost, "/actions/add_records"); len(got) != 3 || n != 2 {
		t.Fatalf("added %d values in %d add_records; want 3 in 2 (one per name)", len(got), n)
	}
	if polls := countPrefix(f.api, http.MethodGet, "/v1/actions/"); polls != 4 {
		t.Errorf("%d action polls; want 4 (two running looks per action)", polls)
	}
	vals, ttls := f.txt("_acme-challenge")
	if !slices.Equal(vals, []string{`"` + foreign + `"`, `"apex-value"`, `"wildcard-value"`}) || !slices.Equal(ttls, []int{120, 120, 120}) {
		t.Errorf("apex challenge TXT: %q TTLs %v", vals, ttls)
	}
	if vals, ttls := f.txt("_acme-challenge.sub"); !slices.Equal(vals, []string{`"sub-value"`}) || !slices.Equal(ttls, []int{60}) {
		t.Errorf("sub TXT %q TTLs %v", vals, ttls)
	}
	recs, err := f.p.GetRecords(ctx, "example.com.")
	if err != nil || !slices.ContainsFunc(recs, func(r libdns.Record) bool { return r.RR().Data == "wildcard-value" }) {
		t.Errorf("read back %v, %v", recs, err)
	}
	if got, _ := f.p.AppendRecords(ctx, "example.com.", cloudRecs[:1]); len(got) != 0 || f.api.Count(http.MethodPost, "/actions/add_records") != 2 {
		t.Error("re-append wrote again")
	}
	got, err = f.p.DeleteRecords(ctx, "example.com.", cloudRecs)
	if err != nil || len(got) != 3 || f.api.Count(http.MethodPost, "/actions/remove_records") != 2 {
		t.Fatalf("delete: %v, %v, %d remove_records", got, err, f.api.Count(http.MethodPost, "/actions/remove_records"))
	}
	if vals, _ := f.txt("_acme-challenge"); !slices.Equal(vals, []string{`"` + foreign + `"`}) {
		t.Errorf("after delete: %q", vals)
	}
	if vals, _ := f.txt("_acme-challenge.sub"); len(vals) != 0 {
		t.Errorf("left: %q", vals)
	}
	if after := f.cloudOthers(); after != before {
		t.Errorf("others changed:\n%s\n%s", before, after)
	}
	if got, err := f.p.DeleteRecords(ctx, "example.com.", cloudRecs); err != nil || len(got) != 0 {
		t.Errorf("deleting again: %v, %v; want nothing to do", got, err)
	}
	for _, r := range f.api.Requests() {
		if r.UserAgent != version.UserAgent() || !r.Authorized {
			t.Errorf("%s %s: User-Agent %q, token %v", r.Method, r.Path, r.UserAgent, r.Authorized)
		}
	}
}

func countPrefix(api *hetznertest.Server, method, prefix string) int {
	n := 0
	for _, r := range api.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// Zones come from GET /zones, every page (one zone a page here); ZoneFor
// picks the longest holding the name.
func TestCloudZonesFollowPagination(t *testing.T) {
	f := newCloudFixture(t, hetznertest.Options{MaxPerPage: 1})
	f.api.AddZone("example.net")
	f.api.AddZone("sub.example.com")
	zones, err := f.p.ListZones(ctx)
	if err != nil || len(zones) != 3 {
		t.Fatalf("ListZones = %v, %v; want 3 zones", zones, err)
	}
	if n := countPrefix(f.api, http.MethodGet, "/v1/zones"); n != 3 {
		t.Errorf("%d zone pages read; want 3", n)
	}
	for name, want := range map[string]string{"_acme-challenge.a.sub.example.com.": "sub.example.com.", "_acme-challenge.example.com.": "example.com."} {
		if z, err := f.p.ZoneFor(ctx, name); z != want || err != nil {
			t.Errorf("ZoneFor(%s) = %q, %v; want %s", name, z, err, want)
		}
	}
	if _, err := f.p.ZoneFor(ctx, "example.org."); err == nil || !strings.Contains(err.Error(), EnvAPIKey) {
		t.Errorf("zone of no project: %v; want a hint at the DNS Console", err)
	}
}

// A throttled call (429 rate_limit_exceeded, RateLimit-Reset and no
// Retry-After) waits until the reset and is repeated; a reset beyond
// MaxWait fails with the time to retry.
func TestCloudThrottleWaitsForRateLimitReset(t *testing.T) {
	f := newCloudFixture(t, hetznertest.Options{})
	f.p.Now = time.Now // the fake's reset is wall-clock time
	f.api.Throttle(1, 5*time.Second)
	if _, err := f.p.AppendRecords(ctx, "example.com.", cloudRecs[:1]); err != nil {
		t.Fatal(err)
	}
	if len(f.sleeps) == 0 || f.sleeps[0] < 3*time.Second || f.sleeps[0] > 6*time.Second {
		t.Errorf("waits %v; want about 5s first", f.sleeps)
	}
	f.api.Throttle(1, time.Hour)
	_, err := f.p.DeleteRecords(ctx, "example.com.", cloudRecs[:1])
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "rate_limit_exceeded" || !strings.Contains(err.Error(), "try again after") {
		t.Fatalf("hour-long throttle: %v", err)
	}
}

func TestCloudErrorsSayWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*fixture)
		zone  string
		want  []string
	}{
		{"wrong token", func(f *fixture) { f.p.APIToken = "wrong-token-0123456789" }, "example.com.", []string{"HTTP 401 unauthorized", EnvAPIToken}},
		{"read-only token", func(f *fixture) { f.api.Fail(1, http.StatusForbidden) }, "example.com.", []string{"forbidden", "Read & Write"}},
		{"zone not in the project", nil, "example.org.", []string{"no zone example.org", EnvAPIKey}},
		{"zone locked past the retries", func(f *fixture) { f.api.Fail(10, http.StatusLocked) }, "example.com.", []string{"locked", "try again"}},
		{"action ends in error", func(f *fixture) { f.api.FailNextAction("rrset_invalid", "the record set is invalid") }, "example.com.", []string{"action", "failed", "rrset_invalid", "the record set is invalid"}},
		{"server errors past the retries", func(f *fixture) { f.api.Fail(10, http.StatusServiceUnavailable) }, "example.com.", []string{"HTTP 503", "try again later"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCloudFixture(t, hetznertest.Options{})
			before := f.api.Records("example.com")
			if tc.setup != nil {
				tc.setup(f)
			}
			_, err := f.p.AppendRecords(ctx, tc.zone, cloudRecs[:1])
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), f.p.APIToken) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error shows the token or spans lines: %v", err)
			}
			if after := f.api.Records("example.com"); !slices.Equal(after, before) {
				t.Errorf("records changed by a failed call:\n%v\n%v", before, after)
			}
		})
	}
}

// A zone locked by another running change is retried, then written.
func TestCloudLockedZoneIsRetried(t *testing.T) {
	f := newCloudFixture(t, hetznertest.Options{})
	f.api.Fail(2, http.StatusLocked)
	if _, err := f.p.AppendRecords(ctx, "example.com.", cloudRecs[:1]); err != nil {
		t.Fatal(err)
	}
	if vals, _ := f.txt("_acme-challenge"); len(vals) != 2 {
		t.Errorf("apex TXT %q", vals)
	}
}

// An action that keeps running past MaxWait is an error saying so.
func TestCloudActionRunningPastMaxWait(t *testing.T) {
	f := newCloudFixture(t, hetznertest.Options{ActionPolls: 1000})
	f.p.MaxWait = 10 * time.Second
	_, err := f.p.AppendRecords(ctx, "example.com.", cloudRecs[:1])
	if err == nil || !strings.Contains(err.Error(), "still running after 10s") {
		t.Fatalf("err = %v", err)
	}
	if n := countPrefix(f.api, http.MethodGet, "/v1/actions/"); n < 5 || n > 11 {
		t.Errorf("%d polls in 10s of test clock", n)
	}
}

func TestCloudTextValues(t *testing.T) {
	for in, want := range map[string]string{
		`"abc"`:         "abc",
		`"a\"b" "c\\d"`: `a"bc\d`,
		`plain`:         "plain",
	} {
		if got := cloudText(in); got != want {
			t.Errorf("cloudText(%s) = %q; want %q", in, got, want)
		}
	}
	if got := cloudText(cloudQuote(`x"y\z`)); got != `x"y\z` {
		t.Errorf("round trip: %q", got)
	}
}
