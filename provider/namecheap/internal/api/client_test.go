package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

type reply struct {
	status int
	file   string // testdata file; "" means empty body
}

// fixtureServer answers each request with the next reply and records the
// decoded form of each request.
type fixtureServer struct {
	t       *testing.T
	mu      sync.Mutex
	replies []reply
	seen    []*http.Request
	forms   []url.Values
}

func (f *fixtureServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, r)
	f.forms = append(f.forms, r.PostForm)
	if len(f.replies) == 0 {
		f.t.Errorf("unexpected request %d", len(f.seen))
		w.WriteHeader(500)
		return
	}
	rep := f.replies[0]
	f.replies = f.replies[1:]
	if rep.file != "" {
		b, err := os.ReadFile("testdata/" + rep.file)
		if err != nil {
			f.t.Fatal(err)
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		if strings.HasSuffix(rep.file, ".html") {
			w.Header().Set("Content-Type", "text/html")
		}
		w.WriteHeader(rep.status)
		_, _ = w.Write(b)
		return
	}
	w.WriteHeader(rep.status)
}

type instantClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *instantClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *instantClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return ctx.Err()
}

const testKey = "s3cr3t+key/with=odd&chars"

func newClient(t *testing.T, replies ...reply) (*Client, *fixtureServer, *instantClock) {
	f := &fixtureServer{t: t, replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	clock := &instantClock{now: time.Unix(1_700_000_000, 0)}
	return &Client{
		Endpoint: srv.URL + "/xml.response",
		APIUser:  "apiuser",
		APIKey:   testKey,
		ClientIP: "198.51.100.7",
		Clock:    clock,
	}, f, clock
}

func TestGetHostsDecodesLiveShape(t *testing.T) {
	c, f, _ := newClient(t, reply{200, "getHosts_success.xml"})
	res, err := c.GetHosts(context.Background(), "example", "org")
	if err != nil {
		t.Fatal(err)
	}
	if res.Domain != "example.org" || res.EmailType != "MX" || !res.IsUsingOurDNS || len(res.Hosts) != 6 {
		t.Fatalf("result = %+v", res)
	}
	caa := res.Hosts[3]
	if caa.Address != `0 issue "letsencrypt.org"` || caa.HostId != "504" || caa.TTL != "1799" || caa.MXPref != "10" {
		t.Errorf("CAA row = %+v", caa)
	}
	if !res.Hosts[4].IsDDNSEnabled || res.Hosts[0].IsDDNSEnabled {
		t.Errorf("IsDDNSEnabled not read")
	}
	if got := res.Hosts[5].Address; got != "v=DMARC1; p=none; rua=mailto:a+b@example.org & <x>" {
		t.Errorf("escaped TXT = %q", got)
	}
	// Every command is a POST with a form body and an empty query string.
	r := f.seen[0]
	if r.Method != http.MethodPost || r.URL.RawQuery != "" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("request %s %q %q", r.Method, r.URL.RawQuery, r.Header.Get("Content-Type"))
	}
	form := f.forms[0]
	for k, v := range map[string]string{"ApiUser": "apiuser", "ApiKey": testKey, "UserName": "apiuser", "ClientIp": "198.51.100.7", "Command": CmdGetHosts, "SLD": "example", "TLD": "org"} {
		if form.Get(k) != v {
			t.Errorf("form %s = %q, want %q", k, form.Get(k), v)
		}
	}
}

func TestGetHostsAcceptsDocShapeHostElements(t *testing.T) {
	c, _, _ := newClient(t, reply{200, "getHosts_docShape.xml"})
	res, err := c.GetHosts(context.Background(), "domain", "com")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hosts) != 2 || res.Hosts[1].Name != "www" || res.EmailType != "" {
		t.Fatalf("hosts = %+v", res)
	}
}

func TestGetHostsEmptyZoneIsConfirmed(t *testing.T) {
	c, _, _ := newClient(t, reply{200, "getHosts_empty.xml"})
	res, err := c.GetHosts(context.Background(), "example", "net")
	if err != nil || len(res.Hosts) != 0 || res.EmailType != "NONE" {
		t.Fatalf("res = %+v, err = %v", res, err)
	}
}

func TestGetHostsWithoutResultIsNotConfirmed(t *testing.T) {
	c, _, _ := newClient(t, reply{200, "getHosts_okNoResult.xml"})
	if _, err := c.GetHosts(context.Background(), "example", "net"); err == nil {
		t.Fatal("want an error for an OK answer without DomainDNSGetHostsResult")
	}
}

