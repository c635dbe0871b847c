package resolver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// answerFunc builds the response to one query; transport is "udp", "tcp",
// "dot", "doh-get" or "doh-post".
type answerFunc func(q *dns.Msg, transport string) *dns.Msg

// seen records what a test server received.
type seen struct {
	mu    sync.Mutex
	msgs  []*dns.Msg
	trans []string
}

func (s *seen) add(m *dns.Msg, transport string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m.Copy())
	s.trans = append(s.trans, transport)
}

func (s *seen) all() ([]*dns.Msg, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*dns.Msg(nil), s.msgs...), append([]string(nil), s.trans...)
}

// txtAnswer answers every TXT question with one TXT "hello" (split over
// two character-strings) and NXDOMAIN for anything else.
func txtAnswer(q *dns.Msg, _ string) *dns.Msg {
	r := new(dns.Msg)
	r.SetReply(q)
	if q.Question[0].Qtype != dns.TypeTXT {
		r.Rcode = dns.RcodeNameError
		return r
	}
	r.Answer = append(r.Answer, &dns.TXT{
		Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
		Txt: []string{"hel", "lo"},
	})
	return r
}

func handler(s *seen, transport string, f answerFunc) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		s.add(q, transport)
		if r := f(q, transport); r != nil {
			_ = w.WriteMsg(r)
		}
	})
}

// startPlain starts a DNS server on one 127.0.0.1 port over UDP and TCP.
func startPlain(t *testing.T, f answerFunc) (addr string, s *seen) {
	t.Helper()
	s = &seen{}
	var pc net.PacketConn
	var l net.Listener
	for range 20 {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		pc = nil
	}
	if pc == nil {
		t.Fatal("no free UDP+TCP port pair on 127.0.0.1")
	}
	serve(t, &dns.Server{PacketConn: pc, Handler: handler(s, "udp", f)})
	serve(t, &dns.Server{Listener: l, Handler: handler(s, "tcp", f)})
	return pc.LocalAddr().String(), s
}

func serve(t *testing.T, srv *dns.Server) {
	t.Helper()
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
}

// testCert returns a self-signed certificate for localhost, 127.0.0.1 and
// ::1, and a pool trusting it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "strictacme test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// startDoT starts a DNS-over-TLS server on 127.0.0.1.
func startDoT(t *testing.T, cert tls.Certificate, f answerFunc) (addr string, s *seen) {
	t.Helper()
	s = &seen{}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, &dns.Server{Listener: l, Net: "tcp-tls", Handler: handler(s, "dot", f)})
	return l.Addr().String(), s
}

// dohHandler serves RFC 8484 GET and POST, answering with f, and records
// the wire ID of each query in s.
func dohHandler(t *testing.T, s *seen, f answerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wire []byte
		var err error
		transport := "doh-post"
		switch r.Method {
		case http.MethodGet:
			transport = "doh-get"
			wire, err = base64.RawURLEncoding.DecodeString(r.URL.Query().Get("dns"))
		case http.MethodPost:
			if ct := r.Header.Get("Content-Type"); ct != dnsMessage {
				http.Error(w, "bad content type "+ct, http.StatusUnsupportedMediaType)
				return
			}
			wire, err = io.ReadAll(r.Body)
		default:
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q := new(dns.Msg)
		if err := q.Unpack(wire); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.add(q, transport)
		resp := f(q, transport)
		out, err := resp.Pack()
		if err != nil {
			t.Errorf("pack: %v", err)
			return
		}
		w.Header().Set("Content-Type", dnsMessage)
		_, _ = w.Write(out)
	})
}

// startDoH starts an HTTPS server on 127.0.0.1 with cert serving h.
func startDoH(t *testing.T, cert tls.Certificate, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected in some tests
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/dns-query"
}

// closedPort returns a 127.0.0.1 address nothing listens on: a connection
// to it is refused at once, as a firewall that rejects (rather than drops)
// answers.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// resetServer accepts TCP connections and resets each at once (SO_LINGER
// 0 makes Close send RST), as a middlebox that kills a flow it dislikes.
func resetServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}
