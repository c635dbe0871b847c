package deploy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
)

// testCert returns a stored certificate with serial: a leaf for
// example.com under one intermediate.
func testCert(t *testing.T, serial int64) *store.Certificate {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Intermediate"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), DNSNames: []string{"example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	keyPEM, err := store.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &store.Certificate{
		Name: "example.com", KeyPEM: keyPEM, Leaf: leaf,
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		ChainPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		Meta:     store.Metadata{Serial: leaf.SerialNumber.Text(16), Names: []string{"example.com"}},
	}
}

// reloads counts reload command runs and fails while fail is set.
type reloads struct {
	n    int
	fail bool
}

func (r *reloads) run(_ context.Context, cmd string) error {
	r.n++
	if r.fail {
		return errors.New("exited with status 1")
	}
	return nil
}

// otherGroup is a group files can be given to other than the one they get
// anyway: for root a system group, else a supplementary group of the
// user, else (no choice) the primary group.
func otherGroup() int {
	if os.Geteuid() == 0 {
		for _, n := range []string{"nogroup", "daemon", "users", "adm"} {
			if g, err := user.LookupGroup(n); err == nil {
				if id, err := strconv.Atoi(g.Gid); err == nil {
					return id
				}
			}
		}
	}
	if groups, err := os.Getgroups(); err == nil {
		for _, g := range groups {
			if g != os.Getgid() {
				return g
			}
		}
	}
	return os.Getgid()
}

// TestInstallCopiesWithModeAndGroup: the four copies of acme.sh's
// --install-cert are written with the mode and group asked for and the
// stored bytes.
func TestInstallCopiesWithModeAndGroup(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix groups")
	}
	dir, certDir := t.TempDir(), t.TempDir()
	c := testCert(t, 10)
	gid := otherGroup()
	o := Outputs{KeyFile: filepath.Join(dir, "web.key"), CertFile: filepath.Join(dir, "web.crt"),
		ChainFile: filepath.Join(dir, "chain.crt"), FullchainFile: filepath.Join(dir, "full.crt"),
		Mode: "0640", Group: itoa(gid)}
	if ps := o.Validate(); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	done, err := Sync(context.Background(), o, c, certDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 4 {
		t.Errorf("done: %q", done)
	}
	for path, want := range map[string][]byte{o.KeyFile: c.KeyPEM, o.CertFile: c.CertPEM, o.ChainFile: c.ChainPEM, o.FullchainFile: c.FullchainPEM()} {
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v, content differs from the store", path, err)
		}
		mode, g := statModeGroup(t, path)
		if mode != 0o640 || g != gid {
			t.Errorf("%s: mode %04o group %d, want 0640 group %d", path, mode, g, gid)
		}
	}
}

// TestCombinedPEMAndPKCS12OpenWithOpenSSL: the HAProxy bundle holds the key
// and the full chain, and the PKCS#12 file opens with the password from a
// file, both in OpenSSL (what Java, Windows and HAProxy users check with)
// and in the decoder.
func TestCombinedPEMAndPKCS12OpenWithOpenSSL(t *testing.T) {
	dir := t.TempDir()
	c := testCert(t, 11)
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, legacy := range []bool{false, true} {
		o := Outputs{PEMFile: filepath.Join(dir, "haproxy.pem"), PKCS12File: filepath.Join(dir, "java.p12"), PKCS12PasswordFile: pwFile, PKCS12Legacy: legacy}
		if _, err := Sync(context.Background(), o, c, t.TempDir(), nil); err != nil {
			t.Fatal(err)
		}
		bundle, _ := os.ReadFile(o.PEMFile)
		if !bytes.HasPrefix(bundle, c.KeyPEM) || !bytes.HasSuffix(bundle, c.FullchainPEM()) {
			t.Errorf("bundle is not key + full chain:\n%s", bundle)
		}
		p12, _ := os.ReadFile(o.PKCS12File)
		key, leaf, chain, err := pkcs12.DecodeChain(p12, "s3cret-pass")
		if err != nil || key == nil || leaf.SerialNumber.Int64() != 11 || len(chain) != 1 {
			t.Errorf("legacy=%v: decode: %v (chain %d)", legacy, err, len(chain))
		}
		for _, f := range []string{o.PEMFile, o.PKCS12File} {
			if mode, _ := statModeGroup(t, f); mode != 0o600 {
				t.Errorf("%s: mode %04o, want 0600 (it holds the key)", f, mode)
			}
		}
		if _, err := exec.LookPath("openssl"); err != nil {
			continue
		}
		openssl(t, "x509", "-in", o.PEMFile, "-noout", "-serial")
		openssl(t, "pkey", "-in", o.PEMFile, "-noout")
		out := openssl(t, "pkcs12", "-in", o.PKCS12File, "-passin", "file:"+pwFile, "-nodes")
		if !strings.Contains(out, "PRIVATE KEY") || strings.Count(out, "BEGIN CERTIFICATE") != 2 {
			t.Errorf("openssl pkcs12 (legacy=%v) shows:\n%s", legacy, out)
		}
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed; decoded with go-pkcs12 only")
	}
}

