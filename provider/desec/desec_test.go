package desec

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

	"github.com/strictacme/strictacme/internal/providers/racetest"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/txtdata"
	"github.com/strictacme/strictacme/internal/version"
	"github.com/strictacme/strictacme/provider/desec/desectest"
)

const foreign = "another-clients-value"

// fixture is a fake deSEC account holding example.com with records of the
// operator's and another client's TXT value at the apex challenge name
// (TTL 7200, which a write must keep), and a provider whose waits are
// recorded instead of slept.
type fixture struct {
	api    *desectest.Server
	p      *Provider
	sleeps []time.Duration
}

func newFixture(t *testing.T, opts desectest.Options) *fixture {
	t.Helper()
	api := desectest.NewServer(opts)
	t.Cleanup(api.Close)
	api.AddDomain("example.com",
		desectest.RRset{Subname: "", Type: "A", TTL: 3600, Records: []string{"192.0.2.10"}},
		desectest.RRset{Subname: "", Type: "MX", TTL: 3600, Records: []string{"10 mx.example.net."}},
		desectest.RRset{Subname: "", Type: "TXT", TTL: 3600, Records: []string{`"v=spf1 include:mail.example.net ~all"`}},
		desectest.RRset{Subname: "www", Type: "CNAME", TTL: 3600, Records: []string{"example.com."}},
		desectest.RRset{Subname: "_acme-challenge", Type: "TXT", TTL: 7200, Records: []string{`"` + foreign + `"`}},
	)
	f := &fixture{api: api}
	var mu sync.Mutex
	f.p = &Provider{Token: api.Token(), Endpoint: api.URL(), LockDir: t.TempDir(), Sleep: func(_ context.Context, d time.Duration) error {
		mu.Lock()
		f.sleeps = append(f.sleeps, d)
		mu.Unlock()
		return nil
	}}
	return f
}

