package rfc2136

import (
	"strings"
	"testing"
)

// The nameserver setting is judged when it is read, not when the first
// UPDATE is sent: each form a user writes either becomes the host:port
// every message goes to, or is refused with what to give.
func TestNameserverForms(t *testing.T) {
	for _, tt := range []struct {
		in, want string // want: the address, or a piece of the error
		ok       bool
	}{
		{"192.0.2.53", "192.0.2.53:53", true},
		{"192.0.2.53:5353", "192.0.2.53:5353", true},
		{"127.0.0.1:5353", "127.0.0.1:5353", true},
		{"[::1]:53", "[::1]:53", true},
		{"::1", "[::1]:53", true},
		{"2001:db8::53", "[2001:db8::53]:53", true},
		{"[2001:db8::53]", "[2001:db8::53]:53", true},
		{"localhost:5353", "localhost:5353", true},
		{"ns1.example.net", "ns1.example.net:53", true},
		{" ns1.example.net:53 ", "ns1.example.net:53", true},
		{"0.0.0.0", "unspecified address", false},
		{"[::]:53", "unspecified address", false},
		{"::", "unspecified address", false},
		{"ns1.example.net:domain", `port "domain"`, false},
		{"192.0.2.53:0", `port "0"`, false},
		{"192.0.2.53:65536", `port "65536"`, false},
		{"192.0.2.53:", `port ""`, false},
		{"udp://192.0.2.53:53", "not a URL", false},
		{"ns1 example net", "neither an IP address nor a host name", false},
		{"1.2.3.4:53:53", "neither an IP address nor a host name", false},
	} {
		got, err := ParseNameserver(tt.in)
		switch {
		case tt.ok && (err != nil || got != tt.want):
			t.Errorf("%q: %q, %v; want %q", tt.in, got, err, tt.want)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "host:port")):
			t.Errorf("%q: %q, %v; want an error with %q and what to give", tt.in, got, err, tt.want)
		}
	}
	if _, err := FromEnv(func(k string) (string, bool) {
		return map[string]string{EnvNameserver: "0.0.0.0:53"}[k], k == EnvNameserver
	}); err == nil || !strings.Contains(err.Error(), EnvNameserver) {
		t.Errorf("FromEnv with the unspecified address: %v; want an error naming %s", err, EnvNameserver)
	}
}
