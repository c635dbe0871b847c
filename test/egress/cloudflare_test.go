package egress

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/cloudflare/cloudflaretest"
)

// cloudflareWorldEnv, set only by TestCloudflareSendsNoDNSAtAll for its
// own child process, makes TestCloudflareWorld run the world inside the
// namespace (a test seam of this test binary only).
const cloudflareWorldEnv = "STRICTACME_EGRESS_CLOUDFLARE_DIR"

type cloudflareInfo struct {
	Directory, DoH, Roots, API string
}

// TestCloudflareSendsNoDNSAtAll issues apex + wildcard + a subdomain with
// --dns cloudflare and --propagation doh in a network namespace, the
// binary running as its own user (nobody) so nftables counts its packets
// apart from the world's: not one packet to port 53, UDP or TCP, and not
// one UDP datagram at all. The zone is found through the API (GET
// /zones?name=), the records go in one batch over HTTPS, the check is DoH
// over TCP. A positive control shows both counters count the binary's
// packets; the token never shows in the output.
func TestCloudflareSendsNoDNSAtAll(t *testing.T) {
	need(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux) to run the binary as another user")
	}
	shared, err := os.MkdirTemp("", "strictacme-egress-cloudflare-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(shared) })
	if err := os.Chmod(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(shared, "strictacme")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/strictacme/strictacme/cmd/strictacme")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ns := fmt.Sprintf("strictacme-cloudflare-%d", os.Getpid())
	_ = exec.Command("ip", "netns", "del", ns).Run()
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	run(t, "ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")

	world := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestCloudflareWorld$", "-test.timeout=5m")
	world.Env = append(os.Environ(), cloudflareWorldEnv+"="+shared)
	stop, err := world.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var worldOut strings.Builder
	world.Stdout, world.Stderr = &worldOut, &worldOut
	if err := world.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop.Close(); _ = world.Wait() })
	var info cloudflareInfo
	for deadline := time.Now().Add(time.Minute); ; {
		b, err := os.ReadFile(filepath.Join(shared, "world.json"))
		if err == nil && json.Unmarshal(b, &info) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the world did not start:\n%s", worldOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	rules := fmt.Sprintf(`table inet egress {
	counter dns53 { }
	counter anyudp { }
	chain output {
		type filter hook output priority 0; policy accept;
		meta skuid %d udp dport 53 counter name dns53 drop
		meta skuid %d tcp dport 53 counter name dns53 drop
		meta skuid %d meta l4proto udp counter name anyudp drop
	}
}
`, nobody, nobody, nobody)
	nft := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	count := func(name string) int {
		out := run(t, "ip", "netns", "exec", ns, "nft", "list", "counter", "inet", "egress", name)
		m := regexp.MustCompile(`packets (\d+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no packet count in:\n%s", out)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	asNobody := func(ctx context.Context, args ...string) *exec.Cmd {
		full := append([]string{"netns", "exec", ns, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin}, args...)
		return exec.CommandContext(ctx, "ip", full...)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_ = asNobody(ctx, "query", "--resolver", "udp://127.0.0.53:53", "example.com").Run()
	_ = asNobody(ctx, "query", "--resolver", "udp://127.0.0.1:9", "example.com").Run()
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
	issue := asNobody(ctx, "issue", "--json", "--server", info.Directory, "--ca-cert", info.Roots, "--accept-tos",
		"--resolver", info.DoH, "--path", state, "--dns", "cloudflare", "--propagation", "doh",
		"-d", "example.com", "-d", "*.example.com", "-d", "sub.example.com")
	issue.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + shared,
		"CF_DNS_API_TOKEN=" + cloudflaretest.DefaultToken, "CLOUDFLARE_BASE_URL=" + info.API, "CLOUDFLARE_SERVING_LAG=1s"}
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
	if strings.Contains(stderr.String(), cloudflaretest.DefaultToken) || strings.Contains(string(out), cloudflaretest.DefaultToken) {
		t.Error("the API token is in the output")
	}
}

// TestCloudflareWorld runs, in TestCloudflareSendsNoDNSAtAll's namespace,
// the test world and a fake Cloudflare API over HTTPS whose example.com
// changes are published to the world's authoritative server. It writes
// both TLS roots to the shared directory, writes world.json and stops when
// its stdin closes.
func TestCloudflareWorld(t *testing.T) {
	dir := os.Getenv(cloudflareWorldEnv)
	if dir == "" {
		t.Skip("runs only as TestCloudflareSendsNoDNSAtAll's world process")
	}
	w, err := testworld.New(testworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	api := cloudflaretest.NewServer(cloudflaretest.Options{TLS: true})
	defer api.Close()
	api.AddZone("example.com", cloudflaretest.Record{Name: "example.com", Type: "A", Content: "192.0.2.10", TTL: 1})
	api.OnChange(func(zone string) {
		rrs, _ := w.DNS.Records("example.com.")
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeTXT {
				w.DNS.RemoveRR(rr)
			}
		}
		for _, r := range api.Records(zone) {
			if r.Type == "TXT" {
				_ = w.DNS.AddRR(&dns.TXT{Hdr: dns.RR_Header{Name: r.Name + ".", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{cloudflaretest.Unquote(r.Content)}})
			}
		}
	})
	roots := filepath.Join(dir, "roots.pem")
	if err := os.WriteFile(roots, append(append([]byte(nil), w.TLSRootPEM...), api.CertPEM()...), 0o644); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cloudflareInfo{Directory: w.DirectoryURL, DoH: w.DoHURL, Roots: roots, API: api.URL()})
	tmp := filepath.Join(dir, "world.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "world.json")); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
}
