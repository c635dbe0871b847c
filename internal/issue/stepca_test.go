package issue

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/testworld"
)

// TestStepCA runs the order flow against a real step-ca (smallstep
// certificates) when a step-ca binary is on PATH, and is skipped otherwise
// (docs/internal-cas.md says how to build one). step-ca validates through
// the world's DNS; it keeps a failed challenge pending with an error (RFC
// 8555 §8.2), refuses an account look-up that carries more than
// onlyReturnExisting (§7.3.1) and answers a key change with 501.
func TestStepCA(t *testing.T) {
	bin, err := exec.LookPath("step-ca")
	if err != nil {
		t.Skip("step-ca not on PATH; see docs/internal-cas.md")
	}
	w := testworld.Start(t)
	dir, hc := startStepCA(t, bin, w.ValidatingAddr)
	stepCA := func(_ *fixture, c *Config) { c.Directory, c.HTTPClient = dir, hc }
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("order", func(t *testing.T) {
		f := newFixture(t, w, stepCA)
		res, err := f.obtain(t, ctx, "step.example.com", "*.step.example.com")
		if err != nil {
			t.Fatalf("Obtain: %v\nlog:\n%s", err, strings.Join(f.log, "\n"))
		}
		if len(res.Certificate.Leaf.DNSNames) != 2 {
			t.Errorf("SANs = %v", res.Certificate.Leaf.DNSNames)
		}
	})

	t.Run("wrong TXT value fails with the CA's error", func(t *testing.T) {
		clock := newTestClock()
		f := newFixture(t, w, stepCA, withProvider(corruptingProvider{w.Provider()}), withClock(clock))
		_, err := f.obtain(t, ctx, "wrong.step.example.com")
		if code := exitcode.Of(err); code != exitcode.CA {
			t.Fatalf("exit code = %d, want %d; err = %v\nlog:\n%s", code, exitcode.CA, err, strings.Join(f.log, "\n"))
		}
		if !strings.Contains(err.Error(), "failed 5 times") || strings.Contains(err.Error(), "deadline") {
			t.Errorf("err = %v", err)
		}
		t.Logf("step-ca's answer: %v", err)
	})

	t.Run("record visible 3 s late succeeds", func(t *testing.T) {
		clock := newTestClock()
		late := &lateProvider{Provider: w.Provider(), pending: map[string][]libdns.Record{}}
		start := clock.Now()
		clock.onSleep = func(now time.Time) {
			if now.Sub(start) >= 3*time.Second {
				if err := late.publish(context.Background()); err != nil {
					t.Error(err)
				}
			}
		}
		f := newFixture(t, w, stepCA, withProvider(late), withClock(clock))
		if _, err := f.obtain(t, ctx, "late.step.example.com"); err != nil {
			t.Fatalf("Obtain: %v\nlog:\n%s", err, strings.Join(f.log, "\n"))
		}
		if log := strings.Join(f.log, "\n"); !strings.Contains(log, "failed (attempt 1 of 5)") {
			t.Errorf("the first attempt should have failed and been shown; log:\n%s", log)
		}
	})

	t.Run("account with contact", func(t *testing.T) {
		f := newFixture(t, w, stepCA)
		got, err := f.is.ManageAccount(ctx, "", AccountChange{})
		if err != nil || len(got.Contact) != 1 {
			t.Fatalf("show = %+v, %v", got, err)
		}
		if _, err := f.is.ManageAccount(ctx, "", AccountChange{Email: "other@example.com"}); err != nil {
			t.Fatalf("update: %v", err)
		}
		_, err = f.is.ManageAccount(ctx, "", AccountChange{RollKey: true})
		var ni *NotImplementedError
		if !errors.As(err, &ni) {
			t.Errorf("roll key: %v, want a NotImplementedError (step-ca has no key change)", err)
		}
		t.Logf("roll key: %v", err)
		got, err = f.is.ManageAccount(ctx, "", AccountChange{Deactivate: true})
		if err != nil || got.Status != "deactivated" {
			t.Fatalf("deactivate = %+v, %v", got, err)
		}
	})
}

// startStepCA writes a root, an intermediate and a ca.json with one ACME
// provisioner, starts step-ca on a loopback port with resolver as its DNS
// resolver and returns the provisioner's directory URL and a client that
// trusts the root.
func startStepCA(t *testing.T, bin, resolver string) (string, *http.Client) {
	t.Helper()
	dir := t.TempDir()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "strictacme test step-ca root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	intKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	intTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "strictacme test step-ca intermediate"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	intDER, err := x509.CreateCertificate(rand.Reader, intTmpl, root, intKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(intKey)
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("root_ca.crt", "CERTIFICATE", rootDER)
	write("intermediate_ca.crt", "CERTIFICATE", intDER)
	write("intermediate_ca_key", "EC PRIVATE KEY", keyDER)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := map[string]any{
		"root": filepath.Join(dir, "root_ca.crt"), "crt": filepath.Join(dir, "intermediate_ca.crt"),
		"key": filepath.Join(dir, "intermediate_ca_key"), "address": addr, "dnsNames": []string{"127.0.0.1"},
		"db":        map[string]any{"type": "badgerv2", "dataSource": filepath.Join(dir, "db")},
		"authority": map[string]any{"provisioners": []any{map[string]any{"type": "ACME", "name": "acme", "challenges": []string{"dns-01"}}}},
		"tls":       map[string]any{"minVersion": 1.2, "maxVersion": 1.3},
	}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "ca.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, filepath.Join(dir, "ca.json"), "--resolver", resolver)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	pool := x509.NewCertPool()
	pool.AddCert(root)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	base := "https://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := hc.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("step-ca did not start: %v\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return base + "/acme/acme/directory", hc
}
