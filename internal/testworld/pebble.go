package testworld

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
)

// URL paths of Pebble's ACME resources, for Fault.Path and CA.Requests. The
// directory (RFC 8555 §7.1.1) maps the standard resource names to these.
const (
	PathDirectory  = "/dir"
	PathNewNonce   = "/nonce-plz"
	PathNewAccount = "/sign-me-up"
	PathAccount    = "/my-account/"
	PathNewOrder   = "/order-plz"
	PathOrder      = "/my-order/"
	PathFinalize   = "/finalize-order/"
	PathAuthz      = "/authZ/"
	PathChallenge  = "/chalZ/"
	PathCert       = "/certZ/"
	PathRevokeCert = "/revoke-cert"
	PathKeyChange  = "/rollover-account-key"
	PathRenewal    = "/draft-ietf-acme-ari-03/renewalInfo/"
)

// Certificate profiles the world's CA offers (draft-ietf-acme-profiles).
const (
	ProfileDefault    = "default"    // 90 days
	ProfileShortLived = "shortlived" // 6 days
	ProfileTLSServer  = "tlsserver"  // 90 days
)

// Profiles are the names of the profiles the world's CA offers, in a
// stable order.
func Profiles() []string { return []string{ProfileDefault, ProfileShortLived, ProfileTLSServer} }

// FaultKind is the kind of error a Fault makes the CA return.
type FaultKind int

const (
	// FaultRateLimited answers 429 with problem type
	// urn:ietf:params:acme:error:rateLimited and a Retry-After header
	// (RFC 8555 §6.6, RFC 9110 §10.2.3).
	FaultRateLimited FaultKind = iota + 1
	// FaultServerInternal answers 500 with problem type
	// urn:ietf:params:acme:error:serverInternal.
	FaultServerInternal
	// FaultBadNonce answers 400 with problem type
	// urn:ietf:params:acme:error:badNonce (RFC 8555 §6.5), which clients must
	// retry with the fresh nonce in the response.
	FaultBadNonce
	// FaultNotImplemented answers 501 with problem type
	// urn:ietf:params:acme:error:notImplemented, as step-ca answers a key
	// change (RFC 8555 §7.3.5).
	FaultNotImplemented
	// FaultGone closes the connection without an answer, as a CA that
	// died (or a proxy in front of it that lost it) mid-order.
	FaultGone
)

// Fault makes the CA fail requests before Pebble sees them. Every injected
// error response carries a fresh, valid Replay-Nonce header.
type Fault struct {
	Kind FaultKind
	// Path is a URL path prefix, e.g. PathNewOrder; "" matches every request.
	Path string
	// Count is how many matching requests fail; 0 means 1.
	Count int
	// RetryAfter is the Retry-After delay for FaultRateLimited, sent in
	// delta-seconds (rounded up; 0 sends "0").
	RetryAfter time.Duration
	// RetryAfterDate sends Retry-After as an HTTP-date (now + RetryAfter)
	// instead of seconds.
	RetryAfterDate bool
}

// CA is the world's in-process Pebble ACME server (RFC 8555) with a fault
// injector in front of it. It is safe for concurrent use.
type CA struct {
	// DirectoryURL is the ACME directory, "https://127.0.0.1:port/dir".
	DirectoryURL string

	impl  *ca.CAImpl
	inner http.Handler
	srv   *httptest.Server
	db    *db.MemoryStore
	// retry is the pending-after-failure front (Options.ChallengeRetries);
	// nil passes challenges to Pebble as they are.
	retry *challengeRetry
	// sync holds challenge and finalize answers until Pebble's background
	// work is done (Options.Synchronous).
	sync bool

	mu       sync.Mutex
	faults   []*Fault
	requests map[string]int // by URL path
	replaces []string       // "replaces" of each new-order request
}

// pebbleOptions is what newCA needs from Options.
type pebbleOptions struct {
	log           io.Writer
	caaIdentities []string
	eabKeys       map[string]string
	badNonceRate  int
	resolverAddr  string
	retryAuthz    int
	retryOrder    int
	chalRetries   int
	synchronous   bool
}

// pebbleEnvMu serialises the environment changes around Pebble's
// constructors, which read their settings from the environment.
var pebbleEnvMu sync.Mutex

// newCA builds Pebble and serves its WFE over HTTPS on 127.0.0.1:0 with cert.
func newCA(o pebbleOptions, cert tls.Certificate) (*CA, error) {
	impl, store, inner, err := buildPebble(o)
	if err != nil {
		return nil, err
	}
	c := &CA{impl: impl, inner: inner, db: store, requests: make(map[string]int), sync: o.synchronous}
	if o.chalRetries > 0 {
		c.retry = &challengeRetry{allowed: o.chalRetries, resolver: o.resolverAddr, failed: map[string]int{}, problems: map[string]map[string]any{}}
	}
	c.srv = startTLSServer(c, cert)
	c.DirectoryURL = c.srv.URL + PathDirectory
	return c, nil
}

