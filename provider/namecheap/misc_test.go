package namecheap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/namecheap/internal/api"
	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// pastedKey is an API key of Namecheap's shape (32 hex digits).
const pastedKey = "9f3c2a7b1e0d4c6a8b5f7e2d1c0b9a87"

func TestConfigFromEnv(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("filekey123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigFromEnv(envOf(map[string]string{
		EnvAPIUser: "alice", EnvAPIKey + "_FILE": keyFile, EnvClientIP: "203.0.113.4", EnvSandbox: "true",
		EnvEndpoint: "http://127.0.0.1:1/xml.response", EnvZone: "sub.example.com", EnvAllowDDNS: "1",
		EnvLockDir: "/tmp/locks", EnvTTL: "120", EnvSettleDelay: "90", EnvClientIPURL: "https://ip.example/", EnvUserName: "bob",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{APIUser: "alice", APIKey: "filekey123", UserName: "bob", ClientIP: "203.0.113.4", ClientIPURL: "https://ip.example/",
		Endpoint: "http://127.0.0.1:1/xml.response", Sandbox: true, Zone: "sub.example.com", AllowDDNS: true, LockDir: "/tmp/locks", TTL: 120, SettleDelay: 90 * time.Second}
	if cfg.APIUser != want.APIUser || cfg.APIKey != want.APIKey || cfg.UserName != want.UserName || cfg.ClientIP != want.ClientIP ||
		cfg.ClientIPURL != want.ClientIPURL || cfg.Endpoint != want.Endpoint || cfg.Sandbox != want.Sandbox || cfg.Zone != want.Zone ||
		cfg.AllowDDNS != want.AllowDDNS || cfg.LockDir != want.LockDir || cfg.TTL != want.TTL || cfg.SettleDelay != want.SettleDelay {
		t.Fatalf("cfg = %+v", cfg)
	}
	p, err := New(cfg)
	if err != nil || p.DefaultSettleDelay() != 90*time.Second {
		t.Fatalf("New: %v", err)
	}

	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{EnvAPIKey: "k"}, EnvAPIUser},
		{map[string]string{EnvAPIUser: "u"}, EnvAPIKey + " is not set"},
		{map[string]string{EnvAPIUser: "u", EnvAPIKey: "secretkey", EnvAPIKey + "_FILE": keyFile}, "set only one"},
		{map[string]string{EnvAPIUser: "u", EnvAPIKey + "_FILE": "/nonexistent/key"}, EnvAPIKey + "_FILE"},
		// The key itself where its file's path belongs: said, not printed.
		{map[string]string{EnvAPIUser: "u", EnvAPIKey + "_FILE": pastedKey}, EnvAPIKey + "_FILE: that looks like a key, not a path"},
		{map[string]string{EnvAPIUser + "_FILE": pastedKey, EnvAPIKey: "k"}, EnvAPIUser + "_FILE: that looks like a key, not a path"},
		{map[string]string{EnvAPIUser: "u", EnvAPIKey: "secretkey", EnvSandbox: "yes please"}, EnvSandbox},
		{map[string]string{EnvAPIUser: "u", EnvAPIKey: "secretkey", EnvTTL: "30"}, EnvTTL},
		{map[string]string{EnvAPIUser: "u", EnvAPIKey: "secretkey", EnvSettleDelay: "soon"}, EnvSettleDelay},
	} {
		_, err := ConfigFromEnv(envOf(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secretkey") || strings.Contains(err.Error(), "filekey123") || strings.Contains(err.Error(), pastedKey) {
			t.Errorf("%v: err = %v", tc.env, err)
		}
	}
}

