package issue

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/strictacme/strictacme/internal/names"
)

// CSR is a certificate signing request given by the operator (PKCS#10, RFC
// 2986), whose private key strictacme never sees: the order is for its
// names and is finalized with exactly its bytes (RFC 8555 §7.4).
type CSR struct {
	// DER is the request as sent in finalize.
	DER []byte
	// Names are the identifiers it asks for, as lego orders them: the
	// subject common name first when it is a DNS name, then the DNS
	// subject alternative names not already listed (A-labels, lower case).
	Names []string
	// KeyType is the type of its public key.
	KeyType KeyType
	Request *x509.CertificateRequest
}

// ParseCSR reads a CSR in PEM ("CERTIFICATE REQUEST", also the older "NEW
// CERTIFICATE REQUEST") or DER form and checks its signature. It refuses a
// request without a DNS name, one that asks for IP addresses, e-mail
// addresses or URIs (DNS challenges validate DNS names only), and one
// whose key is not of a type in KeyTypes. Errors say what is wrong in one
// line, to follow the file's name and a colon.
func ParseCSR(data []byte) (*CSR, error) {
	der := data
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
			return nil, fmt.Errorf("a PEM %q block, not a CERTIFICATE REQUEST; give the CSR file", block.Type)
		}
		der = block.Bytes
	} else if bytes.Contains(data, []byte("-----BEGIN")) {
		return nil, errors.New("a damaged PEM block; give a PEM CERTIFICATE REQUEST or DER file")
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		// The parser's ASN.1 detail helps nobody fix a wrong file.
		return nil, errors.New("not a certificate signing request (PEM CERTIFICATE REQUEST or DER); give the CSR file")
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("the CSR's signature does not verify (%v); create the CSR again with its private key", err)
	}
	switch {
	case len(req.IPAddresses) > 0:
		return nil, fmt.Errorf("the CSR asks for IP address %s, which DNS challenges cannot validate; create a CSR with DNS names only", req.IPAddresses[0])
	case len(req.EmailAddresses) > 0:
		return nil, fmt.Errorf("the CSR asks for e-mail address %s, which an ACME CA does not certify; create a CSR with DNS names only", req.EmailAddresses[0])
	case len(req.URIs) > 0:
		return nil, fmt.Errorf("the CSR asks for URI %s, which an ACME CA does not certify; create a CSR with DNS names only", req.URIs[0])
	}
	var list []string
	add := func(n string) error {
		id, err := names.Parse(n)
		if err != nil {
			return fmt.Errorf("the CSR's name %q: %v", n, err)
		}
		if !slices.Contains(list, id.ASCII) {
			list = append(list, id.ASCII)
		}
		return nil
	}
	if cn := strings.TrimSpace(req.Subject.CommonName); cn != "" {
		// A common name that is no DNS name ("My Server") is a label,
		// not an identifier; CAs leave it out.
		if _, err := names.Parse(cn); err == nil {
			_ = add(cn)
		}
	}
	for _, n := range req.DNSNames {
		if err := add(n); err != nil {
			return nil, err
		}
	}
	if len(list) == 0 {
		return nil, errors.New("the CSR names no DNS name (neither a subject alternative name nor a common name that is one); create it with the certificate's names")
	}
	kt, ok := KeyTypeOf(req.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the CSR's key (%s) is of no type strictacme orders (%s); create the CSR with one of those", req.PublicKeyAlgorithm, KeyTypeChoices())
	}
	return &CSR{DER: der, Names: list, KeyType: kt, Request: req}, nil
}

// PEM is the CSR as a PEM "CERTIFICATE REQUEST" block.
func (c *CSR) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: c.DER})
}
