package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"os"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdGenCSR writes a certificate signing request the way an operator's
// own tooling would (openssl req, a KMS):
//
//	gencsr [-der] [-rsa] [-cn NAME] [-ip ADDR] [-badsig] OUT [DNSNAME...]
//
// OUT gets the CSR (PEM, or DER with -der), OUT.key its P-256 (or RSA
// 2048) private key; -badsig damages the signature.
func cmdGenCSR(ts *testscript.TestScript, neg bool, args []string) {
	var der, useRSA, badSig bool
	tmpl := &x509.CertificateRequest{}
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' {
		switch args[0] {
		case "-der":
			der = true
		case "-rsa":
			useRSA = true
		case "-badsig":
			badSig = true
		case "-cn", "-ip":
			if len(args) < 2 {
				ts.Fatalf("gencsr: %s needs a value", args[0])
			}
			if args[0] == "-cn" {
				tmpl.Subject = pkix.Name{CommonName: args[1]}
			} else {
				tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(args[1]))
			}
			args = args[1:]
		default:
			ts.Fatalf("gencsr: unknown option %s", args[0])
		}
		args = args[1:]
	}
	if len(args) < 1 {
		ts.Fatalf("usage: gencsr [-der] [-rsa] [-cn NAME] [-ip ADDR] [-badsig] OUT [DNSNAME...]")
	}
	tmpl.DNSNames = args[1:]
	var key crypto.Signer
	var err error
	if useRSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	ts.Check(err)
	csr, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	ts.Check(err)
	if badSig {
		csr[len(csr)-3] ^= 0xff // inside the signature, the last field
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	ts.Check(err)
	out := ts.MkAbs(args[0])
	ts.Check(os.WriteFile(out+".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	data := csr
	if !der {
		data = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})
	}
	ts.Check(os.WriteFile(out, data, 0o644))
}

// cmdSameKey checks that the PEM certificate CERT certifies the public key
// of the CSR file REQ (PEM or DER):
//
//	samekey CERT REQ
func cmdSameKey(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: samekey CERT REQ")
	}
	b, _ := pem.Decode([]byte(ts.ReadFile(args[0])))
	if b == nil {
		ts.Fatalf("samekey: no PEM in %s", args[0])
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	ts.Check(err)
	data, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	if rb, _ := pem.Decode(data); rb != nil {
		data = rb.Bytes
	}
	req, err := x509.ParseCertificateRequest(data)
	ts.Check(err)
	same := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(req.PublicKey)
	if same == neg {
		ts.Fatalf("public key of %s equals that of %s: %v, want %v", args[0], args[1], same, !neg)
	}
}