func TestNewChecksEndpointAndDefaults(t *testing.T) {
	for _, bad := range []Config{
		{APIUser: "u", APIKey: "k", Endpoint: "http://api.namecheap.com/xml.response"},
		{APIUser: "u", APIKey: "k", TTL: 30},
		{APIUser: "u", APIKey: "k", ClientIP: "not-an-ip"},
		{APIUser: "u", APIKey: "k", Zone: "co.uk"},
		{APIKey: "k"},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	p, err := New(Config{APIUser: "u", APIKey: "k", Sandbox: true})
	if err != nil || p.endpoint != api.SandboxEndpoint || p.ServingLag() != DefaultSettle || p.cfg.TTL != 300 {
		t.Fatalf("%v %+v", err, p)
	}
	p, _ = New(Config{APIUser: "u", APIKey: "k"})
	if p.endpoint != api.ProductionEndpoint {
		t.Fatal(p.endpoint)
	}
}

// TestAPIKeyNeverInErrorsOrLogs provokes every kind of failure with debug
// logging on and checks the key appears nowhere.
func TestAPIKeyNeverInErrorsOrLogs(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{APIKey: "K3y+With/Odd=Chars&more"}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: append(baseZone(), namecheaptest.Host{Name: "home", Type: "A", Address: "198.51.100.1", IsDDNSEnabled: true})})
	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }
	collect(w.p.ZoneFor(ctx, "nowhere.example.org"))
	collect(w.p.AppendRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", "v")})) // DDNS refusal
	w.srv.InjectError("getHosts", namecheaptest.Fault{Body: "<html>echo K3y+With/Odd=Chars&more</html>"})
	collect(w.p.GetRecords(ctx, "example.com."))
	w.srv.InjectError("getHosts", namecheaptest.Fault{Number: 1011150, Message: "Invalid request IP: 198.51.100.7"})
	collect(w.p.GetRecords(ctx, "example.com."))

	bad := newWorld(t, namecheaptest.Options{}, func(c *Config) { c.APIKey = "Wrong-K3y-value" })
	bad.srv.AddZone("example.com", namecheaptest.ZoneOptions{})
	collect(bad.p.GetRecords(ctx, "example.com."))
	bad.srv.Close()
	collect(bad.p.GetRecords(ctx, "example.com.")) // transport failure

	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		for _, key := range []string{"K3y+With/Odd=Chars&more", "K3y%2BWith", "Wrong-K3y-value"} {
			if strings.Contains(err.Error(), key) {
				t.Errorf("key in error: %v", err)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("multi-line error: %q", err)
		}
	}
	for _, logs := range []string{w.logs.String(), bad.logs.String()} {
		if logs == "" || strings.Contains(logs, "K3y") {
			t.Errorf("logs leak or are empty:\n%s", logs)
		}
	}
}

func TestRefusedWritesLeaveZoneUntouched(t *testing.T) {
	long := strings.Repeat("a", 45) + ".example-sub"
	for name, tc := range map[string]struct {
		hosts []namecheaptest.Host
		recs  []libdns.Record
		want  string
	}{
		"ddns host": {append(baseZone(), namecheaptest.Host{Name: "home", Type: "A", Address: "198.51.100.1", IsDDNSEnabled: true}),
			[]libdns.Record{txt("_acme-challenge", "v")}, EnvAllowDDNS},
		"over 150 records": {manyHosts(149), []libdns.Record{txt("_acme-challenge", "v1"), txt("_acme-challenge", "v2")}, "150"},
		"new host over 60": {baseZone(), []libdns.Record{txt("_acme-challenge."+long, "v")}, "60"},
		"existing TTL out of range": {append(baseZone(), namecheaptest.Host{Name: "x", Type: "A", Address: "192.0.2.1", TTL: "30"}),
			[]libdns.Record{txt("_acme-challenge", "v")}, "60000"},
		"new TTL out of range": {baseZone(), []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v", TTL: 10 * time.Second}}, "TTL"},
		"quoted value":         {baseZone(), []libdns.Record{txt("_acme-challenge", `"v"`)}, "quotes"},
		"not TXT":              {baseZone(), []libdns.Record{libdns.Address{Name: "x", IP: mustAddr("192.0.2.1")}}, "TXT records only"},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, namecheaptest.Options{}, nil)
			w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: tc.hosts})
			before := w.srv.Hosts("example.com")
			_, err := w.p.AppendRecords(ctx, "example.com.", tc.recs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
			if w.srv.Calls("setHosts") != 0 {
				t.Fatal("setHosts was called")
			}
			after := w.srv.Hosts("example.com")
			for i := range before {
				if before[i] != after[i] { // HostIds too: nothing was written
					t.Fatal("zone changed")
				}
			}
		})
	}
}

