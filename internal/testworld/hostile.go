package testworld

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/miekg/dns"
)

// hostileDoH starts the DoH endpoints that misbehave the way locked-down
// networks make them: refused or reset connections, REFUSED answers, NOTIMP
// for SOA. The caller holds w.mu.
func (w *World) hostileDoH(kind DoHKind) (string, io.Closer, error) {
	switch kind {
	case DoHConnRefused:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, fmt.Errorf("testworld: %w", err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there any more: connections are refused
		return "https://" + addr + DoHPath, closerFunc(func() {}), nil
	case DoHReset:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, fmt.Errorf("testworld: %w", err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // Close sends RST
				}
				c.Close()
			}
		}()
		return "https://" + l.Addr().String() + DoHPath, closerFunc(func() { l.Close(); <-done }), nil
	case DoHRefused, DoHNotImpSOA:
		cert, err := w.tlsCA.serverCert()
		if err != nil {
			return "", nil, err
		}
		answer := func(_ context.Context, q *dns.Msg) *dns.Msg {
			m := new(dns.Msg).SetRcode(q, dns.RcodeRefused)
			m.RecursionAvailable = true
			return m
		}
		if kind == DoHNotImpSOA {
			answer = func(ctx context.Context, q *dns.Msg) *dns.Msg {
				if len(q.Question) == 1 && q.Question[0].Qtype == dns.TypeSOA {
					return new(dns.Msg).SetRcode(q, dns.RcodeNotImplemented)
				}
				return w.Recursive.handle(ctx, q)
			}
		}
		s := startTLSServer(dohServe(answer), cert)
		return s.URL + DoHPath, closerFunc(s.Close), nil
	}
	return "", nil, fmt.Errorf("testworld: unknown DoH endpoint kind %v", kind)
}
