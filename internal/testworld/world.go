// Package testworld builds a whole ACME and DNS world on loopback in one
// call: an in-process Pebble CA (RFC 8555) with fault injection, an
// authoritative DNS server with in-memory zones, a caching recursive resolver
// served over DNS-over-HTTPS (RFC 8484) and plain DNS, a non-caching
// validating resolver that the CA uses, and a fake DNS provider HTTP API with
// a libdns client. The API can accept writes that the authoritative server
// serves only later on the world's Clock (API.SetServingLag), and the
// caching resolver records when each question came (Recursive.QueryTimes),
// so tests can show that nothing asked about a name before it was served. Tests everywhere and the `strictacme sandbox` command use
// it. Everything listens on 127.0.0.1 ephemeral ports; nothing leaves the
// machine.
//
//	w := testworld.Start(t, testworld.Options{})
//	w.DNS.Set("_acme-challenge.example.com.", dns.TypeTXT, 60, "token")
//	// ACME at w.DirectoryURL, DoH at w.DoHURL, trust w.RootPool()
package testworld

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultZones are the zones a World has when Options.Zones is nil:
// "example.com.", "example.net." and the IDN "xn--bcher-kva.example."
// ("bücher.example").
var DefaultZones = []string{"example.com.", "example.net.", "xn--bcher-kva.example."}

// InDefaultZones reports whether name (ASCII, with or without the trailing
// dot, any case) is one of DefaultZones or a name under one.
func InDefaultZones(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, ".")) + "."
	for _, z := range DefaultZones {
		if name == z || strings.HasSuffix(name, "."+z) {
			return true
		}
	}
	return false
}

// DefaultCAAIdentity is Pebble's issuer domain name, the default of
// Options.CAAIdentities (used as the dns-persist-01 issuer-domain-name).
const DefaultCAAIdentity = "pebble.letsencrypt.org"

// Options configure a World. The zero value gives the defaults documented
// on each field.
type Options struct {
	// Zones are created at start; nil means DefaultZones, an empty non-nil
	// slice means none.
	Zones []string
	// SOATTL and SOAMinimum are the TTL and MINIMUM field of every zone's
	// SOA, in seconds; 0 means 300. Negative answers are cached for the
	// smaller of the two (RFC 2308 §5).
	SOATTL     uint32
	SOAMinimum uint32
	// NoRD is what the caching resolver does with queries without RD.
	NoRD NoRDPolicy
	// FreezeClock stops the caching resolver's clock at start; only
	// Clock.Advance moves it. By default it follows real time plus advances.
	FreezeClock bool
	// BadNonceRate is the percentage (0-100) of valid nonces Pebble rejects
	// as badNonce (PEBBLE_WFE_NONCEREJECT); 0 by default.
	BadNonceRate int
	// CAAIdentities are the CA's issuer domain names, shown in the directory
	// meta and in dns-persist-01 challenges; nil means DefaultCAAIdentity.
	CAAIdentities []string
	// EABKeys maps key identifiers to base64url HMAC keys for External
	// Account Binding (RFC 8555 §7.3.4); when non-empty the CA requires EAB.
	EABKeys map[string]string
	// Log receives Pebble's log; nil discards it.
	Log io.Writer
	// APIToken is the fake provider API's bearer token; "" means random.
	APIToken string
	// RetryAfterAuthz and RetryAfterOrder are the Retry-After (whole
	// seconds) Pebble sends on an authorization whose challenge is
	// processing and on a processing order (PEBBLE_RETRY_AFTER_AUTHZ and
	// _ORDER of the pebble command); 0 sends none.
	RetryAfterAuthz, RetryAfterOrder time.Duration
	// ChallengeRetries makes the CA keep a dns-01 challenge pending with an
	// error after a failed validation (RFC 8555 §8.2), as step-ca does,
	// instead of Pebble's invalid at the first failure: the first
	// ChallengeRetries failed attempts leave it pending, the next failure
	// makes it invalid. 0 keeps Pebble's behaviour.
	ChallengeRetries int
	// Synchronous makes the CA answer a challenge POST only when its
	// validation has ended, with the challenge's final status, and a
	// finalize only when the certificate is issued, with the order valid,
	// as a CA that validates and signs within the request does (step-ca
	// does both). Pebble alone answers "processing" and works in the
	// background.
	Synchronous bool
	// ServerNames are host names the HTTPS servers' certificate holds
	// besides localhost and the loopback addresses, for clients that
	// reach them by name through a proxy.
	ServerNames []string
}

