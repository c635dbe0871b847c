package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeCSR writes a PEM CSR for names (the first also the common name)
// with a new P-256 key to dir/file and returns its path.
func writeCSR(t *testing.T, dir, file string, names ...string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names}, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A certificate with only a csr key is ordered for the CSR's names under
// the name of its first; the [defaults] key settings are for the others.
func TestCSRCertificateTakesItsNamesAndKeyFromTheCSR(t *testing.T) {
	dir := t.TempDir()
	csr := writeCSR(t, dir, "web.csr", "web.example.com", "www.example.com")
	src := `
[defaults]
key_type = "rsa4096"
reuse_key = true

[[certificate]]
csr = "` + csr + `"
provider = "x"

[[certificate]]
names = ["other.example.com"]
provider = "x"

[providers.x]
type = "exec"
program = "/bin/true"
`
	f, err := Parse(filepath.Join(dir, "strictacme.toml"), []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := f.Certificates[0]
	if !slices.Equal(c.Names, []string{"web.example.com", "www.example.com"}) || c.Name != "web.example.com" {
		t.Errorf("names %q, name %q; want the CSR's names, named after the first", c.Names, c.Name)
	}
	if c.KeyType != "" || c.ReuseKey || c.CSR != csr {
		t.Errorf("key_type %q, reuse_key %v, csr %q; want the CSR's key only", c.KeyType, c.ReuseKey, c.CSR)
	}
	if o := f.Certificates[1]; o.KeyType != "rsa4096" || !o.ReuseKey {
		t.Errorf("the certificate without csr lost the [defaults] key settings: %q %v", o.KeyType, o.ReuseKey)
	}
}

// Each problem of a certificate ordered for a CSR is reported at the line
// of the key that causes it.
func TestCSRProblemsAtTheirKeys(t *testing.T) {
	dir := t.TempDir()
	csr := writeCSR(t, dir, "web.csr", "web.example.com")
	garbage := filepath.Join(dir, "garbage.csr")
	if err := os.WriteFile(garbage, []byte("not a CSR\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const exec = "\n[providers.x]\ntype = \"exec\"\nprogram = \"/bin/true\"\n"
	for _, tc := range []struct{ name, src, want string }{
		{"garbage", `
[[certificate]]
provider = "x"
csr = "` + garbage + `"
` + exec, `strictacme.toml:4: certificate #1: key "csr": ` + garbage + `: not a certificate signing request`},
		{"missing file", `
[[certificate]]
csr = "` + filepath.Join(dir, "gone.csr") + `"
provider = "x"
` + exec, `strictacme.toml:3: certificate #1: key "csr": ` + filepath.Join(dir, "gone.csr") + `: no such file or directory; give a readable CSR file`},
		{"names that are not the CSR's", `
[[certificate]]
names = ["web.example.com", "www.example.com"]
csr = "` + csr + `"
provider = "x"
` + exec, `strictacme.toml:4: certificate "web.example.com": key "csr": names web.example.com,www.example.com differ from the CSR's web.example.com; leave out the names (the CSR gives them)`},
		{"key type", `
[[certificate]]
csr = "` + csr + `"
key_type = "ec384"
provider = "x"
` + exec, `strictacme.toml:4: certificate "web.example.com": key "key_type": the key type is the CSR's; remove it`},
		{"reuse key", `
[[certificate]]
csr = "` + csr + `"
provider = "x"
reuse_key = true
` + exec, `strictacme.toml:5: certificate "web.example.com": key "reuse_key": the CSR's key is the operator's`},
		{"combined PEM", `
[[certificate]]
csr = "` + csr + `"
provider = "x"
install_pem = "` + filepath.Join(dir, "haproxy.pem") + `"
` + exec, `strictacme.toml:5: certificate "web.example.com": key "install_pem": needs the private key`},
		{"key file", `
[[certificate]]
csr = "` + csr + `"
install_key = "` + filepath.Join(dir, "web.key") + `"
provider = "x"
` + exec, `strictacme.toml:4: certificate "web.example.com": key "install_key": needs the private key`},
		{"in defaults", `
[defaults]
csr = "` + csr + `"
` + exec, `strictacme.toml:3: [defaults] key "csr": only allowed in a [[certificate]]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(filepath.Join(dir, "strictacme.toml"), []byte(tc.src), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant: %s", err, tc.want)
			}
			if n := len(err.(*Error).Lines); n != 1 {
				t.Errorf("%d problems, want this one only:\n%v", n, err)
			}
		})
	}
}
