package resolver

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/miekg/dns"
)

// wireClient speaks DNS over UDP, TCP or TLS with miekg/dns: plain DNS (RFC
// 1035 §4.2) and DNS-over-TLS (RFC 7858: TCP framing with the two-byte
// length prefix inside TLS). It opens one connection per exchange, which
// is simple and enough for a handful of polling queries.
type wireClient struct {
	spec    string
	addr    string // host:port
	nets    []string
	tls     *tls.Config
	timeout time.Duration
}

func (w *wireClient) String() string { return w.spec }

// newPlain is plain DNS: UDP, then TCP when the response is truncated
// (RFC 7766 §5), or TCP only.
func newPlain(spec, addr string, tcpOnly bool, opts Options) Resolver {
	nets := []string{"udp", "tcp"}
	if tcpOnly {
		nets = []string{"tcp"}
	}
	if opts.IPv4Only {
		for i := range nets {
			nets[i] += "4"
		}
	}
	return &wireClient{spec: spec, addr: addr, nets: nets, timeout: opts.Timeout}
}

// newDoT is DNS-over-TLS (RFC 7858 §3) on addr, verifying the certificate
// against the host from the spec.
func newDoT(spec, addr string, opts Options) Resolver {
	host, _, _ := net.SplitHostPort(addr)
	network := "tcp-tls"
	if opts.IPv4Only {
		network = "tcp4-tls"
	}
	return &wireClient{
		spec:    spec,
		addr:    addr,
		nets:    []string{network},
		tls:     &tls.Config{ServerName: host, RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		timeout: opts.Timeout,
	}
}

// Exchange sends q over each network in turn, moving on only when the
// response came back truncated (TC bit).
func (w *wireClient) Exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
	var resp *dns.Msg
	for _, network := range w.nets {
		var err error
		resp, err = w.exchange(ctx, network, q)
		if err != nil {
			return nil, err
		}
		if !resp.Truncated {
			return resp, nil
		}
	}
	return resp, nil // truncated even over the last network: return what we have
}

func (w *wireClient) exchange(ctx context.Context, network string, q *dns.Msg) (*dns.Msg, error) {
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	c := &dns.Client{Net: network, TLSConfig: w.tls, Timeout: w.timeout}
	conn, err := c.DialContext(rctx, w.addr)
	if err != nil {
		return nil, classify(w.spec, ctx, w.timeout, err)
	}
	// miekg/dns applies the context deadline but not its cancellation to
	// reads; closing the connection makes cancellation prompt as well.
	stop := context.AfterFunc(rctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	// The query goes out as given: the caller owns the ID and RD bit, and
	// miekg/dns only reads q when packing.
	resp, _, err := c.ExchangeWithConnContext(rctx, q, conn)
	if err != nil {
		if rctx.Err() != nil && ctx.Err() == nil {
			err = context.DeadlineExceeded
		}
		return nil, classify(w.spec, ctx, w.timeout, err)
	}
	if err := checkResponse(w.spec, q, resp); err != nil {
		return nil, err
	}
	return resp, nil
}