func TestAllowDDNSWrites(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, func(c *Config) { c.AllowDDNS = true })
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: append(baseZone(), namecheaptest.Host{Name: "home", Type: "A", Address: "198.51.100.1", IsDDNSEnabled: true})})
	if _, err := w.p.AppendRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", "v")}); err != nil {
		t.Fatal(err)
	}
}

func manyHosts(n int) []namecheaptest.Host {
	var hs []namecheaptest.Host
	for i := range n {
		hs = append(hs, namecheaptest.Host{Name: "h" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Type: "A", Address: "192.0.2.1", TTL: "1799"})
	}
	return hs
}

func TestPresentAndCleanUpAreIdempotent(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
	recs := []libdns.Record{txt("_acme-challenge", "v"), txt("_acme-challenge.www", "w")}
	for range 2 {
		if _, err := w.p.AppendRecords(ctx, "example.com.", recs); err != nil {
			t.Fatal(err)
		}
	}
	if w.srv.Calls("setHosts") != 1 || hasTXT(w.srv.Hosts("example.com"), "_acme-challenge", "v") != 1 {
		t.Fatalf("second present wrote (%d setHosts)", w.srv.Calls("setHosts"))
	}
	for range 2 {
		if _, err := w.p.DeleteRecords(ctx, "example.com.", recs); err != nil {
			t.Fatal(err)
		}
	}
	if w.srv.Calls("setHosts") != 2 {
		t.Fatalf("second clean-up wrote (%d setHosts)", w.srv.Calls("setHosts"))
	}
}

func TestEmailTypeSentBackAsRead(t *testing.T) {
	for _, et := range []string{"MX", "MXE", "FWD", "OX", "GMAIL", "NONE"} {
		w := newWorld(t, namecheaptest.Options{}, nil)
		hosts := baseZone()
		if et != "MX" {
			hosts = withoutMX(hosts)
		}
		w.srv.AddZone("example.com", namecheaptest.ZoneOptions{EmailType: et, Hosts: hosts})
		before := zoneKeys(w.srv.Hosts("example.com"))
		recs := []libdns.Record{txt("_acme-challenge", "v")}
		if _, err := w.p.AppendRecords(ctx, "example.com.", recs); err != nil {
			t.Fatalf("%s: %v", et, err)
		}
		if _, err := w.p.DeleteRecords(ctx, "example.com.", recs); err != nil {
			t.Fatalf("%s: %v", et, err)
		}
		sets := 0
		for _, r := range w.srv.Requests() {
			if r.Command == namecheaptest.SetHosts {
				sets++
				if r.Params.Get("emailtype") != et {
					t.Errorf("%s: sent EmailType %q", et, r.Params.Get("emailtype"))
				}
			}
		}
		if sets != 2 {
			t.Errorf("%s: %d setHosts, want 2", et, sets)
		}
		if w.srv.EmailType("example.com") != et || !sameKeys(before, zoneKeys(w.srv.Hosts("example.com"))) {
			t.Errorf("%s: zone or EmailType (%q) changed", et, w.srv.EmailType("example.com"))
		}
	}
}

func TestThrottleIsRetriedWithinBudget(t *testing.T) {
	// The server allows 3 calls a minute; the client has no budget of its
	// own here, so it meets HTTP 405 and backs off on the shared fake clock.
	w := newWorld(t, namecheaptest.Options{RateLimit: 3}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
	recs := []libdns.Record{txt("_acme-challenge", "v")}
	if _, err := w.p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if _, err := w.p.DeleteRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if w.clock.sleeps == 0 {
		t.Fatal("never backed off")
	}
	// Legacy shape: XML 500000 with HTTP 200.
	w2 := newWorld(t, namecheaptest.Options{RateLimit: 2, LegacyThrottle: true}, nil)
	w2.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
	if _, err := w2.p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
}

func TestBuiltInBudgetNeverMeets405(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, func(c *Config) { c.Limiter = nil })
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
	start := w.clock.Now()
	for range 45 {
		if _, err := w.p.GetRecords(ctx, "example.com."); err != nil {
			t.Fatal(err)
		}
	}
	if w.srv.TotalCalls() != 45 {
		t.Fatalf("%d calls for 45 reads: some were throttled and retried", w.srv.TotalCalls())
	}
	if d := w.clock.Now().Sub(start); d < time.Minute {
		t.Errorf("45 calls in %v of fake time", d)
	}
}

