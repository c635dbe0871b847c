package egress

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/testworld"
)

// worldEnv, set only by TestNoLocalDNS for its own child process, makes
// TestNoLocalDNSWorld run the world inside the namespace (a test seam of
// this test binary only).
const worldEnv = "STRICTACME_EGRESS_WORLD_DIR"

// The names the binary is given for the CA, the DoH resolver and the
// provider API: no resolver knows them, only the proxy does.
const (
	caHost  = "ca.strictacme.test"
	dohHost = "doh.strictacme.test"
	apiHost = "api.strictacme.test"
)

// worldInfo is what the world process tells the test.
type worldInfo struct {
	Directory, DoH, API, Token, Root, Proxy string
}

// upsert-free exec hook: adds or removes one TXT through the provider API,
// by name, through $HTTPS_PROXY (curl honours it as the binary does).
const proxiedHook = `#!/bin/sh
set -eu
action=$1 fqdn=$2 value=$3
zone=$(echo "$fqdn" | awk -F. '{print $(NF-2)"."$(NF-1)"."}')
name=${fqdn%".$zone"}
case "$action" in present) method=POST ;; cleanup) method=DELETE ;; *) exit 2 ;; esac
curl -sSf --cacert "$API_CA" -X "$method" -H "Authorization: Bearer $API_TOKEN" \
  -H 'Content-Type: application/json' \
  -d "[{\"name\":\"$name\",\"type\":\"TXT\",\"ttl\":60,\"data\":\"$value\"}]" \
  "$API_URL/zones/$zone/records" >/dev/null
`

// TestNoLocalDNS is the documented "no local DNS at all" recipe: the
// system resolver of the namespace (127.0.0.53) never answers, and the
// only way out is an HTTP CONNECT proxy on loopback (HTTPS_PROXY). The CA,
// the DoH resolver and the provider API are given by host names only the
// proxy knows. A certificate is issued with zero packets to port 53, so
// zero questions to the system resolver; a positive control shows that a
// name lookup through the system resolver would have been counted.
func TestNoLocalDNS(t *testing.T) {
	need(t)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("needs curl for the exec hook")
	}
	bin := build(t)
	ns := namespace(t)
	// ip netns exec mounts this file over /etc/resolv.conf in the namespace.
	etc := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(etc) })
	if err := os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte("nameserver 127.0.0.53\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Positive control: resolving a name through the system resolver
	// sends a packet to port 53, and the counter sees it.
	_ = exec.Command("ip", "netns", "exec", ns, "getent", "hosts", caHost).Run()
	if n := port53Packets(t, ns); n == 0 {
		t.Fatal("positive control: a system resolver lookup was not counted; the counter proves nothing")
	}
	run(t, "ip", "netns", "exec", ns, "nft", "reset", "counter", "inet", "egress", "dns53")

	dir := t.TempDir()
	var info worldInfo
	worldOut := startWorld(t, ns, "TestNoLocalDNSWorld", worldEnv+"="+dir, dir, &info)

	hook := filepath.Join(dir, "hook.sh")
	if err := os.WriteFile(hook, []byte(proxiedHook), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, bin, "issue", "--json",
		"--server", info.Directory, "--ca-cert", info.Root, "--accept-tos",
		"--resolver", info.DoH, "--path", filepath.Join(dir, "state"), "--dns", "exec",
		"-d", "example.com", "-d", "*.example.com")
	cmd.Env = append(os.Environ(), "HTTPS_PROXY="+info.Proxy, "https_proxy="+info.Proxy, "NO_PROXY=", "no_proxy=",
		"EXEC_PATH="+hook, "API_CA="+info.Root, "API_URL="+info.API, "API_TOKEN="+info.Token)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("issue in the namespace: %v\nstderr:\n%s\nworld:\n%s", err, stderr.String(), worldOut.String())
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
		t.Fatalf("%d packet(s) to port 53 (the system resolver included); want 0\nstderr:\n%s", n, stderr.String())
	}
	connects, _ := os.ReadFile(filepath.Join(dir, "connects.log"))
	for _, h := range []string{caHost, dohHost, apiHost} {
		if !strings.Contains(string(connects), h+":") {
			t.Errorf("no CONNECT to %s through the proxy; saw:\n%s", h, connects)
		}
	}
}

// TestNoLocalDNSWorld runs, in TestNoLocalDNS's namespace, the test world
// and an HTTP CONNECT proxy that alone maps the world's host names to its
// loopback addresses. It writes world.json, logs every CONNECT to
// connects.log and stops when its stdin closes.
func TestNoLocalDNSWorld(t *testing.T) {
	dir := os.Getenv(worldEnv)
	if dir == "" {
		t.Skip("runs only as TestNoLocalDNS's world process")
	}
	w, err := testworld.New(testworld.Options{ServerNames: []string{caHost, dohHost, apiHost}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ports := map[string]string{}
	rename := func(host, raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		ports[host] = u.Port()
		u.Host = net.JoinHostPort(host, u.Port())
		return u.String()
	}
	info := worldInfo{
		Directory: rename(caHost, w.DirectoryURL), DoH: rename(dohHost, w.DoHURL), API: rename(apiHost, w.APIURL),
		Token: w.APIToken, Root: w.TLSRootFile,
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "connects.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	var mu sync.Mutex
	proxy := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		host, port, err := net.SplitHostPort(r.Host)
		if r.Method != http.MethodConnect || err != nil || ports[host] != port {
			http.Error(rw, "this proxy only CONNECTs to the test world", http.StatusForbidden)
			return
		}
		mu.Lock()
		fmt.Fprintln(log, r.Host)
		mu.Unlock()
		up, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := http.NewResponseController(rw).Hijack()
		if err != nil {
			up.Close()
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { _, _ = io.Copy(up, buf); up.Close() }()
		_, _ = io.Copy(conn, up)
		conn.Close()
	})}
	go func() { _ = proxy.Serve(l) }()
	defer proxy.Close()
	info.Proxy = "http://" + l.Addr().String()
	serveWorld(t, dir, info)
}
