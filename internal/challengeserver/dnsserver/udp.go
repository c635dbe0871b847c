package dnsserver

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// udpConn is one UDP socket as miekg/dns's server reads it (a
// net.PacketConn; its server loop calls ReadFrom from one goroutine). The
// questions Handler.answerFast takes are answered inside ReadFrom, without
// the goroutine, message unpacking and packing that miekg/dns spends on
// each packet; every other packet is handed to the server as before.
//
// On a socket bound to an unspecified address (":53") every reply leaves
// from the address its question was sent to (IP_PKTINFO and
// IPV6_PKTINFO), as miekg/dns does for its own sockets: a multi-homed
// server must not answer from another address.
type udpConn struct {
	*net.UDPConn
	h        *Handler
	wildcard bool
	oob      []byte
	fb       fastBuf
}

// peer is the client address handed to miekg/dns with a packet, with the
// address the question was sent to on a wildcard socket.
type peer struct {
	net.UDPAddr
	dst netip.Addr
}

func newUDPConn(c *net.UDPConn, h *Handler) *udpConn {
	u := &udpConn{UDPConn: c, h: h}
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.IsUnspecified() {
		u.wildcard = true
		// As miekg/dns's setUDPSocketOptions: the family that does not
		// apply fails.
		err6 := ipv6.NewPacketConn(c).SetControlMessage(ipv6.FlagDst, true)
		err4 := ipv4.NewPacketConn(c).SetControlMessage(ipv4.FlagDst, true)
		if err6 == nil || err4 == nil {
			u.oob = make([]byte, max(len(ipv4.NewControlMessage(ipv4.FlagDst)), len(ipv6.NewControlMessage(ipv6.FlagDst))))
		}
	}
	return u
}

// ReadFrom returns the next packet the fast path does not answer.
func (u *udpConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, oobn, _, addr, err := u.ReadMsgUDPAddrPort(p, u.oob)
		if err != nil {
			return n, nil, err
		}
		var dst netip.Addr
		if u.wildcard {
			dst = parseDst(u.oob[:oobn])
		}
		if reply, qtype, rcode, ok := u.h.answerFast(&u.fb, p[:n]); ok {
			// As miekg/dns's server, a failed write of a reply is not
			// retried: the client asks again.
			_, _ = u.write(reply, addr, dst)
			if u.h.Observe != nil {
				u.h.Observe(qtype, rcode, "udp")
			}
			continue
		}
		return n, &peer{UDPAddr: *net.UDPAddrFromAddrPort(addr), dst: dst}, nil
	}
}

// WriteTo sends a reply of miekg/dns's server to a peer from ReadFrom.
func (u *udpConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if p, ok := addr.(*peer); ok {
		return u.write(b, p.AddrPort(), p.dst)
	}
	return u.UDPConn.WriteTo(b, addr)
}

// write sends b to addr, from dst when it is known.
func (u *udpConn) write(b []byte, addr netip.AddrPort, dst netip.Addr) (int, error) {
	var oob []byte
	switch {
	case !dst.IsValid():
	case dst.Is4() || dst.Is4In6():
		oob = (&ipv4.ControlMessage{Src: dst.Unmap().AsSlice()}).Marshal()
	default:
		oob = (&ipv6.ControlMessage{Src: dst.AsSlice()}).Marshal()
	}
	n, _, err := u.WriteMsgUDPAddrPort(b, oob, addr)
	return n, err
}

// parseDst returns the destination address in a packet's control
// messages (invalid when there is none).
func parseDst(oob []byte) netip.Addr {
	if len(oob) == 0 {
		return netip.Addr{}
	}
	var cm6 ipv6.ControlMessage
	if cm6.Parse(oob) == nil && cm6.Dst != nil {
		a, _ := netip.AddrFromSlice(cm6.Dst)
		return a
	}
	var cm4 ipv4.ControlMessage
	if cm4.Parse(oob) == nil && cm4.Dst != nil {
		a, _ := netip.AddrFromSlice(cm4.Dst)
		return a
	}
	return netip.Addr{}
}
