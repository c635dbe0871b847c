package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Timeouts of every listener.
const (
	ReadTimeout  = 2 * time.Second // one UDP read or TCP message
	WriteTimeout = 2 * time.Second
	TCPIdle      = 8 * time.Second // idle TCP connection (RFC 7766 §6.2.3)
)

// Server serves one Handler on UDP and TCP at several addresses.
type Server struct {
	servers []*dns.Server
	addrs   []net.Addr
	wg      sync.WaitGroup
}

// Listen binds UDP and TCP on every address ("127.0.0.1:53", "[::1]:53",
// ":53") and starts serving h. Port 0 picks a free port, the same one for
// UDP and TCP of one address. On any bind error nothing stays open. When h
// is a *Handler, its fast path answers the common UDP questions (udpConn).
func Listen(addrs []string, h dns.Handler) (*Server, error) {
	if len(addrs) == 0 {
		return nil, errors.New("dnsserver: no listen address")
	}
	s := &Server{}
	for _, a := range addrs {
		pc, l, err := bindPair(a)
		if err != nil {
			s.Shutdown(context.Background())
			return nil, fmt.Errorf("dnsserver: listen %s: %w", a, err)
		}
		if fast, ok := h.(*Handler); ok {
			pc = newUDPConn(pc.(*net.UDPConn), fast)
		}
		udp := &dns.Server{PacketConn: pc, Handler: h, ReadTimeout: ReadTimeout, WriteTimeout: WriteTimeout}
		tcp := &dns.Server{Listener: l, Handler: h, ReadTimeout: ReadTimeout, WriteTimeout: WriteTimeout,
			IdleTimeout: func() time.Duration { return TCPIdle }, MaxTCPQueries: 128}
		s.addrs = append(s.addrs, pc.LocalAddr(), l.Addr())
		for _, srv := range []*dns.Server{udp, tcp} {
			started := make(chan struct{})
			srv.NotifyStartedFunc = func() { close(started) }
			s.servers = append(s.servers, srv)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				_ = srv.ActivateAndServe()
			}()
			<-started
		}
	}
	return s, nil
}

// bindPair opens UDP and TCP on one address; with port 0 it retries until
// both get the same port.
func bindPair(addr string) (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		host, _, _ := net.SplitHostPort(addr)
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		lastErr = err
		if _, p, _ := net.SplitHostPort(addr); p != "0" {
			break
		}
	}
	return nil, nil, lastErr
}

// Addrs returns the bound addresses, UDP then TCP for each listen address.
func (s *Server) Addrs() []net.Addr { return s.addrs }

// UDPAddr returns the i-th listen address's UDP address as "host:port".
func (s *Server) UDPAddr(i int) string { return s.addrs[2*i].String() }

// Shutdown stops every listener and waits for them, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	for _, srv := range s.servers {
		_ = srv.ShutdownContext(ctx)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