func openssl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestRedeployOnlyWhenSomethingChanged: an unchanged certificate is not
// written again and the service not reloaded; a new certificate, a changed
// mode and a deleted file each are.
func TestRedeployOnlyWhenSomethingChanged(t *testing.T) {
	dir, certDir := t.TempDir(), t.TempDir()
	o := Outputs{KeyFile: filepath.Join(dir, "k.pem"), FullchainFile: filepath.Join(dir, "f.pem"), ReloadCommand: "reload"}
	r := &reloads{}
	c := testCert(t, 20)
	sync := func(o Outputs, c *store.Certificate) []string {
		t.Helper()
		done, err := Sync(context.Background(), o, c, certDir, r.run)
		if err != nil {
			t.Fatal(err)
		}
		return done
	}
	if done := sync(o, c); len(done) != 3 || r.n != 1 {
		t.Fatalf("first deploy: %q, %d reloads", done, r.n)
	}
	if done := sync(o, c); len(done) != 0 || r.n != 1 {
		t.Fatalf("unchanged: %q, %d reloads", done, r.n)
	}
	if done := sync(o, testCert(t, 21)); len(done) != 3 || r.n != 2 {
		t.Fatalf("new certificate: %q, %d reloads", done, r.n)
	}
	c = testCert(t, 22)
	sync(o, c)
	o.Mode = "0640"
	if done := sync(o, c); len(done) != 3 || r.n != 4 {
		t.Fatalf("mode changed: %q, %d reloads", done, r.n)
	}
	if err := os.Remove(o.KeyFile); err != nil {
		t.Fatal(err)
	}
	if done := sync(o, c); len(done) != 2 || !strings.Contains(done[0], "k.pem") || r.n != 5 {
		t.Fatalf("file removed: %q, %d reloads", done, r.n)
	}
}

// TestFailedReloadIsRetriedNextRun: a reload that fails exits with the
// hook code; the next run writes nothing again but reloads again, and once
// it succeeds the outputs are quiet.
func TestFailedReloadIsRetriedNextRun(t *testing.T) {
	dir, certDir := t.TempDir(), t.TempDir()
	o := Outputs{PEMFile: filepath.Join(dir, "b.pem"), ReloadCommand: "reload"}
	c := testCert(t, 30)
	r := &reloads{fail: true}
	_, err := Sync(context.Background(), o, c, certDir, r.run)
	var de *Error
	if exitcode.Of(err) != exitcode.Hook || !errors.As(err, &de) || de.Output != "reload" {
		t.Fatalf("err = %v (exit %d)", err, exitcode.Of(err))
	}
	r.fail = false
	done, err := Sync(context.Background(), o, c, certDir, r.run)
	if err != nil || len(done) != 1 || r.n != 2 {
		t.Fatalf("retry: %q %v, %d reloads", done, err, r.n)
	}
	if done, _ := Sync(context.Background(), o, c, certDir, r.run); len(done) != 0 || r.n != 2 {
		t.Fatalf("after success: %q, %d reloads", done, r.n)
	}
}

// TestUnwritableOutputFailsWithHookCode: a folder that vanished after
// validation fails the deploy with the hook code; nothing is recorded for
// it and the reload does not run.
func TestUnwritableOutputFailsWithHookCode(t *testing.T) {
	dir := t.TempDir()
	o := Outputs{KeyFile: filepath.Join(dir, "gone", "k.pem"), ReloadCommand: "reload"}
	r := &reloads{}
	_, err := Sync(context.Background(), o, testCert(t, 40), t.TempDir(), r.run)
	if exitcode.Of(err) != exitcode.Hook || !strings.Contains(err.Error(), "deploy key ") || r.n != 0 {
		t.Fatalf("err = %v, %d reloads", err, r.n)
	}
}

