package dnsserver

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unsafe"

	"github.com/miekg/dns"
)

// LiveAppender is implemented by a Lookup that gives the live values
// without allocating: the texts newest first, appended to dst, with the end
// of each in dst appended to ends, and whether label is registered, as
// Lookup. *view.View implements it. With it, the UDP questions most asked
// of a challenge server are answered on a fast path (answerFast).
type LiveAppender interface {
	AppendLive(dst []byte, ends []int, label string) ([]byte, []int, bool)
}

// fastBuf is the scratch of the fast path; one per socket reader.
type fastBuf struct {
	name []byte // the question's name, lower case, presentation form
	txt  []byte
	ends []int
	out  []byte
}

// Wire format constants (RFC 1035 §4.1, RFC 6891 §6.1).
const (
	headerLen = 12
	optLen    = 11  // an OPT record without options
	maxLabel  = 63  // longer labels are compression pointers or extended
	maxName   = 255 // octets of a name in wire form
	ptrQName  = 0xc000 | headerLen
)

// answerFast writes into b.out the reply to the UDP question q when q is a
// plain question (one question, class IN, at most an EDNS(0) version 0 OPT)
// at a name below the zone that has no static records, is no empty
// non-terminal and holds none of the server's own TXT values: the TXT
// answer, NODATA or NXDOMAIN from the view, exactly as Answer would give
// it (FuzzFastPath and TestFastPathAsAnswer compare the two), with the
// owner names pointing at the question (as asked, 0x20 safe). It allocates
// nothing. ok is false for every other packet; Answer handles those.
func (h *Handler) answerFast(b *fastBuf, q []byte) (reply []byte, qtype uint16, rcode int, ok bool) {
	if h.live == nil || len(q) < headerLen+5 {
		return nil, 0, 0, false
	}
	// QR clear, opcode QUERY; one question, nothing in the answer and
	// authority sections, at most one additional record (the OPT).
	if q[2]&0xf8 != 0 || q[4] != 0 || q[5] != 1 || q[6]|q[7]|q[8]|q[9]|q[10] != 0 || q[11] > 1 {
		return nil, 0, 0, false
	}
	name := b.name[:0]
	i := headerLen
	for {
		if i >= len(q) {
			return nil, 0, 0, false
		}
		l := int(q[i])
		if l == 0 {
			i++
			break
		}
		if l > maxLabel || i+1+l > len(q) {
			return nil, 0, 0, false
		}
		for _, c := range q[i+1 : i+1+l] {
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			default:
				// A byte the presentation form escapes: Answer's name.
				return nil, 0, 0, false
			}
			name = append(name, c)
		}
		name = append(name, '.')
		i += 1 + l
	}
	b.name = name
	qend := i + 4
	if i-headerLen > maxName || qend > len(q) || len(name) == 0 {
		return nil, 0, 0, false
	}
	qtype = binary.BigEndian.Uint16(q[i:])
	if binary.BigEndian.Uint16(q[i+2:]) != dns.ClassINET {
		return nil, 0, 0, false
	}
	switch qtype {
	case dns.TypeANY, dns.TypeAXFR, dns.TypeIXFR, dns.TypeOPT:
		return nil, 0, 0, false
	}
	size, edns, do := dns.MinMsgSize, false, false
	if q[11] == 1 {
		o := q[qend:]
		// Root owner, type OPT, version 0 (else BADVERS), no bytes after.
		if len(o) < optLen || o[0] != 0 || binary.BigEndian.Uint16(o[1:]) != dns.TypeOPT || o[6] != 0 ||
			optLen+int(binary.BigEndian.Uint16(o[9:])) != len(o) {
			return nil, 0, 0, false
		}
		edns, do = true, o[7]&0x80 != 0
		if s := int(binary.BigEndian.Uint16(o[3:])); s > size {
			size = min(s, UDPSize)
		}
	} else if qend != len(q) {
		return nil, 0, 0, false
	}

	nm := unsafe.String(unsafe.SliceData(name), len(name)) // not kept beyond this call

	// Static data: Answer's reply, packed once, when asked as it was
	// packed (lower case; a question spelt otherwise gets the owner names
	// spelt as asked from Answer).
	if t, ok := h.tmpl[tmplKey{nm, qtype}]; ok && bytes.Equal(t[headerLen:qend], q[headerLen:qend]) {
		out := append(b.out[:0], t...)
		out[0], out[1] = q[0], q[1]
		out[2] = t[2]&^0x01 | q[2]&0x01 // RD as asked
		out[3] = t[3]&^0x10 | q[3]&0x10 // CD as asked
		if edns {
			out = appendOPT(out, do)
		}
		b.out = out
		return out, qtype, int(t[3] & 0x0f), true
	}

	// The same decisions as lookup, for the names it answers from the
	// view; every name lookup treats otherwise goes to Answer.
	if !strings.HasSuffix(nm, h.zoneDot) {
		return nil, 0, 0, false // the apex or outside the zone
	}
	if _, static := h.static[nm]; static || h.ents[nm] || len(h.zoneTXT(nm)) > 0 {
		return nil, 0, 0, false
	}
	label := nm[:len(nm)-len(h.zoneDot)]
	rcode = dns.RcodeSuccess
	values := 0
	if strings.IndexByte(label, '.') >= 0 {
		rcode = dns.RcodeNameError
	} else {
		var exists bool
		b.txt, b.ends, exists = h.live.AppendLive(b.txt[:0], b.ends[:0], label)
		switch {
		case !exists:
			rcode = dns.RcodeNameError
		case qtype == dns.TypeTXT:
			values = len(b.ends)
		}
	}

	out := append(b.out[:0], q[0], q[1],
		0x80|0x04|q[2]&0x01,   // QR, AA, RD as asked
		q[3]&0x10|byte(rcode), // CD as asked
		0, 1, 0, 0, 0, 0, 0, 0)
	out = append(out, q[headerLen:qend]...)
	limit := size
	if edns {
		limit -= optLen
	}
	an, start := 0, 0
	for _, end := range b.ends[:values] {
		text := b.txt[start:end]
		start = end
		// miekg/dns reads \ in a TXT string as an escape, and a string
		// holds at most 255 octets: such values go the way Answer packs them.
		if len(text) > 255 || bytes.IndexByte(text, '\\') >= 0 {
			return nil, 0, 0, false
		}
		if len(out)+12+1+len(text) > limit {
			out[2] |= 0x02 // TC: the oldest values did not fit
			break
		}
		out = binary.BigEndian.AppendUint16(out, ptrQName)
		out = binary.BigEndian.AppendUint16(out, dns.TypeTXT)
		out = binary.BigEndian.AppendUint16(out, dns.ClassINET)
		out = binary.BigEndian.AppendUint32(out, h.txtTTL)
		out = binary.BigEndian.AppendUint16(out, uint16(1+len(text)))
		out = append(out, byte(len(text)))
		out = append(out, text...)
		an++
	}
	binary.BigEndian.PutUint16(out[6:], uint16(an))
	if an == 0 {
		// NXDOMAIN or NODATA: the SOA in the authority section (RFC 2308).
		if len(out)+len(h.soaWire) > limit {
			return nil, 0, 0, false
		}
		out = append(out, h.soaWire...)
		out[9] = 1
	}
	if edns {
		out = appendOPT(out, do)
	}
	b.out = out
	return out, qtype, rcode, true
}

// appendOPT adds our OPT record (payload UDPSize, the DO bit as asked) to
// the reply out and counts it.
func appendOPT(out []byte, do bool) []byte {
	var flags byte
	if do {
		flags = 0x80
	}
	binary.BigEndian.PutUint16(out[10:], binary.BigEndian.Uint16(out[10:])+1)
	return append(out, 0, 0, byte(dns.TypeOPT), byte(UDPSize>>8), byte(UDPSize&0xff), 0, 0, flags, 0, 0, 0)
}
