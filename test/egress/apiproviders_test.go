package egress

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/powerdns/powerdnstest"
	"github.com/strictacme/strictacme/provider/route53/route53test"
)

// httpAPIWorldEnv, set only by TestAPIProvidersSendNoDNS for its own child
// process, makes TestAPIProvidersWorld run the world inside the namespace
// (a test seam of this test binary only).
const httpAPIWorldEnv = "STRICTACME_EGRESS_API_DIR"

type httpAPIWorldInfo struct {
	Directory, DoH, Root      string
	FakeRoot                  string
	PowerDNS, PowerDNSKey     string
	Route53, Route53AccessKey string
}

const route53Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

// TestAPIProvidersSendNoDNS issues apex + wildcard through each HTTP API
// provider (powerdns, whose records are then checked over DoH; route53,
// whose write waits for INSYNC) inside a network namespace whose nftables
// counter sees every packet to port 53: zones come from the providers'
// APIs and propagation from DoH or the provider itself, so the count stays
// 0. A positive control shows the counter counts.
func TestAPIProvidersSendNoDNS(t *testing.T) {
	need(t)
	bin := build(t)
	ns := namespace(t)
	ctl := exec.Command("ip", "netns", "exec", ns, bin, "query", "--resolver", "udp://127.0.0.53:53", "example.com")
	_ = ctl.Run()
	if n := port53Packets(t, ns); n == 0 {
		t.Fatal("positive control: a query to port 53 was not counted; the counter proves nothing")
	}

	dir := t.TempDir()
	var info httpAPIWorldInfo
	worldOut := startWorld(t, ns, "TestAPIProvidersWorld", httpAPIWorldEnv+"="+dir, dir, &info)
	none := filepath.Join(dir, "no-such-aws-file")
	for _, tc := range []struct {
		kind string
		env  []string
	}{
		{"powerdns", []string{"PDNS_API_URL=" + info.PowerDNS, "PDNS_API_KEY=" + info.PowerDNSKey}},
		{"route53", []string{"AWS_ACCESS_KEY_ID=" + info.Route53AccessKey, "AWS_SECRET_ACCESS_KEY=" + route53Secret,
			"AWS_ROUTE53_ENDPOINT=" + info.Route53, "AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none,
			"AWS_EC2_METADATA_DISABLED=true", "AWS_CA_BUNDLE=", "AWS_PROFILE="}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			run(t, "ip", "netns", "exec", ns, "nft", "reset", "counter", "inet", "egress", "dns53")
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, bin, "issue", "--json",
				"--server", info.Directory, "--ca-cert", info.Root, "--ca-cert", info.FakeRoot, "--accept-tos",
				"--resolver", info.DoH, "--propagation", "doh", "--path", filepath.Join(dir, tc.kind), "--dns", tc.kind,
				"-d", "example.com", "-d", "*.example.com")
			cmd.Env = append(os.Environ(), tc.env...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("issue in the namespace: %v\nstderr:\n%s\nworld:\n%s", err, stderr.String(), worldOut.String())
			}
			var res struct{ OK bool }
			if err := json.Unmarshal(out, &res); err != nil || !res.OK {
				t.Fatalf("result %s (%v)\nstderr:\n%s", out, err, stderr.String())
			}
			if n := port53Packets(t, ns); n != 0 {
				t.Fatalf("%d packet(s) to port 53 with --dns %s; want 0\nstderr:\n%s", n, tc.kind, stderr.String())
			}
		})
	}
}

// TestAPIProvidersWorld runs, in TestAPIProvidersSendNoDNS's namespace,
// the test world, a fake PowerDNS API and a fake Route 53 API whose
// example.com zones are published to the world's authoritative server
// after each write (Route 53: once INSYNC). It writes world.json and stops
// when its stdin closes.
func TestAPIProvidersWorld(t *testing.T) {
	dir := os.Getenv(httpAPIWorldEnv)
	if dir == "" {
		t.Skip("runs only as TestAPIProvidersSendNoDNS's world process")
	}
	w, err := testworld.New(testworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var mu sync.Mutex
	publish := func(values func(fqdn string) []string, names []string) {
		mu.Lock()
		defer mu.Unlock()
		rrs, _ := w.DNS.Records("example.com.")
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeTXT && strings.HasPrefix(rr.Header().Name, "_acme-challenge") {
				w.DNS.RemoveRR(rr)
			}
		}
		for _, n := range names {
			for _, v := range values(n) {
				_ = w.DNS.AddRR(&dns.TXT{Hdr: dns.RR_Header{Name: n, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{v}})
			}
		}
	}

	pdns := powerdnstest.New(powerdnstest.Options{})
	defer pdns.Close()
	pdns.AddZone("example.com", "Native")
	pdns.OnPatch(func(string) {
		var names []string
		for _, r := range pdns.RRsets("example.com.") {
			if r.Type == "TXT" {
				names = append(names, r.Name)
			}
		}
		publish(pdns.TXT, names)
	})

	r53 := route53test.New(route53test.Options{PendingPolls: 1})
	defer r53.Close()
	id := r53.AddZone("example.com", false)
	r53.OnInSync(func(string) {
		var names []string
		for _, r := range r53.RRsets(id) {
			if r.Type == "TXT" {
				names = append(names, r.Name)
			}
		}
		publish(func(n string) []string { return r53.TXT(id, n) }, names)
	})

	fakeRoot := filepath.Join(dir, "fake-root.pem")
	if err := os.WriteFile(fakeRoot, r53.CertificatePEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	info := httpAPIWorldInfo{Directory: w.DirectoryURL, DoH: w.DoHURL, Root: w.TLSRootFile, FakeRoot: fakeRoot,
		PowerDNS: pdns.URL(), PowerDNSKey: pdns.APIKey(), Route53: r53.URL(), Route53AccessKey: r53.AccessKeyID()}
	serveWorld(t, dir, info)
}
