package challengeserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
	"github.com/strictacme/strictacme/internal/challengeserver/view"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/renewal"
)

// ObtainFunc orders a certificate for hostnames (each inside zone, an
// absolute name with trailing dot) by dns-01, writing the challenge records
// through p, and returns the PEM full chain and private key. The key is
// secret: it must never appear in logs or errors. cmd/strictacme wires
// acmeobtain.Config.Obtain (kept out of this package so that internal/issue's
// tests can import it).
type ObtainFunc func(ctx context.Context, zone string, hostnames []string, p providers.Provider) (fullchainPEM, keyPEM []byte, err error)

// Names of the store rows of tls = "acme".
const (
	apiCertName  = "api"
	apiCertLease = "api-cert-order"
	// apiCertLeaseTTL bounds how long a crashed instance blocks the others:
	// an order takes seconds to minutes.
	apiCertLeaseTTL = 10 * time.Minute
	// ownTXTLifetime is how long a challenge value of the server's own
	// order is served if its clean-up never happens (a crash).
	ownTXTLifetime = time.Hour
)

// ownProvider is a libdns provider over the server's own store: TXT records
// at names inside the zone, written to the store (so every instance's view
// follows) and to this instance's view at once. Authoritative() is true:
// once written, the record is served, so the order skips the propagation
// wait.
type ownProvider struct {
	st   store.ServerState
	view *view.View
	zone string // lower case, fqdn
	now  func() time.Time
	// settle is waited (real time) after a write so the other instances'
	// views have polled the store before the CA asks them (twice
	// database.poll_interval).
	settle time.Duration
}

var _ providers.Provider = (*ownProvider)(nil)

// Authoritative implements providers.Authoritative.
func (p *ownProvider) Authoritative() bool { return true }

// name returns the owner of r relative to the served zone ("@" for the apex)
// and its TXT text; records of other types or outside the zone are errors.
func (p *ownProvider) name(zone string, r libdns.Record) (string, string, error) {
	rr := r.RR()
	if !strings.EqualFold(rr.Type, "TXT") {
		return "", "", fmt.Errorf("serve: only TXT records can be written into the zone, not %s", rr.Type)
	}
	abs := strings.ToLower(dns.Fqdn(libdns.AbsoluteName(rr.Name, zone)))
	if !dns.IsSubDomain(p.zone, abs) {
		return "", "", fmt.Errorf("serve: %s is outside the served zone %s", abs, p.zone)
	}
	if abs == p.zone {
		return "@", rr.Data, nil
	}
	return strings.TrimSuffix(abs, "."+p.zone), rr.Data, nil
}

// AppendRecords implements libdns.RecordAppender.
func (p *ownProvider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	for _, r := range recs {
		name, text, err := p.name(zone, r)
		if err != nil {
			return nil, err
		}
		now := p.now()
		v := store.Value{Text: text, Updated: now, Expires: now.Add(ownTXTLifetime)}
		if err := p.st.PutZoneTXT(ctx, name, v); err != nil {
			return nil, err
		}
		p.view.Put(store.ZoneKey(name), v, 0)
	}
	if p.settle > 0 {
		t := time.NewTimer(p.settle)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return recs, ctx.Err()
		}
	}
	return recs, nil
}

// DeleteRecords implements libdns.RecordDeleter.
func (p *ownProvider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	var out []libdns.Record
	for _, r := range recs {
		name, text, err := p.name(zone, r)
		if err != nil {
			return out, err
		}
		n, err := p.st.DeleteZoneTXT(ctx, name, text)
		if err != nil {
			return out, err
		}
		p.view.Remove(store.ZoneKey(name), text)
		if n > 0 {
			out = append(out, r)
		}
	}
	return out, nil
}

// certManager keeps the API certificate of tls = "acme": it serves the one in
// the store, and when none is there or it is due (ARI-less lifetime rule of
// internal/renewal) the instance that wins the store lease orders a new one;
// the others pick it up from the store.
type certManager struct {
	st     store.ServerState
	obtain ObtainFunc
	prov   *ownProvider
	zone   string
	names  []string
	holder string // random per process
	now    func() time.Time
	log    *slog.Logger

	mu    sync.RWMutex
	cur   *tls.Certificate
	chain []byte
	leaf  *x509.Certificate

	orders    atomic.Int64
	ready     chan struct{}
	readyOnce sync.Once
}