func TestErrorsAreTypedAndPermanentOnesNotRetried(t *testing.T) {
	for _, tc := range []struct {
		file   string
		number int
		want   string
	}{
		{"getHosts_error2019166.xml", 2019166, "Domain not found"},
		{"error_1011150.xml", 1011150, WhitelistURL},
		{"error_1011102.xml", 1011102, "NAMECHEAP_API_KEY"},
	} {
		c, f, _ := newClient(t, reply{200, tc.file})
		_, err := c.GetHosts(context.Background(), "example", "org")
		var ae *Error
		if !errors.As(err, &ae) || ae.Number != tc.number {
			t.Fatalf("%s: err = %v", tc.file, err)
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), testKey) {
			t.Errorf("%s: message %q", tc.file, err)
		}
		if IsRetryable(err) || len(f.seen) != 1 {
			t.Errorf("%s: retried a permanent error (%d calls)", tc.file, len(f.seen))
		}
	}
}

func TestInvalidRequestIPNamesTheIPAndWhereToWhitelist(t *testing.T) {
	c, _, _ := newClient(t, reply{200, "error_1011150.xml"})
	_, err := c.GetHosts(context.Background(), "example", "org")
	msg := err.Error()
	if !strings.Contains(msg, "ClientIp 198.51.100.7") || !strings.Contains(msg, WhitelistURL) || strings.Contains(msg, "\n") {
		t.Fatalf("message = %q", msg)
	}
}

func TestThrottleAndTransientErrorsAreRetriedWithBackoff(t *testing.T) {
	c, f, clock := newClient(t,
		reply{405, ""},
		reply{200, "error_500000.xml"},
		reply{502, ""},
		reply{200, "getHosts_success.xml"})
	if _, err := c.GetHosts(context.Background(), "example", "org"); err != nil {
		t.Fatal(err)
	}
	if len(f.seen) != 4 {
		t.Fatalf("calls = %d", len(f.seen))
	}
	want := []time.Duration{ThrottleBackoff, 30 * time.Second, 30 * time.Second}
	if len(clock.slept) != 3 || clock.slept[0] != want[0] || clock.slept[1] != want[1] || clock.slept[2] != want[2] {
		t.Errorf("backoff = %v, want %v", clock.slept, want)
	}
}

func TestRetriesGiveUp(t *testing.T) {
	c, f, _ := newClient(t, reply{405, ""}, reply{405, ""}, reply{405, ""})
	c.MaxAttempts = 3
	_, err := c.GetHosts(context.Background(), "example", "org")
	var te *ThrottledError
	if !errors.As(err, &te) || len(f.seen) != 3 {
		t.Fatalf("err = %v after %d calls", err, len(f.seen))
	}
}

func TestSetHostsIsNeverRetriedHere(t *testing.T) {
	c, f, _ := newClient(t, reply{405, ""})
	err := c.SetHosts(context.Background(), "example", "org", "MX", []Host{{Name: "@", Type: "A", Address: "192.0.2.1", MXPref: "10", TTL: "1799"}})
	if !IsRetryable(err) || len(f.seen) != 1 {
		t.Fatalf("err = %v, calls = %d", err, len(f.seen))
	}
}

func TestSetHostsFormEncodesEveryField(t *testing.T) {
	c, f, _ := newClient(t, reply{200, "setHosts_success.xml"})
	hosts := []Host{
		{Name: "@", Type: "CAA", Address: `0 issue "letsencrypt.org"`, MXPref: "10", TTL: "1799"},
		{Name: "_dmarc", Type: "TXT", Address: "a+b & c=d; \"q\" <x> é", MXPref: "10", TTL: "1800"},
		{Name: "@", Type: "MX", Address: "mx.example.net.", MXPref: "5", TTL: "3600"},
	}
	if err := c.SetHosts(context.Background(), "example", "org", "MX", hosts); err != nil {
		t.Fatal(err)
	}
	form := f.forms[0]
	if form.Get("EmailType") != "MX" || form.Get("Command") != CmdSetHosts {
		t.Errorf("form = %v", form)
	}
	for i, h := range hosts {
		n := string(rune('1' + i))
		if form.Get("HostName"+n) != h.Name || form.Get("RecordType"+n) != h.Type || form.Get("Address"+n) != h.Address || form.Get("MXPref"+n) != h.MXPref || form.Get("TTL"+n) != h.TTL {
			t.Errorf("row %s: form %v", n, form)
		}
	}
	if form.Has("HostName4") {
		t.Error("extra row")
	}
}

