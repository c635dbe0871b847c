package namecheap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/version"
	"github.com/strictacme/strictacme/provider/namecheap/internal/api"
	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

var ctx = context.Background()

// TestCase_NC01 — "_acme-challengecluster": the HostName is the FQDN minus
// ".SLD.TLD" joined with a dot, "@" never gets a trailing dot, and
// multi-label suffixes split on the public-suffix list.
func TestCase_NC01(t *testing.T) {
	for _, tc := range []struct {
		fqdn, zone, sld, tld, host string
	}{
		{"_acme-challenge.example.com.", "example.com", "example", "com", "_acme-challenge"},
		{"_acme-challenge.cluster.example.com.", "example.com", "example", "com", "_acme-challenge.cluster"},
		{"_acme-challenge.a.b.c.example.com", "example.com", "example", "com", "_acme-challenge.a.b.c"},
		{"_acme-challenge.www.example.co.uk.", "example.co.uk", "example", "co.uk", "_acme-challenge.www"},
		{"_acme-challenge.test.com.au.", "test.com.au", "test", "com.au", "_acme-challenge"},
		{"_acme-challenge.shop.Example.WEBSITE.", "example.website", "example", "website", "_acme-challenge.shop"},
		{"_acme-challenge.www.za.com.", "za.com", "za", "com", "_acme-challenge.www"}, // private PSL entry ignored
		{"_acme-challenge.bücher.de.", "xn--bcher-kva.de", "xn--bcher-kva", "de", "_acme-challenge"},
	} {
		t.Run(tc.fqdn, func(t *testing.T) {
			w := newWorld(t, namecheaptest.Options{}, nil)
			w.srv.AddZone(tc.zone, namecheaptest.ZoneOptions{Hosts: baseZone()})
			zone, err := w.p.ZoneFor(ctx, tc.fqdn)
			if err != nil || zone != tc.zone+"." {
				t.Fatalf("ZoneFor = %q, %v", zone, err)
			}
			host, err := HostName(tc.fqdn, zone)
			if err != nil || host != tc.host {
				t.Fatalf("HostName = %q, %v; want %q", host, err, tc.host)
			}
			// The absolute name works as a record name too.
			if _, err := w.p.AppendRecords(ctx, zone, []libdns.Record{txt(strings.TrimSuffix(tc.fqdn, ".")+".", "v")}); err != nil {
				t.Fatal(err)
			}
			if hasTXT(w.srv.Hosts(tc.zone), tc.host, "v") != 1 {
				t.Fatalf("host %q not written: %+v", tc.host, w.srv.Hosts(tc.zone))
			}
			for _, r := range w.srv.Requests() {
				if r.Params.Get("sld") != tc.sld || r.Params.Get("tld") != tc.tld {
					t.Errorf("%s sent SLD=%q TLD=%q", r.Command, r.Params.Get("sld"), r.Params.Get("tld"))
				}
			}
		})
	}
}

