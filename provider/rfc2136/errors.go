package rfc2136

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// ErrUnsigned means the server answered a signed message without a valid
// TSIG signature of its own (RFC 8945 §5.3.1: such an answer must not be
// trusted), or with one made with another secret.
var ErrUnsigned = errors.New("the answer carries no valid TSIG signature")

// ServerError is a server's refusal of an UPDATE (RFC 2136 §2.2), a zone
// transfer or a question: its RCODE and, for TSIG failures, the error of
// the TSIG record (RFC 8945 §5.2: BADSIG, BADKEY, BADTIME). Error explains
// what the RCODE means for this provider and what to change; it never
// holds the secret. Use errors.As to read the fields.
type ServerError struct {
	// Op is what was sent: "update", "SOA query", "zone transfer".
	Op     string
	Server string
	// Zone is the zone of the UPDATE or transfer, the name of a question.
	Zone string
	// Key is the TSIG key name, "" for unsigned messages.
	Key string
	// Rcode is the answer's RCODE (dns.RcodeNotAuth, …).
	Rcode int
	// TSIGError is the TSIG record's error field (dns.RcodeBadKey, …), 0
	// when there is none.
	TSIGError uint16
	// Unsigned: a signed message was refused by an answer without TSIG,
	// so the server did not take the key at all.
	Unsigned bool
}

// KeyRejected reports whether the server refused the TSIG key itself
// (NOTAUTH with BADKEY, BADSIG or BADTIME), not the zone or the policy.
func (e *ServerError) KeyRejected() bool {
	return e.TSIGError == dns.RcodeBadKey || e.TSIGError == dns.RcodeBadSig || e.TSIGError == dns.RcodeBadTime
}

func (e *ServerError) Error() string {
	zone := strings.TrimSuffix(e.Zone, ".")
	key := strings.TrimSuffix(e.Key, ".")
	head := fmt.Sprintf("rfc2136 %s of %s at %s: %s", e.Op, zone, e.Server, rcodeName(e.Rcode))
	switch e.TSIGError {
	case dns.RcodeBadKey:
		return head + fmt.Sprintf("/BADKEY: the server knows no TSIG key %s with this algorithm; give the name and algorithm of its key statement (RFC2136_TSIG_KEY, RFC2136_TSIG_ALGORITHM)", key)
	case dns.RcodeBadSig:
		return head + fmt.Sprintf("/BADSIG: the server knows key %s but the signature does not verify: the secret differs from the server's (RFC2136_TSIG_SECRET)", key)
	case dns.RcodeBadTime:
		return head + "/BADTIME: this machine's clock and the server's differ by more than the 300 s TSIG fudge; fix the time (NTP)"
	}
	switch e.Rcode {
	case dns.RcodeNotAuth:
		if e.Op == "update" || e.Op == "zone transfer" {
			return head + fmt.Sprintf(": the server is not authoritative for zone %s (the key was accepted); point RFC2136_NAMESERVER at the zone's primary or set RFC2136_ZONE to the zone it serves", zone)
		}
		return head + ": the server is not authoritative for this name; point RFC2136_NAMESERVER at the primary of its zone"
	case dns.RcodeRefused:
		switch {
		case e.Op == "zone transfer" && key != "":
			return head + fmt.Sprintf(": key %s may not transfer the zone; allow it (BIND: allow-transfer { key %s; };) or set RFC2136_TRANSFER=false", key, key)
		case e.Op == "update" && key != "" && e.Unsigned:
			return head + fmt.Sprintf(" without a TSIG signature: the server did not take key %s at all (it may allow updates by address only, or not know TSIG); check its allow-update or update-policy", key)
		case e.Op == "update" && key != "":
			return head + fmt.Sprintf(": the key was accepted, but the zone's update policy does not let key %s change these TXT records (or dynamic updates are off for the zone); grant it, e.g. BIND update-policy { grant %s name _acme-challenge.%s. TXT; };", key, key, zone)
		case e.Op == "update":
			return head + ": the server refuses unsigned updates; set the TSIG key (RFC2136_TSIG_KEY and RFC2136_TSIG_SECRET, or RFC2136_TSIG_FILE)"
		}
		return head + ": the server serves no zone holding this name (or refuses this client's questions); point RFC2136_NAMESERVER at the primary of its zone or set RFC2136_ZONE"
	case dns.RcodeNotZone:
		return head + fmt.Sprintf(": a record's name is outside zone %s; set RFC2136_ZONE to the zone that holds the names", zone)
	case dns.RcodeServerFailure:
		return head + ": the server could not apply it (zone not loaded, a secondary copy, or its journal not writable); see the server's log"
	case dns.RcodeNotImplemented:
		return head + ": the server does not implement dynamic update (RFC 2136) for this zone"
	case dns.RcodeFormatError:
		return head + ": the server could not parse the message"
	}
	return head
}

func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE %d", rc)
}
