package resolver

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/miekg/dns"
)

// dnsMessage is the media type of RFC 8484 §6.
const dnsMessage = "application/dns-message"

// maxDNSMessage is the largest DNS message (two-byte length, RFC 1035
// §4.2.2); a longer body is not a DNS message.
const maxDNSMessage = 65535

// doh is a DNS-over-HTTPS resolver (RFC 8484).
type doh struct {
	spec    string
	url     *url.URL
	method  string // http.MethodGet or http.MethodPost
	client  *http.Client
	timeout time.Duration
}

func (d *doh) String() string { return d.spec }

// newTransport builds the DoH transport: proxy from the environment (the
// HTTPS-only egress case, PR04), configured roots, tcp4 when IPv4Only, and a
// handshake bounded by the exchange timeout.
func newTransport(opts Options) *http.Transport {
	dialer := &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second}
	network := "tcp"
	if opts.IPv4Only {
		network = "tcp4"
	}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: opts.Timeout,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        16,
		IdleConnTimeout:     90 * time.Second,
	}
}

// Exchange sends q with ID 0 (RFC 8484 §4.1: keeps GET URLs cacheable) and
// returns the response with q's ID restored.
func (d *doh) Exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
	wire := q.Copy()
	wire.Id = 0
	packed, err := wire.Pack()
	if err != nil {
		return nil, &Error{Endpoint: d.spec, Reason: "cannot pack query: " + err.Error(), Err: err, Kind: KindProtocol}
	}
	rctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()

	req, err := d.request(rctx, packed)
	if err != nil {
		return nil, &Error{Endpoint: d.spec, Reason: err.Error(), Err: err, Kind: KindProtocol}
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, classify(d.spec, ctx, d.timeout, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // lets the connection be reused
		return nil, &Error{
			Endpoint:   d.spec,
			Reason:     "HTTP " + resp.Status + statusHint(resp.StatusCode),
			Kind:       KindHTTPStatus,
			HTTPStatus: resp.StatusCode,
		}
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != dnsMessage {
		return nil, &Error{
			Endpoint: d.spec,
			Reason:   fmt.Sprintf("Content-Type %q, want %s (not a DoH endpoint, or a proxy's page?)", ct, dnsMessage),
			Kind:     KindProtocol,
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDNSMessage+1))
	if err != nil {
		return nil, classify(d.spec, ctx, d.timeout, err)
	}
	if len(body) > maxDNSMessage {
		return nil, &Error{Endpoint: d.spec, Reason: "response body longer than a DNS message", Kind: KindProtocol}
	}
	msg := new(dns.Msg)
	if err := msg.Unpack(body); err != nil {
		return nil, &Error{Endpoint: d.spec, Reason: "response is not a DNS message: " + err.Error(), Err: err, Kind: KindProtocol}
	}
	if err := checkResponse(d.spec, q, msg); err != nil {
		return nil, err
	}
	msg.Id = q.Id
	return msg, nil
}

func (d *doh) request(ctx context.Context, packed []byte) (*http.Request, error) {
	var req *http.Request
	var err error
	if d.method == http.MethodGet {
		u := *d.url
		v := u.Query()
		v.Set("dns", base64.RawURLEncoding.EncodeToString(packed))
		u.RawQuery = v.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, d.url.String(), bytes.NewReader(packed))
		if err == nil {
			req.Header.Set("Content-Type", dnsMessage)
		}
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", dnsMessage)
	return req, nil
}

// statusHint says what usually causes a status seen from DoH servers in
// locked-down networks.
func statusHint(code int) string {
	switch code {
	case http.StatusForbidden, http.StatusUnavailableForLegalReasons:
		return " (a filtering proxy?)"
	case http.StatusProxyAuthRequired:
		return " (the HTTPS proxy wants credentials)"
	case http.StatusNotFound:
		return " (wrong path? most DoH servers use /dns-query)"
	case http.StatusMethodNotAllowed:
		return " (server does not accept this method; try the other of GET/POST)"
	case http.StatusUnsupportedMediaType, http.StatusBadRequest:
		return " (server does not speak RFC 8484 wire format at this URL?)"
	case http.StatusTooManyRequests:
		return " (rate limited)"
	}
	return ""
}