func TestSetHostsOmitsEmptyEmailType(t *testing.T) {
	c, f, _ := newClient(t, reply{200, "setHosts_success.xml"})
	if err := c.SetHosts(context.Background(), "example", "org", "", nil); err != nil {
		t.Fatal(err)
	}
	if f.forms[0].Has("EmailType") {
		t.Error("EmailType sent although getHosts returned none")
	}
}

func TestSetHostsSuccessNeedsIsSuccess(t *testing.T) {
	c, _, _ := newClient(t, reply{200, "setHosts_okNotSuccess.xml"})
	if err := c.SetHosts(context.Background(), "example", "org", "", nil); err == nil {
		t.Fatal("Status=OK with IsSuccess=false must fail")
	}
	c, _, _ = newClient(t, reply{200, "setHosts_errorCAA.xml"})
	err := c.SetHosts(context.Background(), "example", "org", "", nil)
	var ae *Error
	if !errors.As(err, &ae) || ae.Number != ErrNumValidation || IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestHTMLPageIsAnHTTPError(t *testing.T) {
	c, _, _ := newClient(t, reply{404, "html_404.html"})
	_, err := c.GetHosts(context.Background(), "example", "org")
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 404 || IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
	c, _, _ = newClient(t, reply{200, "html_404.html"})
	if _, err := c.GetHosts(context.Background(), "example", "org"); !errors.As(err, &he) {
		t.Fatalf("200 with HTML: err = %v", err)
	}
}

func TestGetListPagesToTheEnd(t *testing.T) {
	c, f, _ := newClient(t, reply{200, "getList_page1.xml"}, reply{200, "getList_page2.xml"})
	ds, err := c.GetList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 || ds[2].Name != "example.com.au" || ds[1].IsOurDNS {
		t.Fatalf("domains = %+v", ds)
	}
	if f.forms[1].Get("Page") != "2" || f.forms[0].Get("PageSize") != "100" {
		t.Errorf("paging params %v %v", f.forms[0], f.forms[1])
	}
}

func TestLimiterKeepsTwentyCallsInAnyMinute(t *testing.T) {
	clock := &instantClock{now: time.Unix(1_700_000_000, 0)}
	lim := NewLimiter()
	var times []time.Time
	for range 60 {
		if err := waitLimiter(context.Background(), lim, clock); err != nil {
			t.Fatal(err)
		}
		times = append(times, clock.Now())
	}
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < time.Minute; j++ {
			n++
		}
		if n > Budget {
			t.Fatalf("%d calls in the minute from call %d", n, i)
		}
	}
}

func TestCheckEndpoint(t *testing.T) {
	for _, ok := range []string{ProductionEndpoint, SandboxEndpoint, "http://127.0.0.1:8080/xml.response", "http://[::1]:9/x", "http://localhost:1/x"} {
		if _, err := CheckEndpoint(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://api.namecheap.com/xml.response", "ftp://x/", "api.namecheap.com", "http://10.0.0.1/x", "https://user:pass@api.namecheap.com/xml.response"} {
		if _, err := CheckEndpoint(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestDiscoverClientIP(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{{" 203.0.113.9\n", true}, {"2001:db8::1", false}, {"<html>", false}, {"", false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(tc.body)) }))
		ip, err := DiscoverClientIP(context.Background(), NewHTTPClient(nil, nil), srv.URL)
		srv.Close()
		if (err == nil) != tc.ok || (tc.ok && ip.String() != "203.0.113.9") {
			t.Errorf("%q: ip %v err %v", tc.body, ip, err)
		}
	}
}

func TestHTTPClientDialsIPv4Only(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	l, err := netListen("tcp6", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback here:", err)
	}
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	// Over tcp6 the server is reachable; the client must refuse to use it.
	if resp, err := http.Get(srv.URL); err == nil {
		resp.Body.Close()
	} else {
		t.Skip("IPv6 loopback not usable:", err)
	}
	_, err = NewHTTPClient(nil, nil).Get(srv.URL)
	if err == nil {
		t.Fatal("client reached an IPv6-only server")
	}
}

func TestKeyIsRedacted(t *testing.T) {
	c := &Client{APIKey: testKey}
	if got := c.redact("x " + testKey + " " + url.QueryEscape(testKey)); strings.Contains(got, testKey) || strings.Contains(got, url.QueryEscape(testKey)) {
		t.Fatal(got)
	}

}
