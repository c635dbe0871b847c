package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// A serve config with several mistakes: --check (and serve itself) lists
// every one at once, each with its line and key, and exits 2.
func TestServeCheckReportsEveryProblemAtOnce(t *testing.T) {
	f := serveConfig(t, "registration = \"maybe\"\nuse_header = true\nbogus = 1")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), `nsadmin = "hostmaster@example.org"`, "nsadmin = \"hostmaster@example.org\"\nprotocol = \"sctp\"", 1)
	if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve", "--config", f, "--check"}, {"serve", "--config", f}} {
		code, _, stderr := runCLI(t, args...)
		if code != exitcode.Usage {
			t.Fatalf("%v: exit %d, want %d; stderr:\n%s", args, code, exitcode.Usage, stderr)
		}
		want := []string{
			`serve.toml:6: general.protocol: "sctp": want both, udp or tcp`,
			`serve.toml:13: api.registration: "maybe": want closed, token or open`,
			`serve.toml:14: api.use_header: use_header = true needs trusted_proxies`,
			`serve.toml:15: api.bogus: unknown key`,
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%v: %d lines, want %d:\n%s", args, len(lines), len(want), stderr)
		}
		for i, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("%v: line %d is %q, want %q", args, i+1, lines[i], w)
			}
		}
	}
}

// A serve config with values of the wrong TOML type: --check reports each
// of them, with the file's other problems, instead of stopping at the
// first type error.
func TestServeCheckReportsEveryTypeErrorAtOnce(t *testing.T) {
	f := serveConfig(t, "registration = \"maybe\"\nmax_body = \"1 MB\"\nuse_header = \"yes\"\nport = true")
	code, _, stderr := runCLI(t, "serve", "--config", f, "--check")
	if code != exitcode.Usage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitcode.Usage, stderr)
	}
	want := []string{
		`serve.toml:12: api.registration: "maybe": want closed, token or open`,
		`serve.toml:13: api.max_body: wrong type: want a whole number, got a string`,
		`serve.toml:14: api.use_header: wrong type: want true or false, got a string`,
		`serve.toml:15: api.port: want a port number, got a boolean`,
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), stderr)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d is %q, want %q", i+1, lines[i], w)
		}
	}
}

// serve whose DNS or API address another process holds exits 7 (Busy),
// naming the config key and the address.
func TestServeAddressInUse(t *testing.T) {
	for _, key := range []string{"general", "api"} {
		t.Run(key, func(t *testing.T) {
			held, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			addr := held.Addr().String()
			f := serveConfig(t, `registration = "open"`)
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			old := "[general]\nlisten = [\"127.0.0.1:0\"]"
			if key == "api" {
				old = "[api]\nlisten = [\"127.0.0.1:0\"]"
			}
			src := strings.Replace(string(b), old, fmt.Sprintf("[%s]\nlisten = [%q]", key, addr), 1)
			if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCLI(t, "serve", "--config", f)
			want := key + ".listen: " + addr + " is in use by another process"
			if code != exitcode.Busy || !strings.Contains(stderr, want) {
				t.Fatalf("exit %d, want %d with %q; stderr:\n%s", code, exitcode.Busy, want, stderr)
			}
		})
	}
}
