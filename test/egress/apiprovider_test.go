package egress

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/cloudflare/cloudflaretest"
	"github.com/strictacme/strictacme/provider/desec/desectest"
	"github.com/strictacme/strictacme/provider/digitalocean/digitaloceantest"
	"github.com/strictacme/strictacme/provider/hetzner/hetznertest"
)

// apiWorldEnv, set only by TestAPIProvidersSendNoDNSAtAll for its own
// child process, makes TestAPIProviderWorld run the world inside the
// namespace (a test seam of this test binary only); its value is
// KIND:DIR.
const apiWorldEnv = "STRICTACME_EGRESS_API_WORLD"

type apiWorldInfo struct {
	Directory, DoH, Roots, API string
}

// apiProviders are the API providers proven here: the variables that
// point the binary at the fake (API is its base URL) and the token that
// must never show in the output.
var apiProviders = map[string]struct {
	env   func(api string) []string
	token string
}{
	"cloudflare": {func(api string) []string {
		return []string{"CF_DNS_API_TOKEN=" + cloudflaretest.DefaultToken, "CLOUDFLARE_BASE_URL=" + api, "CLOUDFLARE_SERVING_LAG=1s"}
	}, cloudflaretest.DefaultToken},
	"digitalocean": {func(api string) []string {
		return []string{"DO_AUTH_TOKEN=" + digitaloceantest.DefaultToken, "DO_API_URL=" + api, "DO_SERVING_LAG=1s"}
	}, digitaloceantest.DefaultToken},
	"desec": {func(api string) []string {
		return []string{"DESEC_TOKEN=" + desectest.DefaultToken, "DESEC_ENDPOINT=" + api, "DESEC_SERVING_LAG=1s"}
	}, desectest.DefaultToken},
	"hetzner": {func(api string) []string {
		return []string{"HETZNER_API_TOKEN=" + hetznertest.DefaultToken, "HETZNER_ENDPOINT=" + api, "HETZNER_SERVING_LAG=1s"}
	}, hetznertest.DefaultToken},
}

// TestAPIProvidersSendNoDNSAtAll issues apex + wildcard + a subdomain
// with each API provider (--dns cloudflare, digitalocean, desec, hetzner) and
// --propagation doh in a network namespace, the binary running as its own
// user (nobody) so nftables counts its packets apart from the world's:
// not one packet to port 53, UDP or TCP, and not one UDP datagram at all.
// Zones come from the provider's API, the records go over HTTPS, the
// check is DoH over TCP. A positive control shows both counters count the
// binary's packets; the token never shows in the output.
func TestAPIProvidersSendNoDNSAtAll(t *testing.T) {
	need(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux) to run the binary as another user")
	}
	// The binary in a directory user nobody can enter.
	bin := buildIn(t, nobodyDir(t, "strictacme-egress-bin-"))
	for kind := range apiProviders {
		t.Run(kind, func(t *testing.T) { apiProviderEgress(t, kind, bin) })
	}
}

func apiProviderEgress(t *testing.T, kind, bin string) {
	shared := nobodyDir(t, "strictacme-egress-"+kind+"-")
	ns := newNamespace(t, fmt.Sprintf("strictacme-%s-%d", kind, os.Getpid()), fmt.Sprintf(`table inet egress {
	counter dns53 { }
	counter anyudp { }
	chain output {
		type filter hook output priority 0; policy accept;
		meta skuid %d udp dport 53 counter name dns53 drop
		meta skuid %d tcp dport 53 counter name dns53 drop
		meta skuid %d meta l4proto udp counter name anyudp drop
	}
}
`, nobody, nobody, nobody))
	var info apiWorldInfo
	worldOut := startWorld(t, ns, "TestAPIProviderWorld", apiWorldEnv+"="+kind+":"+shared, shared, &info)
	count := func(name string) int { return packets(t, ns, name) }

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_ = asNobody(ctx, ns, bin, "query", "--resolver", "udp://127.0.0.53:53", "example.com").Run()
	_ = asNobody(ctx, ns, bin, "query", "--resolver", "udp://127.0.0.1:9", "example.com").Run()
	if count("dns53") == 0 || count("anyudp") == 0 {
		t.Fatalf("positive controls not counted (port 53: %d, other UDP: %d); the counters prove nothing", count("dns53"), count("anyudp"))
	}
	run(t, "ip", "netns", "exec", ns, "nft", "reset", "counters", "table", "inet", "egress")

	state := filepath.Join(shared, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	issue := asNobody(ctx, ns, bin, "issue", "--json", "--server", info.Directory, "--ca-cert", info.Roots, "--accept-tos",
		"--resolver", info.DoH, "--path", state, "--dns", kind, "--propagation", "doh",
		"-d", "example.com", "-d", "*.example.com", "-d", "sub.example.com")
	issue.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + shared}, apiProviders[kind].env(info.API)...)
	var stderr strings.Builder
	issue.Stderr = &stderr
	out, err := issue.Output()
	if err != nil {
		t.Fatalf("issue in the namespace: %v\nstderr:\n%s\nworld:\n%s", err, stderr.String(), worldOut.String())
	}
	var res struct{ OK bool }
	if err := json.Unmarshal(out, &res); err != nil || !res.OK {
		t.Fatalf("result %s (%v)\nstderr:\n%s", out, err, stderr.String())
	}
	if n, m := count("dns53"), count("anyudp"); n != 0 || m != 0 {
		t.Fatalf("%d packet(s) to port 53 and %d UDP datagram(s); want 0\nstderr:\n%s", n, m, stderr.String())
	}
	if tok := apiProviders[kind].token; strings.Contains(stderr.String(), tok) || strings.Contains(string(out), tok) {
		t.Error("the API token is in the output")
	}
}

