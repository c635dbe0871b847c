// Package acmeobtain obtains the challenge server's own API certificate
// (tls = "acme") through internal/issue: dns-01 records go through the
// provider the server hands in (its own store), so every instance behind
// the NS set answers them. It is separate from package challengeserver so
// that internal/issue's tests may import the server without a cycle.
package acmeobtain

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/store"
)

// Config says where and how to order.
type Config struct {
	// Directory is the CA's ACME directory URL.
	Directory string
	// Email is the account contact; optional.
	Email string
	// AcceptTOS agrees to the CA's terms of service.
	AcceptTOS bool
	// CARootsFile is a PEM file of roots trusted for the CA in addition to
	// the system's; optional.
	CARootsFile string
	// StateDir holds the ACME account key and the certificate files
	// (internal/store layout, keys 0600).
	StateDir string
	// Profile is the CA certificate profile to ask for; "" for the CA's
	// default.
	Profile string
	// Log receives one line per order step; nil discards.
	Log func(line string)
}

// Obtain orders a certificate for names (each inside zone) by dns-01,
// writing the records through p (which must serve zone authoritatively), and
// returns the PEM full chain and private key (secret: never log it).
func (c Config) Obtain(ctx context.Context, zone string, hostnames []string, p providers.Provider) (fullchainPEM, keyPEM []byte, err error) {
	st, err := store.Open(c.StateDir)
	if err != nil {
		return nil, nil, err
	}
	hc, err := c.httpClient()
	if err != nil {
		return nil, nil, err
	}
	set, err := providers.NewSet(providers.Entry{Name: "serve", Suffix: zone, Zone: zone, Provider: p})
	if err != nil {
		return nil, nil, err
	}
	ids, err := names.ParseAll(hostnames)
	if err != nil {
		return nil, nil, err
	}
	is, err := issue.New(issue.Config{
		Directory: c.Directory, HTTPClient: hc, Store: st, Providers: set,
		Propagation: propagation.None{}, Log: c.Log,
	})
	if err != nil {
		return nil, nil, err
	}
	if _, _, err := is.Account(ctx, issue.AccountOptions{Email: c.Email, AcceptTOS: c.AcceptTOS}); err != nil {
		return nil, nil, fmt.Errorf("ACME account at %s: %w", c.Directory, err)
	}
	res, err := is.Obtain(ctx, issue.Request{Identifiers: ids, KeyType: issue.EC256, Name: "serve-api", Profile: c.Profile})
	if err != nil {
		return nil, nil, err
	}
	if res.Certificate == nil || len(res.Certificate.KeyPEM) == 0 {
		return nil, nil, errors.New("acmeobtain: the order returned no certificate")
	}
	return res.Certificate.FullchainPEM(), res.Certificate.KeyPEM, nil
}

func (c Config) httpClient() (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if c.CARootsFile != "" {
		b, err := os.ReadFile(c.CARootsFile)
		if err != nil {
			return nil, fmt.Errorf("acme_ca_roots: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("acme_ca_roots: %s holds no PEM certificate", c.CARootsFile)
		}
	}
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 10 * time.Second,
			IdleConnTimeout:     30 * time.Second,
		},
	}, nil
}