func (f *fixture) txt(sub string) []string {
	r, ok := f.api.RRset("example.com", sub, "TXT")
	if !ok {
		return nil
	}
	var out []string
	for _, rec := range r.Records {
		v, err := txtdata.Unquote(rec)
		if err != nil {
			panic(err)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// others is every RRset but the challenge TXT, as text.
func (f *fixture) others() string {
	var b strings.Builder
	for _, r := range f.api.RRsets("example.com") {
		if !strings.HasPrefix(r.Subname, "_acme-challenge") {
			fmt.Fprintf(&b, "%+v\n", r)
		}
	}
	return b.String()
}

func (f *fixture) patches() int {
	n := 0
	for _, r := range f.api.Requests() {
		if r.Method == http.MethodPatch {
			n++
		}
	}
	return n
}

var ctx = context.Background()

// The RRset-replace API: values for an apex, its wildcard (same name) and
// a subdomain go in ONE bulk PATCH; the RRset at the apex name keeps the
// other client's value and its TTL of 7200; the new RRset gets the
// domain's minimum TTL (3600), not the 60 s asked. Deleting removes
// exactly our values in one PATCH: the foreign value stays with its TTL,
// the emptied RRset is gone, every other RRset is as before.
func TestWritesReplaceWholeRRsetsKeepingForeignValuesAndTTL(t *testing.T) {
	f := newFixture(t, desectest.Options{})
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
	if len(got) != 3 || f.patches() != 1 {
		t.Fatalf("appended %d records in %d PATCHes; want 3 in 1", len(got), f.patches())
	}
	if v := f.txt("_acme-challenge"); !slices.Equal(v, []string{"another-clients-value", "apex-value", "wildcard-value"}) {
		t.Errorf("apex challenge RRset: %q", v)
	}
	if r, _ := f.api.RRset("example.com", "_acme-challenge", "TXT"); r.TTL != 7200 {
		t.Errorf("apex challenge RRset TTL %d, want the 7200 it had", r.TTL)
	}
	if r, _ := f.api.RRset("example.com", "_acme-challenge.sub", "TXT"); r.TTL != 3600 {
		t.Errorf("new RRset TTL %d, want the domain minimum 3600", r.TTL)
	}
	// Appending again writes nothing.
	if got, err := f.p.AppendRecords(ctx, "example.com.", recs[:1]); err != nil || len(got) != 0 || f.patches() != 1 {
		t.Fatalf("re-append: %v, %v, %d PATCHes", got, err, f.patches())
	}
	got, err = f.p.DeleteRecords(ctx, "example.com.", recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || f.patches() != 2 {
		t.Fatalf("deleted %d records in %d PATCHes so far; want 3 in 2", len(got), f.patches())
	}
	if v := f.txt("_acme-challenge"); !slices.Equal(v, []string{foreign}) {
		t.Errorf("after delete, apex challenge RRset: %q", v)
	}
	if r, _ := f.api.RRset("example.com", "_acme-challenge", "TXT"); r.TTL != 7200 {
		t.Errorf("after delete, TTL %d", r.TTL)
	}
	if _, ok := f.api.RRset("example.com", "_acme-challenge.sub", "TXT"); ok {
		t.Error("the emptied RRset is still there")
	}
	if after := f.others(); after != before {
		t.Errorf("other RRsets changed:\n%s\n%s", before, after)
	}
	// Deleting values that are not there writes nothing.
	if got, err := f.p.DeleteRecords(ctx, "example.com.", recs); err != nil || len(got) != 0 || f.patches() != 2 {
		t.Fatalf("second delete: %v, %v, %d PATCHes", got, err, f.patches())
	}
}

// A value another writer added between two of our writes is kept: every
// change reads the RRset right before replacing it.
func TestValueAddedByAnotherWriterMeanwhileIsKept(t *testing.T) {
	f := newFixture(t, desectest.Options{})
	ours := libdns.TXT{Name: "_acme-challenge", Text: "ours"}
	if _, err := f.p.AppendRecords(ctx, "example.com.", []libdns.Record{ours}); err != nil {
		t.Fatal(err)
	}
	f.api.SetRRset("example.com", desectest.RRset{Subname: "_acme-challenge", Type: "TXT", TTL: 7200, Records: []string{`"` + foreign + `"`, `"ours"`, `"late-arrival"`}})
	if _, err := f.p.DeleteRecords(ctx, "example.com.", []libdns.Record{ours}); err != nil {
		t.Fatal(err)
	}
	if v := f.txt("_acme-challenge"); !slices.Equal(v, []string{foreign, "late-arrival"}) {
		t.Errorf("after delete: %q", v)
	}
}

// TTLs: DESEC_TTL wins over the records' TTL but is raised to the
// domain's minimum; a domain with a lowered minimum gets what was asked.
func TestNewRRsetTTL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		minimum int
		set     time.Duration
		asked   time.Duration
		want    int
	}{
		{"asked below the minimum", 3600, 0, time.Minute, 3600},
		{"TTL setting above the minimum", 3600, 2 * time.Hour, time.Minute, 7200},
		{"domain with a lowered minimum", 60, 0, 2 * time.Minute, 120},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, desectest.Options{MinimumTTL: tc.minimum})
			f.p.TTL = tc.set
			if _, err := f.p.AppendRecords(ctx, "example.com", []libdns.Record{libdns.TXT{Name: "_acme-challenge.x", TTL: tc.asked, Text: "v"}}); err != nil {
				t.Fatal(err)
			}
			if r, _ := f.api.RRset("example.com", "_acme-challenge.x", "TXT"); r.TTL != tc.want {
				t.Errorf("TTL %d, want %d", r.TTL, tc.want)
			}
		})
	}
}

// Pagination: with pages of 2, the domain list and the TXT RRsets span
// several pages; every listing sends cursor= and follows the Link
// headers, so zones past the first page are found and a write keeps
// values on later pages.
func TestListingsFollowCursorPagination(t *testing.T) {
	f := newFixture(t, desectest.Options{PageSize: 2})
	for i := range 5 {
		f.api.AddDomain(fmt.Sprintf("zone%d.example", i))
	}
	for i := range 5 {
		f.api.SetRRset("example.com", desectest.RRset{Subname: fmt.Sprintf("t%d", i), Type: "TXT", TTL: 3600, Records: []string{`"x"`}})
	}
	zones, err := f.p.ListZones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(zones) != 6 {
		t.Errorf("ListZones: %d zones, want 6: %v", len(zones), zones)
	}
	recs, err := f.p.GetRecords(ctx, "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 10 {
		t.Errorf("GetRecords: %d records, want 10", len(recs))
	}
	// t4 is on the last page of TXT RRsets.
	if _, err := f.p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "t4", Text: "y"}}); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.api.RRset("example.com", "t4", "TXT"); len(r.Records) != 2 {
		t.Errorf("t4 after append: %v", r.Records)
	}
	for _, r := range f.api.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/domains/") && !strings.Contains(r.Query, "owns_qname") && !strings.Contains(r.Query, "cursor=") {
			t.Errorf("a listing without cursor: %s?%s", r.Path, r.Query)
		}
	}
}

