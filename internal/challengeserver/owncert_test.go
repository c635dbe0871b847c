package challengeserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/strictacme/strictacme/internal/challengeserver/acmeobtain"
	"github.com/strictacme/strictacme/internal/challengeserver/store/storetest"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/testworld"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// syncBuffer is a log sink shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

const acmeServeConfig = `
[general]
listen = ["127.0.0.1:0"]
domain = "auth.example.org"
nsname = "ns1.auth.example.org"
nsadmin = "hostmaster@example.org"
records = ["@ NS ns1", "ns1 A 127.0.0.1", "api A 127.0.0.1"]

[database]
engine = %q
connection = %q
poll_interval = "50ms"

[api]
listen = ["127.0.0.1:0"]
tls = "acme"
acme_directory = %q
acme_ca_roots = %q
acme_accept_tos = true
acme_email = "ops@example.org"
acme_state_dir = %q
acme_names = ["auth.example.org", "api.auth.example.org"]
acme_profile = "default"
`

// tls = "acme" end to end: two instances on one store obtain the API
// certificate from Pebble, which validates through the server's own DNS.
// Only one orders (the store lease); both serve the same certificate over
// HTTPS; when a fake clock makes it due, one instance renews and both serve
// the new one.
func TestOwnCertificateTwoInstances(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testOwnCertificate(t, "sqlite", filepath.Join(t.TempDir(), "serve.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		testOwnCertificate(t, "postgres", storetest.Postgres(t))
	})
}

func testOwnCertificate(t *testing.T, engine, conn string) {
	w := testworld.Start(t, testworld.Options{Zones: append(append([]string{}, testworld.DefaultZones...), "example.org.")})
	clock := &fakeClock{t: time.Now()}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var srvs []*Server
	for i := range 2 {
		cfg, err := ParseConfig("serve.toml", []byte(fmt.Sprintf(acmeServeConfig, engine, conn, w.DirectoryURL, w.TLSRootFile, t.TempDir())))
		if err != nil {
			t.Fatal(err)
		}
		ac := cfg.API
		ob := acmeobtain.Config{Directory: ac.ACMEDirectory, Email: ac.ACMEEmail, AcceptTOS: *ac.ACMEAcceptTOS, CARootsFile: ac.ACMECARoots, StateDir: ac.ACMEStateDir, Profile: ac.ACMEProfile}
		srv, err := New(t.Context(), cfg, Options{BcryptCost: bcrypt.MinCost, Now: clock.Now, Obtain: ob.Obtain,
			CertCheckInterval: 50 * time.Millisecond, Log: log.With("instance", i)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = srv.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		srvs = append(srvs, srv)
	}
	w.Forward("auth.example.org.", srvs[0].DNS.UDPAddr(0))
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(w.CA.RootPEM())
	// serial returns the serial of the certificate srv's API presents for
	// api.auth.example.org once /health answers 200 over verified HTTPS;
	// nil while it does not.
	serial := func(srv *Server) *big.Int {
		hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "api.auth.example.org"},
		}}
		defer hc.CloseIdleConnections()
		res, err := hc.Get("https://" + srv.APIAddrs()[0].String() + "/health")
		if err != nil {
			return nil
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.TLS == nil {
			return nil
		}
		return res.TLS.PeerCertificates[0].SerialNumber
	}
	// waitSerial waits (real time: Pebble validates for real) until both
	// instances serve one certificate different from old.
	waitSerial := func(old *big.Int) *big.Int {
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			a, b := serial(srvs[0]), serial(srvs[1])
			if a != nil && b != nil && a.Cmp(b) == 0 && (old == nil || a.Cmp(old) != 0) {
				return a
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("the instances do not serve one new certificate over HTTPS")
		return nil
	}
	first := waitSerial(nil)
	if n := srvs[0].CertificateOrders() + srvs[1].CertificateOrders(); n != 1 {
		t.Fatalf("%d orders for the first certificate, want 1 (the lease)", n)
	}
	// Plain HTTP is never served.
	if res, err := http.Get("http://" + srvs[1].APIAddrs()[0].String() + "/health"); err == nil && res.StatusCode == 200 {
		t.Fatal("the API answered plain HTTP")
	}

	// Due: the fake clock just past the renewal point of the first
	// certificate (and before that of the next one, issued later in real
	// time). One instance renews.
	srvs[0].certs.mu.RLock()
	leaf := srvs[0].certs.leaf
	srvs[0].certs.mu.RUnlock()
	if ordered, err := srvs[1].CheckCertificate(context.Background()); ordered || err != nil {
		t.Fatalf("not due yet: ordered=%v err=%v", ordered, err)
	}
	// Certificate times have one-second resolution and Pebble stamps them
	// in real time: a renewal issued within the first certificate's second
	// would share its renewal point and be due at once on the fake clock.
	if d := time.Until(leaf.NotBefore.Add(1100 * time.Millisecond)); d > 0 {
		time.Sleep(d)
	}
	clock.Set(renewal.FallbackAt(renewal.Cert{NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter}).Add(time.Millisecond))
	second := waitSerial(first)
	if n := srvs[0].CertificateOrders() + srvs[1].CertificateOrders(); n != 2 {
		t.Fatalf("%d orders after renewal, want 2", n)
	}
	if second.Cmp(first) == 0 {
		t.Fatal("the same certificate after renewal")
	}
	// Not due any more: a check orders nothing.
	for _, s := range srvs {
		if ordered, err := s.CheckCertificate(context.Background()); ordered || err != nil {
			t.Fatalf("fresh certificate: ordered=%v err=%v", ordered, err)
		}
	}
	// The challenge values were cleaned up (the other instance learns it at
	// its next poll), and the key never reached the log.
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		txt := srvs[1].View.ZoneTXT("_acme-challenge")
		if len(txt) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("challenge values left behind: %v", txt)
			break
		}
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("a private key appears in the log")
	}
}
