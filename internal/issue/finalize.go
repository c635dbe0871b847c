package issue

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
)

// finalize sends the CSR (RFC 8555 §7.4), waits for the certificate and
// downloads the chain (§7.4.2), choosing the preferred alternate chain.
func (is *Issuer) finalize(ctx context.Context, order acme.Order, req Request) (*store.Certificate, error) {
	var dnsNames []string
	for _, id := range req.Identifiers {
		dnsNames = append(dnsNames, id.ASCII)
	}
	der, keyPEM, keyType, err := request(req, dnsNames)
	if err != nil {
		return nil, err
	}
	err = is.withCARetry(ctx, "finalize", func() error {
		var e error
		order, e = is.client.FinalizeOrder(ctx, is.account, order, der)
		if e != nil && order.Status == acme.StatusProcessing {
			return nil // acmez does not poll (New); awaitOrder does
		}
		return e
	})
	if err == nil {
		order, err = is.awaitOrder(ctx, order)
	}
	if err != nil {
		return nil, fmt.Errorf("finalizing the order: %w", err)
	}
	is.logf("order finalized; downloading the certificate")
	var chains []acme.Certificate
	err = is.withCARetry(ctx, "certificate", func() error {
		var e error
		chains, e = is.client.GetCertificateChain(ctx, is.account, order.Certificate)
		return e
	})
	if err != nil {
		return nil, fmt.Errorf("downloading the certificate: %w", err)
	}
	if len(chains) == 0 {
		return nil, fmt.Errorf("the CA returned no certificate at %s", order.Certificate)
	}
	chosen := chains[0]
	if req.PreferredChain != "" {
		found := false
		for _, c := range chains {
			if topIssuerCN(c.ChainPEM) == req.PreferredChain {
				chosen, found = c, true
				break
			}
		}
		if !found {
			is.logf("preferred chain %q not offered; using the default chain", req.PreferredChain)
		}
	}
	leafPEM, restPEM, leaf, err := splitChain(chosen.ChainPEM)
	if err != nil {
		return nil, err
	}
	if req.CSR != nil && !samePublicKey(leaf.PublicKey, req.CSR.Request.PublicKey) {
		return nil, exitcode.With(exitcode.CA, fmt.Errorf("the CA issued a certificate for another public key than the CSR's (serial %x); not stored", leaf.SerialNumber))
	}
	name := req.Name
	if name == "" {
		name = store.CertName(req.Identifiers[0].ASCII)
	}
	ariID, _ := acme.ARIUniqueIdentifier(leaf)
	cert := &store.Certificate{
		Name:     name,
		KeyPEM:   keyPEM,
		CertPEM:  leafPEM,
		ChainPEM: restPEM,
		Leaf:     leaf,
		CSRPEM:   csrPEM(req.CSR),
		Meta: store.Metadata{
			Names:     dnsNames,
			Serial:    fmt.Sprintf("%x", leaf.SerialNumber),
			NotBefore: leaf.NotBefore.UTC(),
			NotAfter:  leaf.NotAfter.UTC(),
			Issuer:    leaf.Issuer.String(),
			ARICertID: ariID,
			Directory: is.cfg.Directory,
			Account:   is.account.Location,
			KeyType:   string(keyType),
			CSR:       req.CSR != nil,
			Profile:   req.Profile,
			Obtained:  is.cfg.Now().UTC(),
			Replaced:  req.Replaces,
			Settings:  req.Settings, SettingsVersion: req.SettingsVersion,
		},
	}
	return cert, nil
}

// request returns the DER CSR finalize sends, with the PEM private key to
// store and the key's type: the operator's CSR as given (no key), else a
// CSR for names signed by the reused key or a new one of req.KeyType.
func request(req Request, names []string) (der, keyPEM []byte, kt KeyType, err error) {
	if req.CSR != nil {
		return req.CSR.DER, nil, req.CSR.KeyType, nil
	}
	var key crypto.Signer
	if len(req.Key) > 0 {
		key, err = store.ParsePrivateKey(req.Key)
	} else {
		key, err = req.KeyType.Generate()
	}
	if err != nil {
		return nil, nil, "", fmt.Errorf("certificate key: %w", err)
	}
	if keyPEM, err = store.MarshalPrivateKey(key); err != nil {
		return nil, nil, "", err
	}
	if der, err = csr(key, names); err != nil {
		return nil, nil, "", fmt.Errorf("creating the CSR: %w", err)
	}
	return der, keyPEM, req.KeyType, nil
}

func csrPEM(c *CSR) []byte {
	if c == nil {
		return nil
	}
	return c.PEM()
}

// samePublicKey reports whether a and b are the same public key.
func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// awaitOrder polls an order that is processing until the CA has issued the
// certificate (RFC 8555 §7.4): after the CA's Retry-After when it sends one,
// else on the polling policy's doubling delays. An order already valid in
// the finalize answer is not polled.
func (is *Issuer) awaitOrder(ctx context.Context, order acme.Order) (acme.Order, error) {
	polls := newBackoff(firstPoll, is.cfg.PollInterval)
	from := order.Finalize // the response whose Retry-After applies
	for {
		switch order.Status {
		case acme.StatusValid:
			return order, nil
		case acme.StatusProcessing:
		case acme.StatusInvalid:
			return order, exitcode.With(exitcode.CA, fmt.Errorf("the CA marked the order invalid: %s", problemLine(order.Error)))
		default:
			return order, exitcode.With(exitcode.CA, fmt.Errorf("the order is %q after finalize, not processing or valid", order.Status))
		}
		now := is.cfg.Now()
		wait := polls.delay(time.Time{}, now)
		if ra := is.tracker.retryAfter(from); !ra.IsZero() {
			wait = max(ra.Sub(now), 0)
			// The one wait of an order that is the CA's, not the client's:
			// said with its length, so a trace adds up.
			is.logf("order processing; waiting %.2fs as the CA asks (Retry-After)", wait.Seconds())
		}
		if err := is.cfg.Sleep(ctx, wait); err != nil {
			return order, err
		}
		err := is.withCARetry(ctx, "order", func() error {
			var e error
			order, e = is.client.GetOrder(ctx, is.account, order)
			return e
		})
		if err != nil {
			return order, err
		}
		from = order.Location
	}
}

// splitChain separates the leaf from the intermediates of a PEM chain.
func splitChain(chain []byte) (leafPEM, rest []byte, leaf *x509.Certificate, err error) {
	block, remaining := pem.Decode(chain)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, nil, nil, fmt.Errorf("the CA's certificate download is not a PEM chain")
	}
	leaf, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("parsing the issued certificate: %w", err)
	}
	leafPEM = pem.EncodeToMemory(block)
	for {
		var b *pem.Block
		b, remaining = pem.Decode(remaining)
		if b == nil {
			break
		}
		rest = append(rest, pem.EncodeToMemory(b)...)
	}
	return leafPEM, rest, leaf, nil
}

// topIssuerCN returns the issuer common name of the last certificate of a
// PEM chain: the root the chain leads to.
func topIssuerCN(chain []byte) string {
	var last *x509.Certificate
	for {
		var b *pem.Block
		b, chain = pem.Decode(chain)
		if b == nil {
			break
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			last = c
		}
	}
	if last == nil {
		return ""
	}
	return strings.TrimSpace(last.Issuer.CommonName)
}
