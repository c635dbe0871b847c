package testworld

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/mholt/acmez/v3/acme"
)

func newACMEClient(t *testing.T, w *World) (*acme.Client, acme.Account) {
	t.Helper()
	client := &acme.Client{Directory: w.DirectoryURL, HTTPClient: w.HTTPClient(), PollInterval: 50 * time.Millisecond, PollTimeout: 15 * time.Second}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	acct, err := client.NewAccount(ctx, acme.Account{TermsOfServiceAgreed: true, Contact: []string{"mailto:admin@example.com"}, PrivateKey: key})
	must(t, err)
	return client, acct
}

// TestOrderDNS01EndToEnd issues a certificate for example.com and
// *.example.com: TXT records written through the fake provider API, Pebble
// validating through the world's validating resolver.
func TestOrderDNS01EndToEnd(t *testing.T) {
	w := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, acct := newACMEClient(t, w)

	names := []string{"example.com", "*.example.com"}
	order := acme.Order{Profile: ProfileShortLived}
	for _, n := range names {
		order.Identifiers = append(order.Identifiers, acme.Identifier{Type: "dns", Value: n})
	}
	order, err := client.NewOrder(ctx, acct, order)
	must(t, err)

	p := w.Provider()
	var chals []acme.Challenge
	var recs []libdns.Record
	for _, u := range order.Authorizations {
		authz, err := client.GetAuthorization(ctx, acct, u)
		must(t, err)
		for _, c := range authz.Challenges {
			if c.Type == acme.ChallengeTypeDNS01 {
				chals = append(chals, c)
				recs = append(recs, libdns.TXT{
					Name: libdns.RelativeName(c.DNS01TXTRecordName(), "example.com."),
					Text: c.DNS01KeyAuthorization(),
					TTL:  time.Minute,
				})
			}
		}
	}
	if len(chals) != 2 {
		t.Fatalf("%d dns-01 challenges", len(chals))
	}
	_, err = p.AppendRecords(ctx, "example.com.", recs)
	must(t, err)
	if w.API.Writes() != 1 {
		t.Errorf("%d writes for one zone", w.API.Writes())
	}

	w.Validating.ResetCounts()
	for _, c := range chals {
		_, err := client.InitiateChallenge(ctx, acct, c)
		must(t, err)
	}
	for _, u := range order.Authorizations {
		authz, err := client.GetAuthorization(ctx, acct, u)
		must(t, err)
		if authz, err = client.PollAuthorization(ctx, acct, authz); err != nil {
			t.Fatalf("authorization %s: %v", authz.Identifier.Value, err)
		}
	}
	if w.Validating.QueriesFor("_acme-challenge.example.com.", 16 /* TXT */) == 0 {
		t.Error("the CA did not ask the validating resolver")
	}

	certKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: names}, certKey)
	must(t, err)
	order, err = client.FinalizeOrder(ctx, acct, order, csr)
	must(t, err)
	certs, err := client.GetCertificateChain(ctx, acct, order.Certificate)
	must(t, err)
	if len(certs) == 0 {
		t.Fatal("no certificate")
	}

	// The chain verifies against RootPEM.
	var chain []*x509.Certificate
	rest := certs[0].ChainPEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		must(t, err)
		chain = append(chain, c)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(w.CA.RootPEM()) {
		t.Fatal("RootPEM is not PEM")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{DNSName: "www.example.com", Roots: roots, Intermediates: inter}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if life := chain[0].NotAfter.Sub(chain[0].NotBefore); life > 6*24*time.Hour || life < 6*24*time.Hour-time.Minute {
		t.Errorf("shortlived profile gave %v", life)
	}
}

func TestCAFaults(t *testing.T) {
	w := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, acct := newACMEClient(t, w)
	order := acme.Order{Identifiers: []acme.Identifier{{Type: "dns", Value: "example.net"}}}

	// Rate limit, seconds form.
	w.CA.Inject(Fault{Kind: FaultRateLimited, Path: PathNewOrder, Count: 1, RetryAfter: 1500 * time.Millisecond})
	_, err := client.NewOrder(ctx, acct, order)
	var prob acme.Problem
	if !errors.As(err, &prob) || prob.Type != acme.ProblemTypeRateLimited || prob.Status != http.StatusTooManyRequests {
		t.Fatalf("want rateLimited, got %v", err)
	}
	if _, err := client.NewOrder(ctx, acct, order); err != nil {
		t.Fatalf("after the fault: %v", err)
	}

	// Headers, seen with a plain client: Retry-After in both forms, nonce.
	hc := w.HTTPClient()
	w.CA.Inject(Fault{Kind: FaultRateLimited, Path: PathNewOrder, RetryAfter: 2 * time.Second})
	w.CA.Inject(Fault{Kind: FaultRateLimited, Path: PathNewOrder, RetryAfter: time.Hour, RetryAfterDate: true})
	resp, err := hc.Post(w.DirectoryURL[:len(w.DirectoryURL)-len(PathDirectory)]+PathNewOrder, "application/jose+json", nil)
	must(t, err)
	resp.Body.Close()
	if resp.Header.Get("Retry-After") != "2" || resp.Header.Get("Replay-Nonce") == "" || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("seconds form: %v", resp.Header)
	}
	resp, err = hc.Post(w.DirectoryURL[:len(w.DirectoryURL)-len(PathDirectory)]+PathNewOrder, "application/jose+json", nil)
	must(t, err)
	resp.Body.Close()
	if d, err := http.ParseTime(resp.Header.Get("Retry-After")); err != nil || time.Until(d) < 59*time.Minute {
		t.Errorf("date form: %q", resp.Header.Get("Retry-After"))
	}

	// badNonce is retried by the client with the fresh nonce.
	before := w.CA.Requests(PathNewOrder)
	w.CA.Inject(Fault{Kind: FaultBadNonce, Path: PathNewOrder, Count: 2})
	if _, err := client.NewOrder(ctx, acct, order); err != nil {
		t.Fatalf("badNonce not recovered: %v", err)
	}
	if got := w.CA.Requests(PathNewOrder) - before; got != 3 {
		t.Errorf("%d new-order requests, want 3", got)
	}

	// serverInternal for more requests than the client retries.
	w.CA.Inject(Fault{Kind: FaultServerInternal, Path: PathNewOrder, Count: 10})
	_, err = client.NewOrder(ctx, acct, order)
	if !errors.As(err, &prob) || prob.Type != acme.ProblemTypeServerInternal {
		t.Fatalf("want serverInternal, got %v", err)
	}
	w.CA.ClearFaults()
	if _, err := client.NewOrder(ctx, acct, order); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}
}

func TestEABRequired(t *testing.T) {
	w := Start(t, Options{EABKeys: map[string]string{"kid-1": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"}})
	client := &acme.Client{Directory: w.DirectoryURL, HTTPClient: w.HTTPClient()}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = client.NewAccount(ctx, acme.Account{TermsOfServiceAgreed: true, PrivateKey: key})
	var prob acme.Problem
	if !errors.As(err, &prob) || prob.Type != acme.ProblemTypeExternalAccountRequired {
		t.Fatalf("want externalAccountRequired, got %v", err)
	}
}
