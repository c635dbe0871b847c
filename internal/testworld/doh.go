package testworld

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DoHPath is the URL path of every DoH endpoint (RFC 8484 §3 example).
const DoHPath = "/dns-query"

// dohMediaType is the DoH message media type (RFC 8484 §6).
const dohMediaType = "application/dns-message"

// DoHKind selects how a DoH endpoint added with World.AddDoHEndpoint behaves.
type DoHKind int

const (
	// DoHOK serves DoH from the world's caching Recursive (shared cache and
	// counters) with a certificate from the world's test CA.
	DoHOK DoHKind = iota
	// DoHForbidden answers every request with HTTP 403 Forbidden.
	DoHForbidden
	// DoHUntrustedCert serves working DoH with a certificate from a CA that
	// the world's RootPool does not contain, so verifying clients fail the
	// TLS handshake.
	DoHUntrustedCert
	// DoHHang accepts TCP connections and never sends a byte (not even the
	// TLS handshake) until the world is closed.
	DoHHang
	// DoHConnRefused is an address nothing listens on: every connection is
	// refused (a firewall that rejects).
	DoHConnRefused
	// DoHReset accepts TCP connections and resets each at once (RST), as a
	// middlebox that kills flows to hosts it blocks.
	DoHReset
	// DoHRefused serves DoH, trusted, but answers every question REFUSED
	// (a resolver not open to this client).
	DoHRefused
	// DoHNotImpSOA serves DoH from the caching Recursive but answers
	// NOTIMP to SOA questions, as some filtering resolvers do.
	DoHNotImpSOA
)

// String returns the kind's name.
func (k DoHKind) String() string {
	switch k {
	case DoHOK:
		return "ok"
	case DoHForbidden:
		return "forbidden403"
	case DoHUntrustedCert:
		return "untrusted-cert"
	case DoHHang:
		return "hang"
	case DoHConnRefused:
		return "connection-refused"
	case DoHReset:
		return "reset"
	case DoHRefused:
		return "refused"
	case DoHNotImpSOA:
		return "notimp-soa"
	}
	return "DoHKind(" + strconv.Itoa(int(k)) + ")"
}

// dohHandler serves RFC 8484 DoH (GET with ?dns= and POST) from r.
func dohHandler(r *Recursive) http.Handler { return dohServe(r.handle) }

// dohServe serves RFC 8484 DoH with answer building each response.
func dohServe(answer func(context.Context, *dns.Msg) *dns.Msg) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(DoHPath, func(w http.ResponseWriter, req *http.Request) {
		var wire []byte
		switch req.Method {
		case http.MethodGet:
			// RFC 8484 §4.1: base64url without padding; accept padding too.
			v := req.URL.Query().Get("dns")
			if v == "" {
				http.Error(w, "missing dns parameter", http.StatusBadRequest)
				return
			}
			b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
			if err != nil {
				http.Error(w, "bad dns parameter: "+err.Error(), http.StatusBadRequest)
				return
			}
			wire = b
		case http.MethodPost:
			if ct := req.Header.Get("Content-Type"); ct != dohMediaType {
				http.Error(w, "content type must be "+dohMediaType, http.StatusUnsupportedMediaType)
				return
			}
			b, err := io.ReadAll(io.LimitReader(req.Body, dns.MaxMsgSize+1))
			if err != nil || len(b) > dns.MaxMsgSize {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			wire = b
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		q := new(dns.Msg)
		if err := q.Unpack(wire); err != nil {
			http.Error(w, "malformed DNS message: "+err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(req.Context(), 5*time.Second)
		defer cancel()
		resp := answer(ctx, q)
		if q.IsEdns0() != nil && resp.IsEdns0() == nil {
			resp.SetEdns0(4096, false)
		}
		out, err := resp.Pack()
		if err != nil {
			http.Error(w, "packing answer: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", dohMediaType)
		// RFC 8484 §5.1: freshness no longer than the smallest TTL.
		w.Header().Set("Cache-Control", "max-age="+strconv.Itoa(int(minTTL(resp))))
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		_, _ = w.Write(out)
	})
	return mux
}

func minTTL(m *dns.Msg) uint32 {
	ttl := uint32(300)
	for _, rr := range append(append([]dns.RR(nil), m.Answer...), m.Ns...) {
		ttl = min(ttl, rr.Header().Ttl)
	}
	if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		ttl = 0
	}
	return ttl
}

// startTLSServer serves h over HTTPS (HTTP/2 and HTTP/1.1, RFC 8484 §5.2)
// on 127.0.0.1:0 with cert.
func startTLSServer(h http.Handler, cert tls.Certificate) *httptest.Server {
	s := httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	s.Config.ErrorLog = nilLogger()
	s.StartTLS()
	return s
}

// hangServer accepts TCP connections and holds them silently until closed.
type hangServer struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  chan struct{}
	once  sync.Once
}

func newHangServer() (*hangServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("testworld: listening for hanging endpoint: %w", err)
	}
	h := &hangServer{ln: ln, done: make(chan struct{})}
	go h.accept()
	return h, nil
}

func (h *hangServer) accept() {
	defer close(h.done)
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.conns = append(h.conns, c)
		h.mu.Unlock()
	}
}

func (h *hangServer) Close() {
	h.once.Do(func() {
		h.ln.Close()
		<-h.done
		h.mu.Lock()
		for _, c := range h.conns {
			c.Close()
		}
		h.conns = nil
		h.mu.Unlock()
	})
}

// forbidden answers 403 to everything.
var forbidden = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "forbidden", http.StatusForbidden)
})

var errClosed = errors.New("testworld: world is closed")