// TestCase_NC02 — an empty but confirmed zone works; any non-OK, partial or
// unparsable getHosts aborts before setHosts.
func TestCase_NC02(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.net", namecheaptest.ZoneOptions{})
	if _, err := w.p.AppendRecords(ctx, "example.net.", []libdns.Record{txt("_acme-challenge", "v")}); err != nil {
		t.Fatalf("present into an empty zone: %v", err)
	}
	if h := w.srv.Hosts("example.net"); len(h) != 1 || hasTXT(h, "_acme-challenge", "v") != 1 {
		t.Fatalf("zone = %+v", h)
	}

	okNoResult := `<?xml version="1.0" encoding="utf-8"?>
<ApiResponse Status="OK" xmlns="http://api.namecheap.com/xml.response"><Errors /><Warnings /><RequestedCommand>namecheap.domains.dns.gethosts</RequestedCommand><CommandResponse Type="namecheap.domains.dns.getHosts" /><Server>PHX01SBAPIEXT05</Server><GMTTimeDifference>--4:00</GMTTimeDifference><ExecutionTime>0.01</ExecutionTime></ApiResponse>`
	for name, f := range map[string]namecheaptest.Fault{
		"error envelope":         {Number: 4023330, Message: "Unable to get DNS hosts from list"},
		"unhandled":              {Number: 5050900, Message: "Object reference not set to an instance of an object."},
		"html with 200":          {Body: "<html><body>Service Unavailable</body></html>"},
		"OK without result":      {Body: okNoResult},
		"truncated XML":          {Body: `<?xml version="1.0"?><ApiResponse Status="OK"><CommandResponse><DomainDNSGetHostsResult Domain="example.org"><host Name="@"`},
		"HTTP 500 with no body":  {HTTPStatus: 500},
		"custom name servers":    {Number: 2030288, Message: "Cannot complete this command as this domain is not using proper DNS servers"},
		"not in account anymore": {Number: 2019166, Message: "Domain not found"},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, namecheaptest.Options{}, nil)
			w.srv.AddZone("example.org", namecheaptest.ZoneOptions{Hosts: baseZone()})
			before := zoneKeys(w.srv.Hosts("example.org"))
			for range 5 { // enough for every retry of a transient fault
				w.srv.InjectError("getHosts", f)
			}
			_, err := w.p.AppendRecords(ctx, "example.org.", []libdns.Record{txt("_acme-challenge", "v")})
			if err == nil {
				t.Fatal("present succeeded on an unconfirmed read")
			}
			if n := w.srv.Calls("setHosts"); n != 0 {
				t.Fatalf("setHosts called %d times after an unconfirmed read", n)
			}
			if !sameKeys(before, zoneKeys(w.srv.Hosts("example.org"))) {
				t.Fatal("zone changed")
			}
		})
	}
}

// TestCase_NC02_LastRecordStays: removing the only record would send an
// empty host list, whose effect Namecheap does not document; it is not
// sent, and the clean-up fails naming the record, so that the caller keeps
// it on its list and the user hears of it.
func TestCase_NC02_LastRecordStays(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.net", namecheaptest.ZoneOptions{Hosts: []namecheaptest.Host{{Name: "_acme-challenge", Type: "TXT", Address: "v", TTL: "300"}}})
	_, err := w.p.DeleteRecords(ctx, "example.net.", []libdns.Record{txt("_acme-challenge", "v")})
	if _, ok := errorsAs[*RefusedError](err); !ok || !strings.Contains(err.Error(), `_acme-challenge TXT "v"`) || !strings.Contains(err.Error(), "dashboard") {
		t.Fatalf("err = %v, want a refusal naming the record and the fix", err)
	}
	if w.srv.Calls("setHosts") != 0 || len(w.srv.Hosts("example.net")) != 1 {
		t.Fatal("an empty host list was sent")
	}
	if !strings.Contains(w.logs.String(), "not sending an empty host list") {
		t.Error("no warning logged")
	}
}

// forwardProxy is a plain HTTP forward proxy on loopback that counts requests.
func forwardProxy(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		out := r.Clone(r.Context())
		out.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 32<<10)
		for {
			m, err := resp.Body.Read(buf)
			_, _ = w.Write(buf[:m])
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestCase_NC03 — CI egress IPs change and the whitelist takes single IPv4s:
// error 1011150 names the ClientIp sent and where to whitelist it, is not
// retried, and a fixed-egress proxy carries discovery and API calls.
func TestCase_NC03(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{Whitelist: []string{"203.0.113.50"}}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
	_, err := w.p.ZoneFor(ctx, "_acme-challenge.example.com")
	ae, ok := errorsAs[*api.Error](err)
	if !ok || ae.Number != 1011150 {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"198.51.100.7", api.WhitelistURL, EnvClientIP} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "\n") || w.srv.TotalCalls() != 1 {
		t.Errorf("multi-line message or retried (%d calls)", w.srv.TotalCalls())
	}

	// Through a fixed-egress proxy: the egress IP is discovered through the
	// proxy and whitelisted, and every API call goes through it.
	proxy, hits := forwardProxy(t)
	pu, _ := url.Parse(proxy.URL)
	w2 := newWorld(t, namecheaptest.Options{Whitelist: []string{"203.0.113.50"}, EgressIP: "203.0.113.50"}, func(c *Config) {
		c.ClientIP = ""
		c.Proxy = http.ProxyURL(pu)
	})
	w2.p.cfg.ClientIPURL = w2.srv.IPURL()
	w2.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
	if _, err := w2.p.AppendRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", "v")}); err != nil {
		t.Fatal(err)
	}
	if got := int(hits.Load()); got != 1+w2.srv.TotalCalls() {
		t.Errorf("proxy saw %d requests, want discovery + %d API calls", got, w2.srv.TotalCalls())
	}
	if ip := w2.srv.Requests()[0].Params.Get("clientip"); ip != "203.0.113.50" {
		t.Errorf("ClientIp sent = %q", ip)
	}
}