// Zones come from deSEC: owns_qname picks the longest domain of the
// account, and a name in no domain of the account is a one-line error.
func TestZoneForAsksWhichDomainOwnsTheName(t *testing.T) {
	f := newFixture(t, desectest.Options{})
	f.api.AddDomain("dev.example.com")
	for fqdn, want := range map[string]string{
		"_acme-challenge.example.com.":         "example.com.",
		"_acme-challenge.a.dev.example.com.":   "dev.example.com.",
		"_acme-challenge.b.example.com":        "example.com.",
		"_acme-challenge.deV.Example.com.":     "dev.example.com.",
		"_acme-challenge.www.dev.example.com.": "dev.example.com.",
	} {
		if got, err := f.p.ZoneFor(ctx, fqdn); err != nil || got != want {
			t.Errorf("ZoneFor(%s) = %q, %v; want %q", fqdn, got, err, want)
		}
	}
	_, err := f.p.ZoneFor(ctx, "_acme-challenge.example.org.")
	if err == nil || !strings.Contains(err.Error(), "no domain in this deSEC account holds _acme-challenge.example.org") {
		t.Errorf("unknown name: %v", err)
	}
}

// Throttling: a 429 is waited out for its Retry-After (on the provider's
// clock, nothing sleeps here) and the call repeated; a Retry-After past
// MaxWait fails at once with the time to retry and deSEC's limits.
func TestThrottledCallsWaitForRetryAfter(t *testing.T) {
	f := newFixture(t, desectest.Options{})
	f.api.Throttle(2, 3*time.Second)
	if _, err := f.p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.sleeps, []time.Duration{3 * time.Second, 3 * time.Second}) {
		t.Errorf("waited %v, want 3s twice", f.sleeps)
	}
	if v := f.txt("_acme-challenge"); len(v) != 2 {
		t.Errorf("after the throttled write: %q", v)
	}

	f.sleeps = nil
	now := time.Date(2026, 12, 3, 4, 0, 0, 0, time.UTC)
	f.p.Now = func() time.Time { return now }
	f.api.Throttle(1, time.Hour)
	_, err := f.p.DeleteRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || !ae.RetryAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("throttled for an hour: %v", err)
	}
	for _, want := range []string{"after 2026-12-03T05:00:00Z", "2/s, 15/min, 100/h, 300/day", "Request was throttled"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if len(f.sleeps) != 0 {
		t.Errorf("waited %v for an hour-long throttle", f.sleeps)
	}
}

// deSEC's errors become one line each that says what to do; the token
// never appears in them.
func TestAPIErrorsSayWhatToDo(t *testing.T) {
	rec := []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}
	for _, tc := range []struct {
		name  string
		setup func(*fixture)
		zone  string
		want  []string
	}{
		{"wrong token", func(f *fixture) { f.p.Token = "wrong-token-0123456789abcdef" }, "example.com.", []string{"HTTP 401", "Invalid token", EnvToken}},
		{"token policy forbids writes", func(f *fixture) { f.api.DenyWrites("example.com") }, "example.com.", []string{"HTTP 403", "scoping policy"}},
		{"domain not in the account", func(*fixture) {}, "example.org.", []string{"HTTP 404", "no such domain"}},
		{"server errors past the retries", func(f *fixture) { f.api.Fail(10, http.StatusBadGateway) }, "example.com.", []string{"HTTP 502", "try again later"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, desectest.Options{})
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
			if strings.Contains(err.Error(), f.p.Token) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error shows the token or spans lines: %v", err)
			}
		})
	}
}

// A 5xx is retried after a pause on the provider's clock.
func TestServerErrorIsRetried(t *testing.T) {
	f := newFixture(t, desectest.Options{})
	f.api.Fail(1, http.StatusServiceUnavailable)
	if _, err := f.p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if len(f.sleeps) != 1 {
		t.Errorf("waits: %v", f.sleeps)
	}
}

// A bulk request deSEC refuses (here: a TTL under the minimum, which the
// provider never sends, so the test sends it through the client) is
// refused whole: nothing is written, and the error names the RRset and
// the TTL setting.
func TestRefusedBulkWritesNothing(t *testing.T) {
	f := newFixture(t, desectest.Options{})
	c, err := f.p.client()
	if err != nil {
		t.Fatal(err)
	}
	low, ok := 60, 3600
	body := []rrset{
		{Subname: "_acme-challenge.a", Type: "TXT", TTL: &ok, Records: []string{`"a"`}},
		{Subname: "_acme-challenge.b", Type: "TXT", TTL: &low, Records: []string{`"b"`}},
	}
	_, err = c.do(ctx, request{op: "writing zone example.com", method: http.MethodPatch, path: "domains/example.com/rrsets/", body: body}, nil)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !strings.Contains(err.Error(), "RRset 2: ttl: Ensure this value is greater than or equal to 3600") || !strings.Contains(err.Error(), EnvTTL) {
		t.Fatalf("err = %v", err)
	}
	if _, ok := f.api.RRset("example.com", "_acme-challenge.a", "TXT"); ok {
		t.Error("the valid half of a refused bulk was written")
	}
}