func TestValidateNamesTheKeyAndTheFix(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	_ = os.WriteFile(pw, []byte("x"), 0o600)
	t.Setenv("P12_PW_EMPTY", "")
	tests := []struct {
		name string
		o    Outputs
		key  string
		msg  string
	}{
		{"mode not octal", Outputs{KeyFile: filepath.Join(dir, "k"), Mode: "rw-r-----"}, "install_mode", "octal mode"},
		{"mode owner cannot read", Outputs{KeyFile: filepath.Join(dir, "k"), Mode: "0040"}, "install_mode", "unable to read"},
		{"mode too large", Outputs{Mode: "4755"}, "install_mode", "octal mode"},
		{"key readable by every user", Outputs{KeyFile: filepath.Join(dir, "k"), Mode: "0644"}, "install_mode", "every user"},
		{"bundle writable by every user", Outputs{PEMFile: filepath.Join(dir, "b.pem"), Mode: "0662"}, "install_mode", "every user"},
		{"folder missing", Outputs{KeyFile: filepath.Join(dir, "nope", "k")}, "install_key", "does not exist"},
		{"path is a folder", Outputs{CertFile: dir}, "install_cert", "is a folder"},
		{"one file twice", Outputs{KeyFile: filepath.Join(dir, "x"), PEMFile: filepath.Join(dir, "x")}, "install_pem", "also install_key"},
		{"no such group", Outputs{Group: "no-such-group-strictacme"}, "install_group", "no group"},
		{"no such user", Outputs{Owner: "no-such-user-strictacme"}, "install_owner", "no user"},
		{"pkcs12 without password", Outputs{PKCS12File: filepath.Join(dir, "a.p12")}, "pkcs12_password_file", "needs a password"},
		{"password without pkcs12", Outputs{PKCS12PasswordFile: pw}, "install_pkcs12", "set install_pkcs12"},
		{"two passwords", Outputs{PKCS12File: filepath.Join(dir, "a.p12"), PKCS12PasswordFile: pw, PKCS12PasswordEnv: "X"}, "pkcs12_password_file", "only one"},
		{"password variable empty", Outputs{PKCS12File: filepath.Join(dir, "a.p12"), PKCS12PasswordEnv: "P12_PW_EMPTY"}, "pkcs12_password_env", "is not set"},
		{"password file missing", Outputs{PKCS12File: filepath.Join(dir, "a.p12"), PKCS12PasswordFile: filepath.Join(dir, "none")}, "pkcs12_password_file", "cannot read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := tt.o.Validate()
			if len(ps) != 1 || ps[0].Key != tt.key || !strings.Contains(ps[0].Msg, tt.msg) {
				t.Fatalf("problems %v, want one for %s containing %q", ps, tt.key, tt.msg)
			}
		})
	}
	if ps := (Outputs{KeyFile: filepath.Join(dir, "k"), Mode: "640", PKCS12File: filepath.Join(dir, "a.p12"), PKCS12PasswordFile: pw}).Validate(); ps != nil {
		t.Errorf("valid outputs: %v", ps)
	}
}

// The PKCS#12 password is the first line of its file, whatever follows
// (a trailing newline, CRLF, a second line).
func TestPKCS12PasswordIsTheFilesFirstLine(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, body string }{
		{"bare", "s3cretPW"},
		{"newline", "s3cretPW\n"},
		{"crlf", "s3cretPW\r\n"},
		{"second line", "s3cretPW\nsecondline\n"},
	} {
		pw := filepath.Join(dir, tc.name)
		if err := os.WriteFile(pw, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Outputs{PKCS12PasswordFile: pw}.password()
		if err != nil || got != "s3cretPW" {
			t.Errorf("%s: password %q, %v; want s3cretPW", tc.name, got, err)
		}
	}
}

// Whether a process may give its files an owner and group follows
// chown(2): checked before the order, so a run that may not do it never
// spends an issuance first.
func TestChownRuleOfRootAndOtherUsers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		euid, egid int
		groups     []int
		uid, gid   int
		want       bool
	}{
		{"root gives anything", 0, 0, nil, 1000, 1000, true},
		{"user keeps itself", 1000, 1000, nil, 1000, -1, true},
		{"user gives another owner", 1000, 1000, nil, 0, -1, false},
		{"user picks a group it is in", 1000, 1000, []int{4, 27}, -1, 27, true},
		{"user picks its primary group", 1000, 1000, nil, -1, 1000, true},
		{"user picks a group it is not in", 1000, 1000, []int{4}, -1, 0, false},
	} {
		if got := canChown(tc.euid, tc.egid, tc.groups, tc.uid, tc.gid); got != tc.want {
			t.Errorf("%s: canChown = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A certificate of the operator's CSR has no key: an output that needs one
// fails with the hook exit code and is not written (settings validation
// refuses such outputs before any order; this is the last guard).
func TestOutputsNeedingTheKeyFailWithoutOne(t *testing.T) {
	c := testCert(t, 41)
	c.KeyPEM, c.Meta.CSR = nil, true
	for _, kind := range []string{KindKey, KindPEM, KindPKCS12} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			o := Outputs{CertFile: filepath.Join(dir, "cert.pem")}
			switch kind {
			case KindKey:
				o.KeyFile = out
			case KindPEM:
				o.PEMFile = out
			case KindPKCS12:
				o.PKCS12File, o.PKCS12PasswordEnv = out, "HOME"
			}
			_, err := Sync(context.Background(), o, c, t.TempDir(), (&reloads{}).run)
			if exitcode.Of(err) != exitcode.Hook || !strings.Contains(err.Error(), "ordered for your CSR") {
				t.Errorf("err = %v", err)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s written without a key: %v", kind, err)
			}
		})
	}
}
