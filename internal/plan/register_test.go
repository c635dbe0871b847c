package plan

import (
	"errors"
	"strings"
	"testing"
)

// TestRegistrationRefusesAServerURLThatWouldCarryTheKeyInClear pins that a
// challenge server is reached over https, or plain http on loopback only:
// the reply to a registration carries the account's key.
func TestRegistrationRefusesAServerURLThatWouldCarryTheKeyInClear(t *testing.T) {
	tests := []struct {
		server string
		ok     bool
	}{
		{"https://auth.example.org", true},
		{"http://127.0.0.1:8080", true},
		{"http://auth.example.org", false},
		{"ftp://auth.example.org", false},
		{"auth.example.org", false},
	}
	for _, tt := range tests {
		r := Registration{Server: tt.server, Domains: []string{"example.com"}, Reach: Reach{RequestTimeout: DefaultRequestTimeout}}
		_, err := r.Open()
		var pe *ProblemsError
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: %v", tt.server, err)
		case !tt.ok && (!errors.As(err, &pe) || pe.Problems[0].Key != "server" || !strings.Contains(pe.Problems[0].Msg, tt.server)):
			t.Errorf("%s: got %v, want a problem of key server naming the URL", tt.server, err)
		}
	}
}

// TestRegistrationSaysEveryProblemAtOnce pins that a bad server and an
// unreadable token file are both reported, each under its key.
func TestRegistrationSaysEveryProblemAtOnce(t *testing.T) {
	r := Registration{Server: "http://auth.example.org", Domains: []string{"example.com"},
		AdminTokenFile: t.TempDir() + "/missing", Reach: Reach{RequestTimeout: DefaultRequestTimeout}}
	_, err := r.Open()
	var pe *ProblemsError
	if !errors.As(err, &pe) || len(pe.Problems) != 2 || pe.Problems[0].Key != "server" || pe.Problems[1].Key != "admin_token_file" {
		t.Fatalf("got %v, want problems of server and admin_token_file", err)
	}
}