// World is a running ACME and DNS world. Close stops it. Its methods are
// safe for concurrent use.
type World struct {
	// DirectoryURL is the ACME directory URL of the CA.
	DirectoryURL string
	// DoHURL is the DoH endpoint of the caching resolver,
	// "https://127.0.0.1:port/dns-query".
	DoHURL string
	// ResolverAddr is the caching resolver's plain DNS address (UDP and TCP),
	// "127.0.0.1:port".
	ResolverAddr string
	// ValidatingAddr is the non-caching resolver the CA validates with.
	ValidatingAddr string
	// AuthAddr is the authoritative server's address (UDP and TCP).
	AuthAddr string
	// APIURL and APIToken reach the fake provider API.
	APIURL   string
	APIToken string
	// TLSRootPEM is the PEM certificate of the world's test TLS CA, which
	// signs the certificates of every HTTPS server here (CA, DoH, API).
	// TLSRootFile is the same in a file (for --ca-cert), removed by Close.
	TLSRootPEM  []byte
	TLSRootFile string

	// CA is the ACME server.
	CA *CA
	// DNS is the authoritative server.
	DNS *Authoritative
	// Recursive is the caching resolver behind DoHURL and ResolverAddr.
	Recursive *Recursive
	// Validating is the non-caching resolver behind ValidatingAddr.
	Validating *Recursive
	// API is the fake provider API.
	API *API
	// Clock ages the caching resolver's cache.
	Clock *Clock

	tlsCA   *tlsCA
	tempDir string

	mu     sync.Mutex
	closed bool
	// serverNames are Options.ServerNames, for endpoints added later.
	serverNames []string
	closeErr    error
	endpoints   []io.Closer
}

// T is the part of testing.TB that Start uses. It is declared here so
// that this package, which the sandbox command links, does not pull the
// testing package into the release binary.
type T interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// Start is New for tests: it fails t (a *testing.T or *testing.B) on
// error and closes the world in t.Cleanup. At most one Options may be
// given.
func Start(t T, opts ...Options) *World {
	t.Helper()
	var o Options
	if len(opts) > 1 {
		t.Fatal("testworld.Start: at most one Options")
	}
	if len(opts) == 1 {
		o = opts[0]
	}
	w, err := New(o)
	if err != nil {
		t.Fatalf("testworld: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("testworld: closing: %v", err)
		}
	})
	return w
}

// New builds and starts a World. On error everything started so far is
// stopped.
func New(opts Options) (_ *World, err error) {
	if opts.Zones == nil {
		opts.Zones = DefaultZones
	}
	if opts.SOATTL == 0 {
		opts.SOATTL = 300
	}
	if opts.SOAMinimum == 0 {
		opts.SOAMinimum = 300
	}
	if opts.CAAIdentities == nil {
		opts.CAAIdentities = []string{DefaultCAAIdentity}
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.BadNonceRate < 0 || opts.BadNonceRate > 100 {
		return nil, fmt.Errorf("testworld: BadNonceRate %d outside 0-100", opts.BadNonceRate)
	}
	if opts.APIToken == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		opts.APIToken = hex.EncodeToString(b[:])
	}

	w := &World{Clock: newClock(opts.FreezeClock)}
	defer func() {
		if err != nil {
			w.Close()
		}
	}()
	if w.tlsCA, err = newTLSCA("testworld TLS root"); err != nil {
		return nil, err
	}
	w.TLSRootPEM = w.tlsCA.pem
	if w.tempDir, err = os.MkdirTemp("", "testworld-"); err != nil {
		return nil, fmt.Errorf("testworld: %w", err)
	}
	w.TLSRootFile = filepath.Join(w.tempDir, "testworld-root.pem")
	if err = os.WriteFile(w.TLSRootFile, w.TLSRootPEM, 0o644); err != nil {
		return nil, fmt.Errorf("testworld: %w", err)
	}

	if w.DNS, err = newAuthoritative(opts.SOATTL, opts.SOAMinimum); err != nil {
		return nil, err
	}
	w.DNS.clock = w.Clock
	w.AuthAddr = w.DNS.Addr()
	for _, z := range opts.Zones {
		if err = w.DNS.AddZone(z); err != nil {
			return nil, err
		}
	}
	if w.Recursive, err = newRecursive(w.AuthAddr, w.Clock, opts.NoRD, true); err != nil {
		return nil, err
	}
	w.ResolverAddr = w.Recursive.Addr()
	if w.Validating, err = newRecursive(w.AuthAddr, w.Clock, NoRDAnswer, false); err != nil {
		return nil, err
	}
	w.ValidatingAddr = w.Validating.Addr()

	w.serverNames = opts.ServerNames
	cert, err := w.tlsCA.serverCert(opts.ServerNames...)
	if err != nil {
		return nil, err
	}
	if w.CA, err = newCA(pebbleOptions{
		log:           opts.Log,
		caaIdentities: opts.CAAIdentities,
		eabKeys:       opts.EABKeys,
		badNonceRate:  opts.BadNonceRate,
		resolverAddr:  w.ValidatingAddr,
		retryAuthz:    int(opts.RetryAfterAuthz / time.Second),
		retryOrder:    int(opts.RetryAfterOrder / time.Second),
		chalRetries:   opts.ChallengeRetries,
		synchronous:   opts.Synchronous,
	}, cert); err != nil {
		return nil, err
	}
	w.DirectoryURL = w.CA.DirectoryURL

	if w.DoHURL, err = w.AddDoHEndpoint(DoHOK); err != nil {
		return nil, err
	}
	w.API = newAPI(w.DNS, opts.APIToken, cert)
	w.APIURL, w.APIToken = w.API.URL(), opts.APIToken
	return w, nil
}

