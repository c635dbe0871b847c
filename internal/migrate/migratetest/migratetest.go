// Package migratetest writes lego and certbot state directories, file for
// file in those tools' layouts (lego v4.35 and v5.3 cmd storage; certbot
// 2.x/3.x account.py and storage.py), from an account and certificates
// held in a strictacme store: the tests of internal/migrate and of
// "strictacme import" issue through the test CA and then write the trees
// the other tools would have written for the same account and
// certificates.
package migratetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/strictacme/strictacme/internal/store"
)

// Tree is what a tree is written from.
type Tree struct {
	Account *store.Account
	Email   string
	Certs   []*store.Certificate
}

// FromStore reads the one account and every certificate of the strictacme
// store at path.
func FromStore(path string) (Tree, error) {
	var t Tree
	st := &store.Store{Root: path}
	names, err := st.ListCertificates()
	if err != nil {
		return t, err
	}
	for _, n := range names {
		c, err := st.LoadCertificate(n)
		if err != nil {
			return t, err
		}
		t.Certs = append(t.Certs, c)
	}
	if len(t.Certs) == 0 {
		return t, fmt.Errorf("%s: no certificate stored", path)
	}
	t.Account, err = st.LoadAccount(t.Certs[0].Meta.Directory, "")
	if err != nil {
		return t, err
	}
	for _, c := range t.Account.Contact {
		if e, ok := strings.CutPrefix(c, "mailto:"); ok {
			t.Email = e
		}
	}
	return t, nil
}

// legoPEM is lego's certcrypto.PEMBlock: PKCS#1 for RSA, SEC 1 for ECDSA.
func legoPEM(k crypto.Signer) ([]byte, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), err
	}
	return nil, fmt.Errorf("lego writes no %T", k)
}

func legoKeyType(k crypto.PublicKey) string {
	switch k := k.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "EC" + strings.TrimPrefix(k.Curve.Params().Name, "P-")
	}
	return ""
}

func write(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, perm)
}

func jsonTab(v any) []byte {
	b, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		panic(err)
	}
	return b
}