func buildPebble(o pebbleOptions) (*ca.CAImpl, *db.MemoryStore, http.Handler, error) {
	logger := log.New(o.log, "pebble ", log.LstdFlags)
	store := db.NewMemoryStore()
	profiles := map[string]ca.Profile{
		ProfileDefault:    {Description: "90-day certificates", ValidityPeriod: 90 * 24 * 3600},
		ProfileShortLived: {Description: "6-day certificates", ValidityPeriod: 6 * 24 * 3600},
		ProfileTLSServer:  {Description: "90-day TLS server certificates", ValidityPeriod: 90 * 24 * 3600},
	}
	impl := ca.New(logger, store, "", "ecdsa", 0, 1, profiles)
	for kid, key := range o.eabKeys {
		if err := store.AddExternalAccountKeyByID(kid, key); err != nil {
			return nil, nil, nil, fmt.Errorf("testworld: adding EAB key %q: %w", kid, err)
		}
	}

	pebbleEnvMu.Lock()
	defer pebbleEnvMu.Unlock()
	restore := setEnv(map[string]string{
		"PEBBLE_VA_NOSLEEP":      "1",
		"PEBBLE_WFE_NONCEREJECT": strconv.Itoa(o.badNonceRate),
		"PEBBLE_AUTHZREUSE":      "0",
	})
	defer restore()
	v := va.New(logger, 0, 0, false, o.resolverAddr, store)
	w := wfe.New(logger, store, v, impl, o.caaIdentities, false, len(o.eabKeys) > 0, o.retryAuthz, o.retryOrder)
	return impl, store, w.Handler(), nil
}

// setEnv sets variables and returns a function that restores them.
func setEnv(vars map[string]string) func() {
	type old struct {
		v  string
		ok bool
	}
	saved := map[string]old{}
	for k, v := range vars {
		prev, ok := os.LookupEnv(k)
		saved[k] = old{prev, ok}
		os.Setenv(k, v)
	}
	return func() {
		for k, o := range saved {
			if o.ok {
				os.Setenv(k, o.v)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

// Inject arms a fault; faults are consumed in the order they were injected.
func (c *CA) Inject(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = append(c.faults, &f)
}

// ClearFaults disarms every pending fault.
func (c *CA) ClearFaults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = nil
}

// Requests returns how many HTTP requests arrived whose URL path starts with
// pathPrefix ("" counts all), including those failed by a Fault.
func (c *CA) Requests(pathPrefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for p, k := range c.requests {
		if strings.HasPrefix(p, pathPrefix) {
			n += k
		}
	}
	return n
}

// Replaces returns the "replaces" field (RFC 9773 §5) of every new-order
// request that carried one, in arrival order.
func (c *CA) Replaces() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.replaces...)
}

// orderReplaces reads "replaces" from the payload of a flattened JWS
// new-order request (RFC 8555 §6.2); "" when there is none.
func orderReplaces(body []byte) string {
	var jws struct {
		Payload string `json:"payload"`
	}
	if json.Unmarshal(body, &jws) != nil {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(jws.Payload)
	if err != nil {
		return ""
	}
	var order struct {
		Replaces string `json:"replaces"`
	}
	_ = json.Unmarshal(payload, &order)
	return order.Replaces
}

// ResetRequests sets the request counters to zero.
func (c *CA) ResetRequests() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.requests)
}

// RootPEM returns the PEM certificate of the root that issues the CA's
// certificates (what Pebble serves at /roots/0), e.g. for openssl verify.
func (c *CA) RootPEM() []byte { return c.impl.GetRootCert(0).PEM() }

// IntermediatePEM returns the PEM certificate of the issuing intermediate.
func (c *CA) IntermediatePEM() []byte { return c.impl.GetIntermediateCert(0).PEM() }

func (c *CA) close() { c.srv.Close() }

// ServeHTTP counts the request, applies the first matching fault or passes
// the request to Pebble.
func (c *CA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == PathNewOrder && r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if rep := orderReplaces(body); rep != "" {
			c.mu.Lock()
			c.replaces = append(c.replaces, rep)
			c.mu.Unlock()
		}
	}
	c.mu.Lock()
	c.requests[r.URL.Path]++
	var hit *Fault
	for i, f := range c.faults {
		if strings.HasPrefix(r.URL.Path, f.Path) {
			fc := *f
			hit = &fc
			f.Count--
			if f.Count <= 0 {
				c.faults = append(c.faults[:i:i], c.faults[i+1:]...)
			}
			break
		}
	}
	c.mu.Unlock()
	if hit == nil {
		c.serve(w, r)
		return
	}
	if hit.Kind == FaultGone {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // HTTP/2: the stream is reset
	}
	if n := c.freshNonce(r); n != "" {
		w.Header().Set("Replay-Nonce", n)
	}
	w.Header().Set("Cache-Control", "no-store")
	switch hit.Kind {
	case FaultRateLimited:
		if hit.RetryAfterDate {
			w.Header().Set("Retry-After", time.Now().Add(hit.RetryAfter).UTC().Format(http.TimeFormat))
		} else {
			secs := int((hit.RetryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		writeProblem(w, http.StatusTooManyRequests, "rateLimited", "testworld: injected rate limit")
	case FaultBadNonce:
		writeProblem(w, http.StatusBadRequest, "badNonce", "testworld: injected bad nonce")
	case FaultNotImplemented:
		writeProblem(w, http.StatusNotImplemented, "notImplemented", "testworld: injected: this API is not implemented")
	default:
		writeProblem(w, http.StatusInternalServerError, "serverInternal", "testworld: injected internal error")
	}
}

// freshNonce asks Pebble for a new nonce with HEAD new-nonce.
func (c *CA) freshNonce(r *http.Request) string {
	req := httptest.NewRequest(http.MethodHead, PathNewNonce, nil)
	req.Host = r.Host
	req.TLS = r.TLS
	req.Header.Set("User-Agent", "testworld-fault-injector") // Pebble requires one (RFC 8555 §6.1)
	rec := httptest.NewRecorder()
	c.inner.ServeHTTP(rec, req)
	return rec.Header().Get("Replay-Nonce")
}

// writeProblem sends an RFC 7807 problem document with an ACME error type
// (RFC 8555 §6.7).
func writeProblem(w http.ResponseWriter, status int, acmeType, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":   "urn:ietf:params:acme:error:" + acmeType,
		"detail": detail,
		"status": status,
	})
}
