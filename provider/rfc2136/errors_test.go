package rfc2136

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Each answer a server can give is explained by what it means here and
// the setting or server change that fixes it; key rejections are told
// apart from zone and policy refusals.
func TestServerErrorExplainsEachAnswer(t *testing.T) {
	tests := []struct {
		op       string
		key      string
		rcode    int
		tsig     uint16
		says     string
		keyFail  bool
		unsigned bool
	}{
		{"update", "acme.", dns.RcodeRefused, 0, "REFUSED without a TSIG signature: the server did not take key acme at all", false, true},
		{"update", "acme.", dns.RcodeNotAuth, dns.RcodeBadKey, "NOTAUTH/BADKEY: the server knows no TSIG key acme", true, false},
		{"update", "acme.", dns.RcodeNotAuth, dns.RcodeBadSig, "NOTAUTH/BADSIG: the server knows key acme but the signature does not verify", true, false},
		{"update", "acme.", dns.RcodeNotAuth, dns.RcodeBadTime, "NOTAUTH/BADTIME: this machine's clock", true, false},
		{"update", "acme.", dns.RcodeNotAuth, 0, "not authoritative for zone example.com (the key was accepted)", false, false},
		{"update", "acme.", dns.RcodeRefused, 0, "the zone's update policy does not let key acme change these TXT records", false, false},
		{"update", "", dns.RcodeRefused, 0, "refuses unsigned updates", false, false},
		{"zone transfer", "acme.", dns.RcodeRefused, 0, "key acme may not transfer the zone", false, false},
		{"SOA query", "acme.", dns.RcodeRefused, 0, "serves no zone holding this name", false, false},
		{"update", "acme.", dns.RcodeNotZone, 0, "outside zone example.com; set RFC2136_ZONE", false, false},
		{"update", "acme.", dns.RcodeServerFailure, 0, "SERVFAIL: the server could not apply it", false, false},
		{"update", "acme.", dns.RcodeNotImplemented, 0, "does not implement dynamic update", false, false},
	}
	for _, tt := range tests {
		e := &ServerError{Op: tt.op, Server: "192.0.2.53:53", Zone: "example.com.", Key: tt.key, Rcode: tt.rcode, TSIGError: tt.tsig, Unsigned: tt.unsigned}
		if !strings.Contains(e.Error(), tt.says) || e.KeyRejected() != tt.keyFail {
			t.Errorf("%s %s/%d: %q (key rejected %v); want it to say %q", tt.op, dns.RcodeToString[tt.rcode], tt.tsig, e.Error(), e.KeyRejected(), tt.says)
		}
		if !strings.HasPrefix(e.Error(), "rfc2136 "+tt.op+" of example.com at 192.0.2.53:53: ") {
			t.Errorf("%q does not name the operation, zone and server first", e.Error())
		}
	}
}