// TestCase_NC04 — "Invalid request IP: 127.0.0.1": a discovered loopback
// or private address is never sent; an explicitly configured one is.
func TestCase_NC04(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "10.1.2.3", "192.168.0.10", "100.64.1.1", "169.254.0.9"} {
		w := newWorld(t, namecheaptest.Options{EgressIP: ip}, func(c *Config) { c.ClientIP = "" })
		w.p.cfg.ClientIPURL = w.srv.IPURL()
		w.srv.AddZone("example.com", namecheaptest.ZoneOptions{})
		_, err := w.p.ZoneFor(ctx, "example.com")
		if err == nil || !strings.Contains(err.Error(), ip) || !strings.Contains(err.Error(), "1011150") || !strings.Contains(err.Error(), EnvClientIP) {
			t.Errorf("%s: err = %v", ip, err)
		}
		if w.srv.TotalCalls() != 0 {
			t.Errorf("%s: %d API calls with a non-public ClientIp", ip, w.srv.TotalCalls())
		}
	}
	w := newWorld(t, namecheaptest.Options{}, func(c *Config) { c.ClientIP = "127.0.0.1" })
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{})
	if _, err := w.p.ZoneFor(ctx, "example.com"); err != nil {
		t.Fatalf("explicit loopback ClientIp refused: %v", err)
	}
	if got := w.srv.Requests()[0].Params.Get("clientip"); got != "127.0.0.1" {
		t.Errorf("ClientIp = %q", got)
	}
	// The explanation when Namecheap refuses it.
	w.srv.Whitelist("203.0.113.1")
	w.p.confirmed = map[string]bool{}
	_, err := w.p.GetRecords(ctx, "example.com.")
	if err == nil || !strings.Contains(err.Error(), "ClientIp 127.0.0.1") || !strings.Contains(err.Error(), "whitelist") {
		t.Errorf("err = %v", err)
	}
}

// TestCase_NC05 — NAT'd dual-stack host: an explicit ClientIp is used as
// is (no discovery), IPv6 is refused as ClientIp, and discovery dials IPv4 only.
func TestCase_NC05(t *testing.T) {
	var discoveries atomic.Int32
	disc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		discoveries.Add(1)
		fmt.Fprintln(w, "203.0.113.9")
	}))
	defer disc.Close()
	w := newWorld(t, namecheaptest.Options{}, func(c *Config) { c.ClientIP = "198.51.100.77"; c.ClientIPURL = disc.URL })
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{})
	if _, err := w.p.ZoneFor(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	if discoveries.Load() != 0 || w.srv.Requests()[0].Params.Get("clientip") != "198.51.100.77" {
		t.Errorf("discovered although configured (%d)", discoveries.Load())
	}
	if _, err := New(Config{APIUser: "u", APIKey: "k", ClientIP: "2001:db8::1"}); err == nil || !strings.Contains(err.Error(), "IPv4") {
		t.Errorf("IPv6 ClientIp: %v", err)
	}
	// Discovery from an IPv6-only service must fail: it dials tcp4.
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	v6 := httptest.NewUnstartedServer(disc.Config.Handler)
	v6.Listener = l
	v6.Start()
	defer v6.Close()
	w6 := newWorld(t, namecheaptest.Options{}, func(c *Config) { c.ClientIP = ""; c.ClientIPURL = v6.URL })
	if _, err := w6.p.ZoneFor(ctx, "example.com"); err == nil || !strings.Contains(err.Error(), "discovery") {
		t.Errorf("IPv6 discovery: %v", err)
	}
}