// AddZone creates a zone on the authoritative server (see
// Authoritative.AddZone).
func (w *World) AddZone(origin string) error { return w.DNS.AddZone(origin) }

// Forward sends the world's resolvers (the caching one and the CA's) to the
// authoritative server at addr for names at or under zone: how a test
// delegates a zone to a server outside the world, such as a challenge
// server.
func (w *World) Forward(zone, addr string) {
	w.Recursive.Forward(zone, addr)
	w.Validating.Forward(zone, addr)
}

// AddDoHEndpoint starts another DoH endpoint of the given kind on its own
// port and returns its URL, "https://127.0.0.1:port/dns-query". Close stops it.
func (w *World) AddDoHEndpoint(kind DoHKind) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return "", errClosed
	}
	var (
		url    string
		closer io.Closer
	)
	switch kind {
	case DoHOK, DoHForbidden, DoHUntrustedCert:
		ca := w.tlsCA
		if kind == DoHUntrustedCert {
			other, err := newTLSCA("testworld untrusted root")
			if err != nil {
				return "", err
			}
			ca = other
		}
		cert, err := ca.serverCert(w.serverNames...)
		if err != nil {
			return "", err
		}
		h := dohHandler(w.Recursive)
		if kind == DoHForbidden {
			h = forbidden
		}
		s := startTLSServer(h, cert)
		url, closer = s.URL+DoHPath, closerFunc(s.Close)
	case DoHHang:
		h, err := newHangServer()
		if err != nil {
			return "", err
		}
		url, closer = "https://"+h.ln.Addr().String()+DoHPath, closerFunc(h.Close)
	default:
		var err error
		if url, closer, err = w.hostileDoH(kind); err != nil {
			return "", err
		}
	}
	w.endpoints = append(w.endpoints, closer)
	return url, nil
}

type closerFunc func()

func (f closerFunc) Close() error { f(); return nil }

// RootPool returns a new pool holding only the world's test TLS CA.
func (w *World) RootPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(w.tlsCA.cert)
	return p
}

// HTTPClient returns a new client that trusts only the world's test TLS CA,
// uses no proxy and gives up on a request after 30 s.
func (w *World) HTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			TLSClientConfig:     &tls.Config{RootCAs: w.RootPool(), MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConns:        10,
			IdleConnTimeout:     30 * time.Second,
		},
	}
}

// Provider returns a libdns client for the world's fake provider API.
func (w *World) Provider() *Provider {
	return NewProvider(w.APIURL, w.APIToken, w.HTTPClient())
}

// Close stops every server and removes the temporary files. It is safe to
// call more than once; later calls return the first call's result. Pebble's
// validation dispatcher goroutine cannot be stopped and stays idle.
func (w *World) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return w.closeErr
	}
	w.closed = true
	endpoints := w.endpoints
	w.endpoints = nil
	w.mu.Unlock()

	var errs []error
	for _, e := range endpoints {
		errs = append(errs, e.Close())
	}
	if w.API != nil {
		w.API.close()
	}
	if w.CA != nil {
		w.CA.close()
	}
	if w.Validating != nil {
		errs = append(errs, w.Validating.close())
	}
	if w.Recursive != nil {
		errs = append(errs, w.Recursive.close())
	}
	if w.DNS != nil {
		errs = append(errs, w.DNS.close())
	}
	if w.tempDir != "" {
		errs = append(errs, os.RemoveAll(w.tempDir))
	}
	err := errors.Join(errs...)
	w.mu.Lock()
	w.closeErr = err
	w.mu.Unlock()
	return err
}