func newCertManager(st store.ServerState, prov *ownProvider, obtain ObtainFunc, names []string, now func() time.Time, log *slog.Logger) *certManager {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &certManager{st: st, obtain: obtain, prov: prov, zone: prov.zone, names: names, holder: hex.EncodeToString(b),
		now: now, log: log, ready: make(chan struct{})}
}

// get is tls.Config.GetCertificate.
func (m *certManager) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.cur == nil {
		return nil, errors.New("serve: no API certificate yet")
	}
	return m.cur, nil
}

// load reads the certificate from the store and uses it when it changed.
// No certificate in the store is not an error.
func (m *certManager) load(ctx context.Context) error {
	c, err := m.st.ServerCert(ctx, apiCertName)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	m.mu.RLock()
	same := m.cur != nil && bytes.Equal(m.chain, c.FullchainPEM)
	m.mu.RUnlock()
	if same {
		return nil
	}
	crt, err := tls.X509KeyPair(c.FullchainPEM, c.KeyPEM)
	if err != nil {
		return errors.New("serve: the API certificate in the store does not parse or does not match its key")
	}
	leaf := crt.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(crt.Certificate[0]); err != nil {
			return fmt.Errorf("serve: the API certificate in the store: %w", err)
		}
	}
	m.mu.Lock()
	m.cur, m.chain, m.leaf = &crt, c.FullchainPEM, leaf
	m.mu.Unlock()
	m.log.Info("API certificate loaded from the store", "names", strings.Join(leaf.DNSNames, ","), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	m.readyOnce.Do(func() { close(m.ready) })
	return nil
}

// due reports whether there is no certificate or the current one is due at
// now (renewal.FallbackAt: a third of the lifetime before expiry, half for
// short-lived certificates).
func (m *certManager) due() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.leaf == nil {
		return true
	}
	return !m.now().Before(renewal.FallbackAt(renewal.Cert{NotBefore: m.leaf.NotBefore, NotAfter: m.leaf.NotAfter}))
}

// notAfter is the current certificate's expiry (zero without one).
func (m *certManager) notAfter() time.Time {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.leaf == nil {
		return time.Time{}
	}
	return m.leaf.NotAfter
}

// check loads the stored certificate and, when it is missing or due and this
// instance wins the lease, orders a new one and stores it. ordered reports
// whether this call ordered.
func (m *certManager) check(ctx context.Context) (ordered bool, err error) {
	if err := m.load(ctx); err != nil {
		return false, err
	}
	if !m.due() {
		return false, nil
	}
	got, err := m.st.AcquireLease(ctx, apiCertLease, m.holder, m.now(), apiCertLeaseTTL)
	if err != nil || !got {
		return false, err // another instance orders; its result arrives through the store
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = m.st.ReleaseLease(rctx, apiCertLease, m.holder)
		cancel()
	}()
	if err := m.load(ctx); err != nil || !m.due() {
		return false, err // renewed by another instance meanwhile
	}
	m.log.Info("ordering the API certificate", "names", strings.Join(m.names, ","))
	m.orders.Add(1)
	chain, key, err := m.obtain(ctx, m.zone, m.names, m.prov)
	if err != nil {
		return true, fmt.Errorf("API certificate order: %w", err)
	}
	crt, err := tls.X509KeyPair(chain, key)
	if err != nil {
		return true, errors.New("API certificate order: the certificate does not match its key")
	}
	leaf, err := x509.ParseCertificate(crt.Certificate[0])
	if err != nil {
		return true, fmt.Errorf("API certificate order: %w", err)
	}
	if err := m.st.PutServerCert(ctx, apiCertName, store.ServerCert{FullchainPEM: chain, KeyPEM: key, NotAfter: leaf.NotAfter, Updated: m.now()}); err != nil {
		return true, err
	}
	return true, m.load(ctx)
}

// run checks every interval until ctx ends (every interval also while there
// is no certificate, so instances that lost the lease pick it up soon);
// failed orders back off up to 64 intervals.
func (m *certManager) run(ctx context.Context, interval time.Duration) {
	failures := 0
	for {
		_, err := m.check(ctx)
		wait := interval
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			wait = interval << min(failures, 6)
			m.log.Error("API certificate", "err", err, "retry_in", wait.String())
		} else {
			failures = 0
			if m.notAfter().IsZero() {
				wait = min(wait, 5*time.Second) // another instance orders: look soon
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
