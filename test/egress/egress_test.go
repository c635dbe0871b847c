// Package egress proves the central promise of strictacme: a certificate is
// issued end to end with --propagation doh while the process sends not one
// packet to port 53, UDP or TCP, to any address.
//
// The built binary runs "strictacme sandbox" (the code path of "issue",
// against an in-process CA, DNS and DoH resolver on loopback) inside a fresh
// network namespace whose nftables output chain counts, then drops, every
// packet to port 53. A positive control sends one DNS query to port 53 from
// the same namespace and must be counted, so a zero count means something.
//
// It needs root, ip (iproute2) and nft (nftables). Without them it skips,
// unless STRICTACME_REQUIRE_NETNS=1 (set by CI), where it fails instead.
package egress

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func need(t *testing.T) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("needs %s to build a network namespace with an nftables counter", strings.Join(missing, ", "))
	if os.Getenv("STRICTACME_REQUIRE_NETNS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// namespace creates a network namespace with loopback up and an nftables
// table that counts and drops port-53 packets leaving any process in it.
func namespace(t *testing.T) string {
	t.Helper()
	return newNamespace(t, fmt.Sprintf("strictacme-egress-%d", os.Getpid()), `table inet egress {
	counter dns53 { }
	chain output {
		type filter hook output priority 0; policy accept;
		udp dport 53 counter name dns53 drop
		tcp dport 53 counter name dns53 drop
	}
}
`)
}

// newNamespace creates the network namespace name (removed when t ends)
// with loopback up and the nftables rules loaded.
func newNamespace(t *testing.T, name, rules string) string {
	t.Helper()
	_ = exec.Command("ip", "netns", "del", name).Run()
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	run(t, "ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
	cmd := exec.Command("ip", "netns", "exec", name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	return name
}

var packetsRE = regexp.MustCompile(`packets (\d+)`)

func port53Packets(t *testing.T, ns string) int {
	t.Helper()
	return packets(t, ns, "dns53")
}

// packets is what the counter of table inet egress in ns has counted.
func packets(t *testing.T, ns, counter string) int {
	t.Helper()
	out := run(t, "ip", "netns", "exec", ns, "nft", "list", "counter", "inet", "egress", counter)
	m := packetsRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no packet count in:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func build(t *testing.T) string {
	t.Helper()
	return buildIn(t, t.TempDir())
}

// buildIn builds the binary into dir and returns its path.
func buildIn(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "strictacme")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/strictacme/strictacme/cmd/strictacme")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestIssueSendsNothingToPort53(t *testing.T) {
	need(t)
	bin := build(t)
	ns := namespace(t)

	// Positive control: the counter sees a DNS query to port 53.
	ctl := exec.Command("ip", "netns", "exec", ns, bin, "query", "--resolver", "udp://127.0.0.53:53", "example.com")
	_ = ctl.Run() // it fails: the packet is dropped
	if n := port53Packets(t, ns); n == 0 {
		t.Fatal("positive control: a query to port 53 was not counted; the counter proves nothing")
	}
	run(t, "ip", "netns", "exec", ns, "nft", "reset", "counter", "inet", "egress", "dns53")
	if n := port53Packets(t, ns); n != 0 {
		t.Fatalf("counter not reset: %d", n)
	}

	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, bin, "sandbox", "--json", "--path", state,
		"-d", "example.com", "-d", "*.example.com", "-d", "bücher.example")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sandbox in the namespace: %v\nstderr:\n%s", err, stderr.String())
	}
	var res struct {
		OK          bool
		Certificate struct{ Fullchain string }
	}
	if err := json.Unmarshal(out, &res); err != nil || !res.OK {
		t.Fatalf("result %s (%v)\nstderr:\n%s", out, err, stderr.String())
	}
	if _, err := os.Stat(res.Certificate.Fullchain); err != nil {
		t.Fatalf("no certificate: %v", err)
	}
	if n := port53Packets(t, ns); n != 0 {
		t.Fatalf("%d packet(s) to port 53 during issuance with --propagation doh; want 0\nstderr:\n%s", n, stderr.String())
	}
}

// nobodyDir is a new directory that user nobody can enter, removed when
// t ends.
func nobodyDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// asNobody runs bin with args in namespace ns as user nobody, so the
// namespace's nftables rules can tell its packets from the world's.
func asNobody(ctx context.Context, ns, bin string, args ...string) *exec.Cmd {
	full := append([]string{"netns", "exec", ns, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin}, args...)
	return exec.CommandContext(ctx, "ip", full...)
}
