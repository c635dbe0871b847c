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
	"github.com/strictacme/strictacme/provider/rfc2136/rfc2136test"
)

// rfc2136WorldEnv, set only by TestRFC2136TalksOnlyToThePrimary for its
// own child process, makes TestRFC2136World run the world inside the
// namespace (a test seam of this test binary only).
const rfc2136WorldEnv = "STRICTACME_EGRESS_RFC2136_DIR"

const (
	rfc2136Key    = "acme-update"
	rfc2136Secret = "c2VjcmV0LWtleS1mb3ItdGhlLXRlc3Qtb25seS0wMDE="
	nobody        = 65534
)

type rfc2136Info struct {
	Directory, DoH, Root, Primary string
}

// TestRFC2136TalksOnlyToThePrimary issues apex + wildcard + a subdomain
// with --dns rfc2136 and --propagation doh in a network namespace, the
// binary running as its own user (nobody) so nftables can count its
// packets apart from the world's: not one packet to port 53, UDP or TCP,
// and not one UDP datagram to any port but the primary's. Zone discovery,
// the TXT questions and the UPDATEs all go to the configured primary; the
// propagation check is DoH over TCP. Positive controls show both counters
// count the binary's packets.
func TestRFC2136TalksOnlyToThePrimary(t *testing.T) {
	need(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux) to run the binary as another user")
	}
	shared := nobodyDir(t, "strictacme-egress-rfc2136-")
	bin := buildIn(t, shared)
	// The primary's port is known once the world runs; the rules go in
	// after.
	ns := newNamespace(t, fmt.Sprintf("strictacme-rfc2136-%d", os.Getpid()), "table inet egress { }\n")
	var info rfc2136Info
	worldOut := startWorld(t, ns, "TestRFC2136World", rfc2136WorldEnv+"="+shared, shared, &info)
	_, primaryPort, _ := strings.Cut(info.Primary, ":")
	rules := fmt.Sprintf(`table inet egress {
	counter dns53 { }
	counter otherudp { }
	chain output {
		type filter hook output priority 0; policy accept;
		meta skuid %d udp dport 53 counter name dns53 drop
		meta skuid %d tcp dport 53 counter name dns53 drop
		meta skuid %d udp dport != %s counter name otherudp drop
	}
}
`, nobody, nobody, nobody, primaryPort)
	nft := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	count := func(name string) int { return packets(t, ns, name) }

	// Positive controls: the binary's DNS to port 53 and to another UDP
	// port are each counted.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_ = asNobody(ctx, ns, bin, "query", "--resolver", "udp://127.0.0.53:53", "example.com").Run()
	_ = asNobody(ctx, ns, bin, "query", "--resolver", "udp://127.0.0.1:9", "example.com").Run()
	if count("dns53") == 0 || count("otherudp") == 0 {
		t.Fatalf("positive controls not counted (port 53: %d, other UDP: %d); the counters prove nothing", count("dns53"), count("otherudp"))
	}
	run(t, "ip", "netns", "exec", ns, "nft", "reset", "counters", "table", "inet", "egress")

	state := filepath.Join(shared, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(shared, "tsig.secret")
	if err := os.WriteFile(secretFile, []byte(rfc2136Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{state, secretFile} {
		if err := os.Chown(p, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	issue := asNobody(ctx, ns, bin, "issue", "--json", "--server", info.Directory, "--ca-cert", info.Root, "--accept-tos",
		"--resolver", info.DoH, "--path", state, "--dns", "rfc2136",
		"--rfc2136-nameserver", info.Primary, "--rfc2136-tsig-key", rfc2136Key, "--rfc2136-tsig-secret-file", secretFile,
		"-d", "example.com", "-d", "*.example.com", "-d", "sub.example.com")
	issue.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + shared}
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
	if n, m := count("dns53"), count("otherudp"); n != 0 || m != 0 {
		t.Fatalf("%d packet(s) to port 53 and %d UDP datagram(s) to other ports than the primary's; want 0\nstderr:\n%s", n, m, stderr.String())
	}
	if strings.Contains(stderr.String(), rfc2136Secret) || strings.Contains(string(out), rfc2136Secret) {
		t.Error("the TSIG secret is in the output")
	}
}

// TestRFC2136World runs, in TestRFC2136TalksOnlyToThePrimary's namespace,
// the test world and a primary for example.com that takes updates signed
// with acme-update at the three challenge names. It copies the CA roots
// to the shared directory, writes world.json and stops when its stdin
// closes.
func TestRFC2136World(t *testing.T) {
	dir := os.Getenv(rfc2136WorldEnv)
	if dir == "" {
		t.Skip("runs only as TestRFC2136TalksOnlyToThePrimary's world process")
	}
	w, err := testworld.New(testworld.Options{Zones: []string{"example.net."}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var grants []rfc2136test.Grant
	for _, n := range []string{"_acme-challenge.example.com.", "_acme-challenge.sub.example.com."} {
		grants = append(grants, rfc2136test.Grant{Key: rfc2136Key, Match: "name", Name: n, Types: []uint16{dns.TypeTXT}})
	}
	primary, err := rfc2136test.New(rfc2136test.Options{Keys: []rfc2136test.Key{{Name: rfc2136Key, Secret: rfc2136Secret}}, Grants: grants})
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	if err := primary.AddZone("example.com.", "@ 3600 IN A 192.0.2.10", "sub 3600 IN A 192.0.2.11"); err != nil {
		t.Fatal(err)
	}
	w.Forward("example.com.", primary.Addr())
	root := filepath.Join(dir, "roots.pem")
	if err := os.WriteFile(root, w.TLSRootPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	serveWorld(t, dir, rfc2136Info{Directory: w.DirectoryURL, DoH: w.DoHURL, Root: root, Primary: primary.Addr()})
}