// Concurrent changes to one zone through one Provider take turns: each
// is a read-modify-write of whole RRsets, and no value is lost.
func TestConcurrentWritesToOneRRsetLoseNothing(t *testing.T) {
	f := newFixture(t, desectest.Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: fmt.Sprintf("v%d", i)}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if v := f.txt("_acme-challenge"); len(v) != 9 {
		t.Errorf("after 8 concurrent appends: %q", v)
	}
}

// Every request carries the project's User-Agent and the token.
func TestRequestsCarryUserAgentAndToken(t *testing.T) {
	f := newFixture(t, desectest.Options{})
	if _, err := f.p.ZoneFor(ctx, "_acme-challenge.example.com."); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.api.Requests() {
		if r.UserAgent != version.UserAgent() || !r.Authorized {
			t.Errorf("%s %s: User-Agent %q, token sent %v", r.Method, r.Path, r.UserAgent, r.Authorized)
		}
	}
}

// Deleting without a value, or a type other than TXT, is refused before
// anything is sent.
func TestOnlyExactTXTValuesAreWritten(t *testing.T) {
	f := newFixture(t, desectest.Options{})
	if _, err := f.p.DeleteRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge"}}); err == nil {
		t.Error("delete without a value: no error")
	}
	if _, err := f.p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.Address{Name: "x"}}); err == nil {
		t.Error("append of an A record: no error")
	}
	if n := len(f.api.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	if v := f.txt("_acme-challenge"); !slices.Equal(v, []string{foreign}) {
		t.Errorf("TXT: %q", v)
	}
}

func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("file-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	p, err := FromEnv(env(EnvToken+"_FILE", file, EnvTTL, "7200", EnvServingLag, "90s"))
	if err != nil || p.Token != "file-token-0123456789" || p.TTL != 2*time.Hour || p.ServingLag() != 90*time.Second {
		t.Fatalf("FromEnv = %+v, %v", p, err)
	}
	if p, err := FromEnv(env(EnvToken, "t", EnvServingLag, "0")); err != nil || p.ServingLag() != 0 {
		t.Errorf("lag 0: %v, %v", p, err)
	}
	if p, err := FromEnv(env(EnvToken, "t")); err != nil || p.ServingLag() != DefaultServingLag {
		t.Errorf("default lag: %v, %v", p, err)
	}
	for name, tc := range map[string]struct {
		get  func(string) (string, bool)
		want string
	}{
		"no token":        {env(), EnvToken + " is not set"},
		"both forms":      {env(EnvToken, "a", EnvToken+"_FILE", file), "both"},
		"TTL not seconds": {env(EnvToken, "a", EnvTTL, "1h"), EnvTTL},
		"plain http":      {env(EnvToken, "a", EnvEndpoint, "http://desec.example/api/v1/"), "plain http"},
		"bad lag":         {env(EnvToken, "a", EnvServingLag, "soon"), EnvServingLag},
	} {
		if _, err := FromEnv(tc.get); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", name, err, tc.want)
		}
	}
}

// DL04 across processes: two runs on one machine (two Providers, each
// with its own in-process lock, like two processes with different state directories) write the
// apex and the wildcard value of one name into the same RRset at once,
// each reading the RRset before the other writes: with the machine's
// lock directory shared they take turns and both values stay. With
// separate lock directories the fake loses one value to the later
// rewrite of the RRset, which shows that the race the lock prevents is
// real.
func TestTwoRunsWritingOneRRsetLoseNeitherValue(t *testing.T) {
	for _, tt := range []struct {
		name   string
		shared bool
	}{
		{"shared lock directory", true},
		{"separate lock directories", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, desectest.Options{})
			second := &Provider{Token: f.api.Token(), Endpoint: f.api.URL(), LockDir: f.p.LockDir, Sleep: f.p.Sleep}
			if !tt.shared {
				second.LockDir = t.TempDir()
			}
			var b racetest.PairReads
			f.api.OnRead(b.Read)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, w := range []struct {
				p     *Provider
				value string
			}{{f.p, "apex-token"}, {second, "wildcard-token"}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = w.p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: w.value}})
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			got := f.txt("_acme-challenge")
			kept := slices.Contains(got, "apex-token") && slices.Contains(got, "wildcard-token") && slices.Contains(got, foreign)
			if kept != tt.shared {
				t.Errorf("TXT after both writes: %q (both values kept: %v, want %v)", got, kept, tt.shared)
			}
		})
	}
}
