// Command floor obtains one certificate with the least an ACME client can do,
// as the reference point of bench/peers.sh: a new account, one order, every
// dns-01 record written at once through pebble-challtestsrv's management API
// (/set-txt), every challenge posted and its authorization polled without any
// wait of its own (acmez honours a Retry-After the CA sends), finalize,
// download, /clear-txt. No propagation check, no journal, no files but the
// chain.
//
//	floor -server https://127.0.0.1:14000/dir -ca-cert pebble.minica.pem \
//	      -mgmt http://127.0.0.1:8055 -out chain.pem -d example.test,'*.example.test'
//
// Every address must be loopback: it talks to a local test world only. Exit
// status 1 with one line on stderr on any failure.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/challenge"
)

// inFlight bounds concurrent requests, as the issuer's own bound does
// (docs/polling.md): the comparison is about waiting, not about load.
const inFlight = 8

func main() {
	server := flag.String("server", "", "ACME directory URL (loopback)")
	caCert := flag.String("ca-cert", "", "PEM file that signs the CA's HTTPS certificate")
	mgmt := flag.String("mgmt", "http://127.0.0.1:8055", "pebble-challtestsrv management API (loopback)")
	out := flag.String("out", "", "file for the certificate chain (PEM)")
	domains := flag.String("d", "", "comma-separated names")
	timeout := flag.Duration("timeout", 15*time.Minute, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *server, *caCert, *mgmt, *out, strings.Split(*domains, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, server, caCert, mgmt, out string, names []string) error {
	for _, u := range []string{server, mgmt} {
		if err := loopbackURL(u); err != nil {
			return err
		}
	}
	if out == "" || len(names) == 0 || names[0] == "" {
		return errors.New("-out and -d are required")
	}
	pem, err := os.ReadFile(caCert)
	if err != nil {
		return fmt.Errorf("-ca-cert: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("-ca-cert %s: no PEM certificate", caCert)
	}
	hc := &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: inFlight,
	}}
	client := &acme.Client{Directory: server, HTTPClient: hc, PollInterval: time.Millisecond, PollTimeout: 10 * time.Minute}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	acct, err := client.NewAccount(ctx, acme.Account{PrivateKey: key, TermsOfServiceAgreed: true})
	if err != nil {
		return fmt.Errorf("new account: %w", err)
	}
	order := acme.Order{}
	for _, n := range names {
		order.Identifiers = append(order.Identifiers, acme.Identifier{Type: "dns", Value: n})
	}
	if order, err = client.NewOrder(ctx, acct, order); err != nil {
		return fmt.Errorf("new order: %w", err)
	}

	sem := make(chan struct{}, inFlight)
	limited := func(n int, f func(i int) error) error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				errs[i] = f(i)
			}(i)
		}
		wg.Wait()
		return errors.Join(errs...)
	}

	authzs := make([]acme.Authorization, len(order.Authorizations))
	if err := limited(len(authzs), func(i int) error {
		var e error
		authzs[i], e = client.GetAuthorization(ctx, acct, order.Authorizations[i])
		return e
	}); err != nil {
		return fmt.Errorf("authorizations: %w", err)
	}
	chals := make([]acme.Challenge, len(authzs))
	fqdns := map[string]bool{}
	for i, a := range authzs {
		found := false
		for _, c := range a.Challenges {
			if c.Type == acme.ChallengeTypeDNS01 {
				chals[i], found = c, true
			}
		}
		if !found {
			return fmt.Errorf("%s: no dns-01 challenge", a.Identifier.Value)
		}
	}
	// challtestsrv's /clear-txt drops every value of a name, and an apex and
	// its wildcard share one name: clear only after every validation.
	defer func() {
		for f := range fqdns {
			_ = postJSON(context.Background(), mgmt+"/clear-txt", map[string]string{"host": f})
		}
	}()
	var mu sync.Mutex
	if err := limited(len(chals), func(i int) error {
		f := challenge.DNS01Name(authzs[i].Identifier.Value)
		mu.Lock()
		fqdns[f] = true
		mu.Unlock()
		return postJSON(ctx, mgmt+"/set-txt", map[string]string{"host": f, "value": challenge.TXTValue(chals[i].KeyAuthorization)})
	}); err != nil {
		return fmt.Errorf("set-txt: %w", err)
	}
	if err := limited(len(chals), func(i int) error {
		if _, err := client.InitiateChallenge(ctx, acct, chals[i]); err != nil {
			return err
		}
		_, err := client.PollAuthorization(ctx, acct, authzs[i])
		return err
	}); err != nil {
		return fmt.Errorf("validation: %w", err)
	}

	ck, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: names}, ck)
	if err != nil {
		return err
	}
	if order, err = client.FinalizeOrder(ctx, acct, order, csr); err != nil {
		return fmt.Errorf("finalize: %w", err)
	}
	chains, err := client.GetCertificateChain(ctx, acct, order.Certificate)
	if err != nil || len(chains) == 0 {
		return fmt.Errorf("certificate: %v", err)
	}
	return os.WriteFile(out, chains[0].ChainPEM, 0o644)
}

// postJSON sends one management API call; challtestsrv answers 200 with an
// empty body.
func postJSON(ctx context.Context, u string, body map[string]string) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return nil
}

func loopbackURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q: not a URL", s)
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s: only loopback addresses are allowed", s)
	}
	return nil
}