// TestCase_NC06 — a restricted API key cannot call getTldList; the split
// never needs it (nor getList), brand TLDs included.
func TestCase_NC06(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	for _, d := range []string{"example.google", "example.co.uk", "example.com"} {
		w.srv.AddZone(d, namecheaptest.ZoneOptions{})
		w.srv.InjectError(namecheaptest.GetTLDs, namecheaptest.Fault{Number: 1011102, Message: "API Key is invalid or API access has not been enabled"})
		zone, err := w.p.ZoneFor(ctx, "_acme-challenge.www."+d)
		if err != nil || zone != d+"." {
			t.Fatalf("%s: %q %v", d, zone, err)
		}
		if _, err := w.p.AppendRecords(ctx, zone, []libdns.Record{txt("_acme-challenge.www", "v")}); err != nil {
			t.Fatal(err)
		}
	}
	if w.srv.Calls(namecheaptest.GetTLDs) != 0 || w.srv.Calls(namecheaptest.GetList) != 0 {
		t.Fatal("getTldList or getList was called")
	}
}

// TestCase_NC07 — leftovers are deleted by name + value only: never by TTL,
// never by name alone, one row per value, other values at the name stay.
func TestCase_NC07(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: append(baseZone(),
		namecheaptest.Host{Name: "_acme-challenge", Type: "TXT", Address: "another-order", TTL: "1799"},
		namecheaptest.Host{Name: "_acme-challenge", Type: "CNAME", Address: "delegated.example.net.", TTL: "1799"})})
	if _, err := w.p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "ours", TTL: 120 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	w.srv.ResetCalls()

	// Name alone, or another type, is refused without a call.
	for _, r := range []libdns.Record{
		libdns.TXT{Name: "_acme-challenge"},
		libdns.RR{Name: "_acme-challenge", Type: "CNAME", Data: "delegated.example.net."},
		libdns.RR{Name: "_acme-challenge", Type: "TXT"},
	} {
		if _, err := w.p.DeleteRecords(ctx, "example.com.", []libdns.Record{r}); err == nil {
			t.Errorf("%+v: delete accepted", r.RR())
		}
	}
	// A value not in the zone: no write.
	if got, err := w.p.DeleteRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", "never-written")}); err != nil || len(got) != 0 {
		t.Fatalf("%v %v", got, err)
	}
	if w.srv.Calls("setHosts") != 0 {
		t.Fatal("wrote for a value that is not there")
	}
	// Our value with a different TTL (the journal may not know it): deleted.
	got, err := w.p.DeleteRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "ours", TTL: 3600 * time.Second}})
	if err != nil || len(got) != 1 || got[0].RR().Data != "ours" {
		t.Fatalf("deleted %v, %v", got, err)
	}
	hosts := w.srv.Hosts("example.com")
	if hasTXT(hosts, "_acme-challenge", "ours") != 0 || hasTXT(hosts, "_acme-challenge", "another-order") != 1 || len(hosts) != len(baseZone())+2 {
		t.Fatalf("zone after clean-up: %+v", hosts)
	}
}