func TestPermanentErrorsAreNotRetried(t *testing.T) {
	for _, n := range []int{1011102, 1011150, 2019166, 2016166, 2030166, 2030288, 2050900, 3013288, 5050900} {
		w := newWorld(t, namecheaptest.Options{}, nil)
		w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
		w.srv.InjectError("setHosts", namecheaptest.Fault{Number: n, Message: "injected"})
		_, err := w.p.AppendRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", "v")})
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Number != n || w.srv.Calls("setHosts") != 1 || w.srv.Calls("getHosts") != 1 {
			t.Errorf("%d: err %v, setHosts %d, getHosts %d", n, err, w.srv.Calls("setHosts"), w.srv.Calls("getHosts"))
		}
	}
}

func TestRetryableSetHostsRedoesWholeCycle(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
	w.srv.InjectError("setHosts", namecheaptest.Fault{HTTPStatus: 405})
	if _, err := w.p.AppendRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", "v")}); err != nil {
		t.Fatal(err)
	}
	// get, set (405), get again (fresh read), set, verify.
	if w.srv.Calls("getHosts") != 3 || w.srv.Calls("setHosts") != 2 {
		t.Fatalf("getHosts %d setHosts %d", w.srv.Calls("getHosts"), w.srv.Calls("setHosts"))
	}
}

// TestCallsPerOrderDoNotGrowWithNames counts the API calls of a whole
// order (zone discovery, present, read-back verification, clean-up).
func TestCallsPerOrderDoNotGrowWithNames(t *testing.T) {
	for _, n := range []int{1, 10, 50, 100} {
		w := newWorld(t, namecheaptest.Options{RateLimit: -1}, nil)
		w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: baseZone()})
		if got := orderCalls(t, w, "example.com", n); got != 8 {
			t.Errorf("%d names: %d calls, want 8", n, got)
		}
	}
}

func orderCalls(t testing.TB, w *world, domain string, names int) int {
	t.Helper()
	before := w.srv.TotalCalls()
	var recs []libdns.Record
	zone := ""
	for i := range names {
		fqdn := "_acme-challenge.n" + itoa(i) + "." + domain
		z, err := w.p.ZoneFor(ctx, fqdn)
		if err != nil {
			t.Fatal(err)
		}
		zone = z
		host, _ := HostName(fqdn, z)
		recs = append(recs, txt(host, "value-"+itoa(i)))
	}
	if _, err := w.p.AppendRecords(ctx, zone, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := w.p.GetRecords(ctx, zone); err != nil { // the `provider` propagation check
		t.Fatal(err)
	}
	if _, err := w.p.DeleteRecords(ctx, zone, recs); err != nil {
		t.Fatal(err)
	}
	return w.srv.TotalCalls() - before
}

func TestGetRecordsTypesAndListZones(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: append(baseZone(),
		namecheaptest.Host{Name: "go", Type: "URL301", Address: "https://example.net/", TTL: "1799"})})
	for i := range 25 {
		w.srv.AddZone("zone"+itoa(i)+".org", namecheaptest.ZoneOptions{CustomNS: i == 3})
	}
	recs, err := w.p.GetRecords(ctx, "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, r := range recs {
		switch v := r.(type) {
		case libdns.Address:
			kinds["A"] = v.IP.String() == "192.0.2.10"
		case libdns.CNAME:
			kinds["CNAME"] = v.Target == "parkingpage.namecheap.com."
		case libdns.MX:
			kinds["MX"] = v.Preference == 20 && v.TTL == 1800*time.Second
		case libdns.TXT:
			kinds["TXT"] = true
		case libdns.CAA:
			kinds["CAA"] = v.Tag == "issue" && v.Value == "letsencrypt.org"
		case libdns.RR:
			kinds[v.Type] = v.Data == "https://example.net/"
		}
	}
	for _, k := range []string{"A", "CNAME", "MX", "TXT", "CAA", "URL301"} {
		if !kinds[k] {
			t.Errorf("%s not returned as expected (%v)", k, kinds)
		}
	}
	zones, err := w.p.ListZones(ctx)
	if err != nil || len(zones) != 25 { // 26 domains, one on custom name servers
		t.Fatalf("%d zones, %v", len(zones), err)
	}
	if w.srv.Calls("getList") != 1 {
		t.Errorf("getList pages = %d", w.srv.Calls("getList"))
	}
}

