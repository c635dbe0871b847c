package api

import (
	"strings"
	"testing"
)

// TestInvalidRequestIPWhenTheEgressDiffersFromClientIp: the configured
// ClientIp was whitelisted, but the calls left through NAT from another
// address, and the 1011150 advice told the user to whitelist the address
// they had already whitelisted. When the API names a different address,
// the message gives both and says which one to whitelist; when it names
// the one sent, the advice stays as it was.
func TestInvalidRequestIPWhenTheEgressDiffersFromClientIp(t *testing.T) {
	differs := (&Error{Command: CmdGetHosts, Number: ErrNumInvalidRequestIP, Message: "Invalid request IP: 203.0.113.9", ClientIP: "198.51.100.7"}).Error()
	for _, want := range []string{"calls come from 203.0.113.9", "ClientIp was sent as 198.51.100.7", "add 203.0.113.9 to the API whitelist", "NAMECHEAP_CLIENT_IP=203.0.113.9"} {
		if !strings.Contains(differs, want) {
			t.Errorf("message lacks %q: %s", want, differs)
		}
	}
	same := (&Error{Command: CmdGetHosts, Number: ErrNumInvalidRequestIP, Message: "Invalid request IP: 198.51.100.7", ClientIP: "198.51.100.7"}).Error()
	if strings.Contains(same, "calls come from") || !strings.Contains(same, "add 198.51.100.7 to the API whitelist") {
		t.Errorf("same address: %s", same)
	}
	if got := requestIP("Invalid request IP: 2001:db8::1"); got != "" {
		t.Errorf("an IPv6 address is not a ClientIp: %q", got)
	}
}