// legoHost is lego's folder name of a CA.
func legoHost(dir string) string {
	u, _ := url.Parse(dir)
	return strings.NewReplacer(":", "_", "/", "_", `\`, "_").Replace(u.Host)
}

// legoName is lego's file name of a certificate (SanitizedName).
func legoName(domain string) string {
	return strings.NewReplacer(":", "-", "*", "_").Replace(domain)
}

// WriteLego writes t as lego version 4 or 5 leaves it under its --path
// (dir, the ".lego" folder). config, when not empty, is written as v5's
// .lego.bck.yaml.
func WriteLego(dir string, version int, t Tree, config string) error {
	a := t.Account
	id := t.Email
	if id == "" {
		id = "noemail@example.com" // lego's account ID without an email
	}
	acctDir := filepath.Join(dir, "accounts", legoHost(a.Directory), id)
	keyPEM, err := legoPEM(a.Key)
	if err != nil {
		return err
	}
	var acct any
	keyFile := filepath.Join(acctDir, id+".key")
	contact := []string{}
	if t.Email != "" {
		contact = []string{"mailto:" + t.Email}
	}
	switch version {
	case 4:
		keyFile = filepath.Join(acctDir, "keys", id+".key")
		acct = map[string]any{"email": t.Email, "registration": map[string]any{
			"body": map[string]any{"status": "valid", "contact": contact}, "uri": a.URL}}
	case 5:
		acct = struct {
			ID           string         `json:"id"`
			Email        string         `json:"email"`
			KeyType      string         `json:"keyType"`
			Server       string         `json:"server"`
			Registration map[string]any `json:"registration"`
		}{id, t.Email, legoKeyType(a.Key.Public()), a.Directory, map[string]any{"status": "valid", "contact": contact, "accountURL": a.URL}}
	default:
		return fmt.Errorf("lego version %d: want 4 or 5", version)
	}
	if err := write(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	if err := write(filepath.Join(acctDir, "account.json"), jsonTab(acct), 0o600); err != nil {
		return err
	}
	for _, c := range t.Certs {
		name := legoName(c.Meta.Names[0])
		base := filepath.Join(dir, "certificates", name)
		key, err := store.ParsePrivateKey(c.KeyPEM)
		if err != nil {
			return err
		}
		kp, err := legoPEM(key)
		if err != nil {
			return err
		}
		certURL := strings.TrimSuffix(a.Directory, "/dir") + "/certZ/" + c.Meta.Serial
		var res any
		if version == 4 {
			res = map[string]string{"domain": c.Meta.Names[0], "certUrl": certURL, "certStableUrl": certURL}
		} else {
			res = struct {
				ID            string   `json:"id"`
				Domains       []string `json:"domains"`
				KeyType       string   `json:"keyType"`
				Profile       string   `json:"profile,omitempty"`
				CertURL       string   `json:"certUrl"`
				CertStableURL string   `json:"certStableUrl"`
			}{c.Meta.Names[0], c.Meta.Names, legoKeyType(key.Public()), c.Meta.Profile, certURL, certURL}
		}
		// lego bundles the issuer into .crt unless --no-bundle.
		for ext, data := range map[string][]byte{".crt": c.FullchainPEM(), ".issuer.crt": c.ChainPEM, ".key": kp, ".json": jsonTab(res)} {
			if err := write(base+ext, data, 0o600); err != nil {
				return err
			}
		}
	}
	if config != "" && version == 5 {
		return write(filepath.Join(dir, ".lego.bck.yaml"), []byte(config), 0o600)
	}
	return nil
}

// CertbotAccountID is certbot's account ID: the MD5 of the public key's
// DER SubjectPublicKeyInfo, hex.
func CertbotAccountID(k crypto.Signer) string {
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		panic(err)
	}
	sum := md5.Sum(der)
	return hex.EncodeToString(sum[:])
}

// WriteCertbot writes t as certbot leaves it in its --config-dir (dir):
// the account, archive/<name>/*1.pem, live/<name>/ symlinks into it and
// renewal/<name>.conf with the [renewalparams] lines params (after
// account and server, which are written from t).
func WriteCertbot(dir string, t Tree, params string) error {
	a := t.Account
	u, err := url.Parse(a.Directory)
	if err != nil {
		return err
	}
	id := CertbotAccountID(a.Key)
	acctDir := filepath.Join(dir, "accounts", u.Host, filepath.FromSlash(strings.TrimPrefix(u.Path, "/")), id)
	jwk, err := jose.JSONWebKey{Key: a.Key}.MarshalJSON()
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		perm os.FileMode
	}{
		{"private_key.json", jwk, 0o400},
		{"regr.json", []byte(fmt.Sprintf(`{"body": {}, "uri": %q}`, a.URL)), 0o644},
		{"meta.json", []byte(`{"creation_dt": "2025-11-02T10:00:00Z", "creation_host": "web1.example.com", "register_to_eff": null}`), 0o644},
	}
	for _, f := range files {
		if err := write(filepath.Join(acctDir, f.name), f.data, f.perm); err != nil {
			return err
		}
	}
	for _, c := range t.Certs {
		name := c.Name
		archive := filepath.Join(dir, "archive", name)
		live := filepath.Join(dir, "live", name)
		for kind, data := range map[string][]byte{"cert": c.CertPEM, "chain": c.ChainPEM, "fullchain": c.FullchainPEM(), "privkey": c.KeyPEM} {
			perm := os.FileMode(0o644)
			if kind == "privkey" {
				perm = 0o600
			}
			if err := write(filepath.Join(archive, kind+"1.pem"), data, perm); err != nil {
				return err
			}
			if err := os.MkdirAll(live, 0o755); err != nil {
				return err
			}
			if err := os.Symlink(filepath.Join("..", "..", "archive", name, kind+"1.pem"), filepath.Join(live, kind+".pem")); err != nil {
				return err
			}
		}
		if err := write(filepath.Join(live, "README"), []byte("This directory contains your keys and certificates.\n"), 0o644); err != nil {
			return err
		}
		conf := fmt.Sprintf(`# renew_before_expiry = 30 days
version = 3.0.1
archive_dir = %[1]s
cert = %[2]s/cert.pem
privkey = %[2]s/privkey.pem
chain = %[2]s/chain.pem
fullchain = %[2]s/fullchain.pem

# Options used in the renewal process
[renewalparams]
account = %[3]s
server = %[4]s
%[5]s`, archive, live, id, a.Directory, params)
		if err := write(filepath.Join(dir, "renewal", name+".conf"), []byte(conf), 0o644); err != nil {
			return err
		}
	}
	return nil
}