// TestNamecheapTTLWinsOverTheRecordsTTL: NAMECHEAP_TTL was read but every
// record arrived with the order flow's TTL (60 s), so the setting never
// reached the zone. Set, it is what the TXT row gets; unset, the record's
// own TTL is kept.
func TestNamecheapTTLWinsOverTheRecordsTTL(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  int
		want string
	}{{"NAMECHEAP_TTL set", 1800, "1800"}, {"NAMECHEAP_TTL unset", 0, "60"}} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, namecheaptest.Options{}, func(c *Config) { c.TTL = tt.cfg })
			w.srv.AddZone("example.com", namecheaptest.ZoneOptions{})
			rec := libdns.TXT{Name: "_acme-challenge", Text: "v", TTL: 60 * time.Second}
			if _, err := w.p.AppendRecords(context.Background(), "example.com.", []libdns.Record{rec}); err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, h := range w.srv.Hosts("example.com") {
				if h.Name == "_acme-challenge" {
					found++
					if h.TTL != tt.want {
						t.Errorf("TXT TTL %s, want %s", h.TTL, tt.want)
					}
				}
			}
			if found != 1 {
				t.Fatalf("%d challenge rows in the zone", found)
			}
		})
	}
}

// TestIDNZoneAnsweredInUnicodeIsConfirmed: the API answered getHosts for
// xn--bcher-kva.de with Domain="bücher.de", which never matched the
// A-label, so the zone could never be confirmed or written. Both forms
// name one zone.
func TestIDNZoneAnsweredInUnicodeIsConfirmed(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("xn--bcher-kva.de", namecheaptest.ZoneOptions{UnicodeDomain: true})
	z, err := w.p.ZoneFor(context.Background(), "_acme-challenge.xn--bcher-kva.de.")
	if err != nil {
		t.Fatalf("ZoneFor: %v", err)
	}
	if z != "xn--bcher-kva.de." {
		t.Errorf("zone %q", z)
	}
	if _, err := w.p.AppendRecords(context.Background(), z, []libdns.Record{txt("_acme-challenge", "v")}); err != nil {
		t.Fatalf("AppendRecords: %v", err)
	}
	if hasTXT(w.srv.Hosts("xn--bcher-kva.de"), "_acme-challenge", "v") != 1 {
		t.Errorf("zone: %+v", w.srv.Hosts("xn--bcher-kva.de"))
	}
}

// A zero Provider with no API user says which field to set on its first
// call, and sends nothing.
func TestZeroProviderNamesTheMissingSetting(t *testing.T) {
	var p Provider
	_, err := p.GetRecords(context.Background(), "example.com.")
	if err == nil || !strings.Contains(err.Error(), "APIUser is empty") {
		t.Fatalf("err = %v", err)
	}
	p2 := &Provider{Config: Config{APIUser: "u", APIKey: "k", ClientIP: "not-an-ip"}}
	if _, err := p2.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err == nil || !strings.Contains(err.Error(), "not an IPv4 address") {
		t.Fatalf("bad ClientIP: %v", err)
	}
}