// TestCase_NC08 — setHosts via GET with many hosts gets an HTML 404: every
// call is a POST with a form body, tested on a 140-record zone. Every call
// also names strictacme and its version as User-Agent.
func TestCase_NC08(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	var hosts []namecheaptest.Host
	for i := range 140 {
		hosts = append(hosts, namecheaptest.Host{Name: fmt.Sprintf("host%03d", i), Type: "TXT", Address: strings.Repeat("x", 100) + fmt.Sprint(i), TTL: "1799"})
	}
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: hosts})
	recs := []libdns.Record{txt("_acme-challenge", "a"), txt("_acme-challenge.www", "b")}
	if _, err := w.p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if _, err := w.p.DeleteRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range w.srv.Requests() {
		if r.Method != http.MethodPost || r.QueryLen != 0 || r.ContentType != "application/x-www-form-urlencoded" {
			t.Errorf("%s sent as %s with %d query bytes, %q", r.Command, r.Method, r.QueryLen, r.ContentType)
		}
		if r.UserAgent != version.UserAgent() {
			t.Errorf("%s sent User-Agent %q, want %q", r.Command, r.UserAgent, version.UserAgent())
		}
	}
	if w.srv.Calls("setHosts") != 2 || len(w.srv.Hosts("example.com")) != 140 {
		t.Fatal("writes did not go through")
	}
	// The fake does what the real front end does with such a GET.
	q := url.Values{"ApiUser": {"apiuser"}, "Command": {namecheaptest.SetHosts}}
	for i := range 140 {
		q.Set(fmt.Sprintf("HostName%d", i+1), fmt.Sprintf("host%03d", i))
	}
	resp, err := http.Get(w.srv.URL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("long GET: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestCase_NC09 — zone not found: one clear error listing every zone tried;
// FreeDNS sub-zones (SLD with a dot) are found by probing; shared domains
// (absent from getList) are found by getHosts.
func TestCase_NC09(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	_, err := w.p.ZoneFor(ctx, "_acme-challenge.www.1605.carlini.com.")
	var nf *ZoneNotFoundError
	if !errors.As(err, &nf) || len(nf.Tried) != 3 {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"carlini.com (error 2019166", "1605.carlini.com", "www.1605.carlini.com", EnvZone, "in this Namecheap account"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}

	w.srv.AddZone("1605.carlini.com", namecheaptest.ZoneOptions{})
	w.srv.AddZone("shared.org", namecheaptest.ZoneOptions{Shared: true})
	w2 := newWorld(t, namecheaptest.Options{}, nil)
	w2.p.cfg.Endpoint = w.srv.URL()
	p2, _ := New(w2.p.cfg)
	if z, err := p2.ZoneFor(ctx, "_acme-challenge.www.1605.carlini.com."); err != nil || z != "1605.carlini.com." {
		t.Fatalf("sub-zone: %q %v", z, err)
	}
	if _, err := p2.AppendRecords(ctx, "1605.carlini.com.", []libdns.Record{txt("_acme-challenge.www", "v")}); err != nil {
		t.Fatal(err)
	}
	if reqs := w.srv.Requests(); reqs[len(reqs)-1].Params.Get("sld") != "1605.carlini" {
		t.Errorf("SLD = %q", reqs[len(reqs)-1].Params.Get("sld"))
	}
	if z, err := p2.ZoneFor(ctx, "shared.org"); err != nil || z != "shared.org." {
		t.Fatalf("shared domain: %q %v", z, err)
	}
	// An explicit zone override is used as is; names outside it are refused.
	w.srv.AddZone("carlini.com", namecheaptest.ZoneOptions{})
	cfg := w2.p.cfg
	cfg.Zone = "1605.carlini.com."
	p3, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if z, err := p3.ZoneFor(ctx, "_acme-challenge.1605.carlini.com"); err != nil || z != "1605.carlini.com." {
		t.Fatalf("override: %q %v", z, err)
	}
	if _, err := p3.ZoneFor(ctx, "_acme-challenge.other.carlini.com"); err == nil || !strings.Contains(err.Error(), EnvZone) {
		t.Errorf("name outside the override: %v", err)
	}
}

// TestCase_NC10 — apex + wildcard in one order: both values at
// _acme-challenge coexist after one write; cleaning one leaves the other.
func TestCase_NC10(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
	var recs []libdns.Record
	for _, name := range []string{"example.com", "*.example.com"} {
		fqdn := "_acme-challenge." + strings.TrimPrefix(name, "*.")
		zone, err := w.p.ZoneFor(ctx, fqdn)
		if err != nil {
			t.Fatal(err)
		}
		host, _ := HostName(fqdn, zone)
		recs = append(recs, txt(host, "value-for-"+name))
	}
	if _, err := w.p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	hosts := w.srv.Hosts("example.com")
	if hasTXT(hosts, "_acme-challenge", "value-for-example.com") != 1 || hasTXT(hosts, "_acme-challenge", "value-for-*.example.com") != 1 {
		t.Fatalf("values do not coexist: %+v", hosts)
	}
	if w.srv.Calls("setHosts") != 1 {
		t.Errorf("setHosts = %d, want 1", w.srv.Calls("setHosts"))
	}
	if _, err := w.p.DeleteRecords(ctx, "example.com.", recs[:1]); err != nil {
		t.Fatal(err)
	}
	hosts = w.srv.Hosts("example.com")
	if hasTXT(hosts, "_acme-challenge", "value-for-example.com") != 0 || hasTXT(hosts, "_acme-challenge", "value-for-*.example.com") != 1 {
		t.Fatalf("after cleaning one: %+v", hosts)
	}
}

// TestCase_NC12 — values with + & quotes ; < > = and non-ASCII survive the
// round trip byte-identical: XML decoded on read, form-encoded on write.
func TestCase_NC12(t *testing.T) {
	var printable strings.Builder
	for c := byte(0x20); c < 0x7f; c++ {
		printable.WriteByte(c)
	}
	values := []string{
		printable.String(),
		`a+b & c; d="e" <f> g=h`,
		"%2B%26 stays encoded-looking",
		"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA+/==",
		"ünïcödé — 日本語 ✓",
		`back\slash`,
		"&amp; literally",
	}
	existing := baseZone()
	for i, v := range values {
		existing = append(existing, namecheaptest.Host{Name: fmt.Sprintf("t%d", i), Type: "TXT", Address: v, TTL: "1799"})
	}
	existing = append(existing,
		namecheaptest.Host{Name: "@", Type: "CAA", Address: `0 iodef "mailto:a+b@example.com"`, TTL: "1799"},
		namecheaptest.Host{Name: "go", Type: "URL301", Address: "https://example.net/?a=1&b=2+3#x", TTL: "1799"})
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{EmailType: "MX", Hosts: existing})
	before := zoneKeys(w.srv.Hosts("example.com"))

	var recs []libdns.Record
	for i, v := range values {
		recs = append(recs, txt(fmt.Sprintf("_acme-challenge.n%d", i), v))
	}
	if _, err := w.p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	got, err := w.p.GetRecords(ctx, "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range values {
		found := false
		for _, r := range got {
			if r.RR().Name == fmt.Sprintf("_acme-challenge.n%d", i) && r.RR().Data == v {
				found = true
			}
		}
		if !found {
			t.Errorf("value %q did not round-trip", v)
		}
	}
	if _, err := w.p.DeleteRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if after := zoneKeys(w.srv.Hosts("example.com")); !sameKeys(before, after) {
		t.Fatalf("zone changed:\n%q\n%q", before, after)
	}
}

// TestCase_NC13 — clean-up removes only the exact value we wrote, not
// another order's value at the same challenge name.
func TestCase_NC13(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
	other, err := New(w.p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.p.AppendRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge.www", "order-1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.AppendRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge.www", "order-2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.p.DeleteRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge.www", "order-1")}); err != nil {
		t.Fatal(err)
	}
	hosts := w.srv.Hosts("example.com")
	if hasTXT(hosts, "_acme-challenge.www", "order-1") != 0 || hasTXT(hosts, "_acme-challenge.www", "order-2") != 1 {
		t.Fatalf("zone: %+v", hosts)
	}
}

// TestInvalidRequestIPNamesTheEgressWhenItDiffersFromClientIp: with
// ClientIp configured and the calls leaving from another address (NAT, a
// proxy), the 1011150 advice named only the configured address. With a
// ClientIp discovery URL configured, the error names both and says which
// one to whitelist. (Case NC03.)
func TestInvalidRequestIPNamesTheEgressWhenItDiffersFromClientIp(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{EgressIP: "203.0.113.9", Whitelist: []string{"203.0.113.9"}}, nil)
	w.p.cfg.ClientIPURL, w.p.ipURLSet = w.srv.IPURL(), true
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{})
	_, err := w.p.GetRecords(ctx, "example.com.")
	if err == nil {
		t.Fatal("a ClientIp off the whitelist was accepted")
	}
	for _, want := range []string{"calls come from 203.0.113.9", "ClientIp was sent as 198.51.100.7", "add 203.0.113.9 to the API whitelist"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