// TestAPIProviderWorld runs, in TestAPIProvidersSendNoDNSAtAll's
// namespace, the test world and the provider's fake API over HTTPS, whose
// example.com changes are published to the world's authoritative server.
// It writes both TLS roots to the shared directory, writes world.json and
// stops when its stdin closes.
func TestAPIProviderWorld(t *testing.T) {
	kind, dir, _ := strings.Cut(os.Getenv(apiWorldEnv), ":")
	if dir == "" {
		t.Skip("runs only as TestAPIProvidersSendNoDNSAtAll's world process")
	}
	w, err := testworld.New(testworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// publish makes the TXT records of example.com those given (FQDNs
	// without the trailing dot, and their texts).
	publish := func(names, texts []string) {
		rrs, _ := w.DNS.Records("example.com.")
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeTXT {
				w.DNS.RemoveRR(rr)
			}
		}
		for i := range names {
			_ = w.DNS.AddRR(&dns.TXT{Hdr: dns.RR_Header{Name: names[i] + ".", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{texts[i]}})
		}
	}
	var apiURL string
	var cert []byte
	switch kind {
	case "cloudflare":
		api := cloudflaretest.NewServer(cloudflaretest.Options{TLS: true})
		defer api.Close()
		api.AddZone("example.com", cloudflaretest.Record{Name: "example.com", Type: "A", Content: "192.0.2.10", TTL: 1})
		api.OnChange(func(zone string) {
			var names, texts []string
			for _, r := range api.Records(zone) {
				if r.Type == "TXT" {
					names, texts = append(names, r.Name), append(texts, cloudflaretest.Unquote(r.Content))
				}
			}
			publish(names, texts)
		})
		apiURL, cert = api.URL(), api.CertPEM()
	case "digitalocean":
		api := digitaloceantest.NewServer(digitaloceantest.Options{TLS: true})
		defer api.Close()
		api.AddDomain("example.com", digitaloceantest.Record{Type: "A", Name: "@", Data: "192.0.2.10"})
		api.OnChange(func(domain string) {
			var names, texts []string
			for _, r := range api.Records(domain) {
				if r.Type == "TXT" {
					names, texts = append(names, digitaloceantest.FQDN(r.Name, domain)), append(texts, r.Data)
				}
			}
			publish(names, texts)
		})
		apiURL, cert = api.URL(), api.CertPEM()
	case "desec":
		api := desectest.NewTLSServer(desectest.Options{PageSize: 2})
		defer api.Close()
		api.AddDomain("example.com", desectest.RRset{Type: "A", TTL: 3600, Records: []string{"192.0.2.10"}})
		api.OnWrite(func(domain string) {
			var names, texts []string
			for _, set := range api.RRsets(domain) {
				if set.Type != "TXT" {
					continue
				}
				for _, rec := range set.Records {
					names, texts = append(names, set.Subname+"."+domain), append(texts, strings.Trim(rec, `"`))
				}
			}
			publish(names, texts)
		})
		apiURL, cert = api.URL(), api.CertificatePEM()
	case "hetzner":
		// The Cloud API, the provider's default path: its actions are
		// polled over the same HTTPS connection.
		api := hetznertest.NewTLSServer(hetznertest.Options{MaxPerPage: 2, ActionPolls: 1})
		defer api.Close()
		api.AddZone("example.com", hetznertest.Record{Type: "A", Name: "@", Value: "192.0.2.10"})
		api.AddZone("example.net")
		api.OnWrite(func() {
			var names, texts []string
			for _, r := range api.Records("example.com") {
				if r.Type == "TXT" {
					names, texts = append(names, r.Name+".example.com"), append(texts, strings.Trim(r.Value, `"`))
				}
			}
			publish(names, texts)
		})
		apiURL, cert = api.CloudURL(), api.CertificatePEM()
	default:
		t.Fatalf("no fake API for %s", kind)
	}
	roots := filepath.Join(dir, "roots.pem")
	if err := os.WriteFile(roots, append(append([]byte(nil), w.TLSRootPEM...), cert...), 0o644); err != nil {
		t.Fatal(err)
	}
	serveWorld(t, dir, apiWorldInfo{Directory: w.DirectoryURL, DoH: w.DoHURL, Roots: roots, API: apiURL})
}
