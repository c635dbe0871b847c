package testworld

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// dnsServer serves one handler over UDP and TCP on the same loopback port.
type dnsServer struct {
	addr string
	udp  *dns.Server
	tcp  *dns.Server
	once sync.Once
}

// listenDNS binds UDP and TCP on 127.0.0.1 with the same ephemeral port and
// starts serving h on both. It retries when the TCP port is taken.
func listenDNS(h dns.Handler) (*dnsServer, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testworld: listening on UDP: %w", err)
		}
		addr := pc.LocalAddr().String()
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			pc.Close()
			lastErr = err
			continue
		}
		s := &dnsServer{
			addr: addr,
			udp:  &dns.Server{PacketConn: pc, Handler: h},
			tcp:  &dns.Server{Listener: ln, Handler: h, ReadTimeout: 5 * time.Second},
		}
		if err := startDNS(s.udp); err != nil {
			pc.Close()
			ln.Close()
			return nil, err
		}
		if err := startDNS(s.tcp); err != nil {
			s.udp.Shutdown()
			ln.Close()
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("testworld: no port free for both UDP and TCP: %w", lastErr)
}

func startDNS(s *dns.Server) error {
	started := make(chan struct{})
	errc := make(chan error, 1)
	s.NotifyStartedFunc = func() { close(started) }
	go func() { errc <- s.ActivateAndServe() }()
	select {
	case <-started:
		return nil
	case err := <-errc:
		return fmt.Errorf("testworld: starting DNS server: %w", err)
	}
}

func (s *dnsServer) close() error {
	var errs []error
	s.once.Do(func() {
		errs = append(errs, s.udp.Shutdown(), s.tcp.Shutdown())
	})
	return errors.Join(errs...)
}

// writeReply sends resp, truncating it for UDP to the requester's EDNS(0)
// buffer size (RFC 6891 §6.2.5) or 512 octets (RFC 1035 §4.2.1).
func writeReply(w dns.ResponseWriter, req, resp *dns.Msg) {
	if opt := req.IsEdns0(); opt != nil && resp.IsEdns0() == nil {
		resp.SetEdns0(1232, false)
	}
	if _, ok := w.RemoteAddr().(*net.UDPAddr); ok {
		size := 512
		if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		resp.Truncate(size)
	}
	_ = w.WriteMsg(resp)
}

// queryCounter counts queries in total and per (qname, qtype).
type queryCounter struct {
	mu    sync.Mutex
	total int
	by    map[qkey]int
	at    map[qkey][]time.Time // when each query came, on the world's Clock
}

type qkey struct {
	name  string
	qtype uint16
}

func (c *queryCounter) add(name string, qtype uint16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.by == nil {
		c.by = make(map[qkey]int)
	}
	c.total++
	c.by[qkey{canonical(name), qtype}]++
}

// addAt counts a query that came at t.
func (c *queryCounter) addAt(name string, qtype uint16, t time.Time) {
	c.add(name, qtype)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == nil {
		c.at = make(map[qkey][]time.Time)
	}
	k := qkey{canonical(name), qtype}
	c.at[k] = append(c.at[k], t)
}

func (c *queryCounter) timesFor(name string, qtype uint16) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.at[qkey{canonical(name), qtype}])
}

func (c *queryCounter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

func (c *queryCounter) getFor(name string, qtype uint16) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.by[qkey{canonical(name), qtype}]
}

func (c *queryCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total = 0
	c.by = nil
	c.at = nil
}

// canonical returns name fully qualified and in lower case (RFC 4343).
func canonical(name string) string {
	return strings.ToLower(dns.Fqdn(name))
}
