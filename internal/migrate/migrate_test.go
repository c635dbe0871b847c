package migrate_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/migrate"
	"github.com/strictacme/strictacme/internal/migrate/migratetest"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/store"
)

const testDir = "https://acme.test.example:14000/dir"

// tree makes an account at testDir and one certificate per names list,
// issued by a throwaway CA, as a strictacme store would hold them.
func tree(t *testing.T, certKey func() crypto.Signer, nameLists ...[]string) migratetest.Tree {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Intermediate"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, SubjectKeyId: []byte{1, 2, 3, 4}}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	acctKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tr := migratetest.Tree{Email: "ops@example.com", Account: &store.Account{URL: "https://acme.test.example:14000/my-account/7", Directory: testDir, Contact: []string{"mailto:ops@example.com"}, Key: acctKey}}
	for i, ns := range nameLists {
		key := certKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(100 + i)), Subject: pkix.Name{CommonName: ns[0]}, DNSNames: ns,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		kp, _ := store.MarshalPrivateKey(key)
		tr.Certs = append(tr.Certs, &store.Certificate{
			Name: store.CertName(ns[0]), KeyPEM: kp,
			CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			ChainPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
			Meta:     store.Metadata{Names: ns, Serial: big.NewInt(int64(100 + i)).Text(16), Directory: testDir},
		})
	}
	return tr
}

func ec256() crypto.Signer { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k }

func lines(p *migrate.Plan) string { return strings.Join(p.Mapping(), "\n") }

// lego v5 with its configuration backup: the namecheap provider and its
// plain settings come from the envFile, the API key does not; hooks,
// profile and reuse-key carry over; the certificate keeps its ARI ID.
func TestLegoV5ConfigMapsProviderHooksAndKeepsSecretsOut(t *testing.T) {
	dir := t.TempDir()
	env := filepath.Join(dir, "nc.env")
	if err := os.WriteFile(env, []byte("# namecheap\nNAMECHEAP_API_USER=alice\nexport NAMECHEAP_API_KEY=\"0123456789abcdef0123456789abcdef\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := `challenges:
  nc:
    dns:
      provider: namecheap
      envFile: ` + env + `
      propagation:
        wait: 90s
certificates:
  example.com:
    challenge: nc
    domains: [example.com, "*.example.com"]
    profile: tlsserver
    renew:
      reuseKey: true
      days: 30
hooks:
  deploy:
    command: systemctl reload nginx
  post:
    command: logger renewed
`
	tr := tree(t, ec256, []string{"example.com", "*.example.com"})
	lego := filepath.Join(dir, ".lego")
	if err := migratetest.WriteLego(lego, 5, tr, cfg); err != nil {
		t.Fatal(err)
	}
	p, err := migrate.Read("lego", lego, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Layout != "lego v5" || len(p.Accounts) != 1 || len(p.Certificates) != 1 {
		t.Fatalf("layout %q, %d accounts, %d certificates", p.Layout, len(p.Accounts), len(p.Certificates))
	}
	c := p.Certificates[0]
	s := c.Settings
	if s.Provider != "namecheap" || s.Providers[0].Values["api_user"] != "alice" || !s.Providers[0].FromEnv {
		t.Errorf("provider %q %+v, want namecheap with api_user alice read from env otherwise", s.Provider, s.Providers)
	}
	if _, ok := s.Providers[0].Values["api_key"]; ok {
		t.Errorf("the API key was copied into the settings: %+v", s.Providers[0].Values)
	}
	raw, _ := os.ReadFile(env)
	if strings.Contains(string(c.Cert.Meta.Settings), "0123456789abcdef0123456789abcdef") || strings.Contains(lines(p), "0123456789abcdef0123456789abcdef") {
		t.Errorf("secret of %s in the stored settings or the mapping", raw)
	}
	if s.DeployHook != "systemctl reload nginx" || s.PostHook != "logger renewed" || !s.ReuseKey || s.Profile != "tlsserver" {
		t.Errorf("settings %+v", s)
	}
	if s.Propagation != "wait" || s.PropagationWait.D() != 90*time.Second {
		t.Errorf("propagation %s %s, want wait 90s", s.Propagation, s.PropagationWait.D())
	}
	if c.Cert.Name != "example.com" {
		t.Errorf("name %q", c.Cert.Name)
	}
	want, _ := acme.ARIUniqueIdentifier(c.Cert.Leaf)
	if c.Cert.Meta.ARICertID != want || want == "" {
		t.Errorf("ARI ID %q, want %q", c.Cert.Meta.ARICertID, want)
	}
	m := lines(p)
	for _, w := range []string{"NAMECHEAP_API_KEY (a secret in " + env + "): not copied", "renew.days 30", "DNS provider namecheap", "profile tlsserver"} {
		if !strings.Contains(m, w) {
			t.Errorf("mapping lacks %q:\n%s", w, m)
		}
	}
	// The stored settings build a valid order once the secret is given.
	t.Setenv("NAMECHEAP_API_KEY", "0123456789abcdef0123456789abcdef")
	if probs := s.Validate(plan.ValidateOptions{}); len(probs) > 0 {
		t.Errorf("imported settings do not validate: %v", probs)
	}
}

// lego v4 records only the CA's host: a preset host maps by itself, any
// other needs --server, and the error says so.
func TestLegoV4NeedsServerForAnUnknownCAHost(t *testing.T) {
	dir := t.TempDir()
	tr := tree(t, func() crypto.Signer { k, _ := rsa.GenerateKey(rand.Reader, 2048); return k }, []string{"v4.example.com"})
	if err := migratetest.WriteLego(dir, 4, tr, ""); err != nil {
		t.Fatal(err)
	}
	_, err := migrate.Read("lego", dir, migrate.Options{})
	if err == nil || !strings.Contains(err.Error(), "pass --server") || exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("err = %v (exit %d), want a usage error asking for --server", err, exitcode.Of(err))
	}
	p, err := migrate.Read("lego", dir, migrate.Options{Server: testDir, DNS: "exec"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Layout != "lego v4" || p.Accounts[0].Acc.URL != tr.Account.URL || p.Accounts[0].Acc.Directory != testDir {
		t.Errorf("layout %q account %+v", p.Layout, p.Accounts[0].Acc)
	}
	c := p.Certificates[0]
	if c.Settings.KeyType != "rsa2048" || c.Settings.Provider != "exec" {
		t.Errorf("key type %q provider %q", c.Settings.KeyType, c.Settings.Provider)
	}
	if !strings.Contains(lines(p), "renewal settings: lego keeps none in this tree") {
		t.Errorf("mapping does not say what was not carried:\n%s", lines(p))
	}
}

// A certificate lego's tree holds without its NAME.json (hand-copied
// trees) is named, not skipped in silence.
func TestLegoCertificateWithoutItsJSONIsNamed(t *testing.T) {
	dir := t.TempDir()
	tr := tree(t, ec256, []string{"v4.example.com"})
	if err := migratetest.WriteLego(dir, 4, tr, ""); err != nil {
		t.Fatal(err)
	}
	js, _ := filepath.Glob(filepath.Join(dir, "certificates", "*.json"))
	if len(js) != 1 {
		t.Fatalf("fixture holds %q, want one certificate .json", js)
	}
	if err := os.Remove(js[0]); err != nil {
		t.Fatal(err)
	}
	_, err := migrate.Read("lego", dir, migrate.Options{Server: testDir, DNS: "exec"})
	if err == nil || !strings.Contains(err.Error(), "v4.example.com.crt has no v4.example.com.json") || exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("err = %v (exit %d), want a usage error naming the .crt without its .json", err, exitcode.Of(err))
	}
}

// lego v4's host folder acme.sectigo.com is the host of three presets
// (sectigo, sectigoev, sectigoov): the host alone does not say which, so
// the error names them and --server picks one.
func TestLegoV4HostOfSeveralPresetsNeedsServer(t *testing.T) {
	dir := t.TempDir()
	tr := tree(t, ec256, []string{"v4.example.com"})
	tr.Account.Directory = plan.CAPresets["sectigoov"]
	if err := migratetest.WriteLego(dir, 4, tr, ""); err != nil {
		t.Fatal(err)
	}
	_, err := migrate.Read("lego", dir, migrate.Options{DNS: "exec"})
	if err == nil || !strings.Contains(err.Error(), "sectigo, sectigoev, sectigoov") || exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("err = %v (exit %d), want a usage error naming the three presets", err, exitcode.Of(err))
	}
	p, err := migrate.Read("lego", dir, migrate.Options{Server: "sectigoov", DNS: "exec"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Accounts[0].Acc.Directory; got != plan.CAPresets["sectigoov"] {
		t.Errorf("directory %q, want sectigoov's", got)
	}
}

// A certificate whose key is not the certificate's is refused, naming the
// file; nothing is written.
func TestCertbotKeyNotTheCertificatesIsRefused(t *testing.T) {
	dir := t.TempDir()
	tr := tree(t, ec256, []string{"a.example.com"})
	tr.Certs[0].KeyPEM, _ = store.MarshalPrivateKey(ec256())
	if err := migratetest.WriteCertbot(dir, tr, "authenticator = dns-rfc2136\n"); err != nil {
		t.Fatal(err)
	}
	_, err := migrate.Read("certbot", dir, migrate.Options{})
	if err == nil || !strings.Contains(err.Error(), "renewal/a.example.com.conf: the private key is not the certificate's") {
		t.Fatalf("err = %v", err)
	}
}

// certbot: the JWK account key and the DNS plugin map; P-521 keys are kept
// for the current certificate and the next is ec384, said in the mapping;
// Apply refuses another account for the same CA and a stored name unless
// force, and writes nothing when it refuses.
func TestCertbotApplyRefusesConflictsWithoutForce(t *testing.T) {
	dir := t.TempDir()
	tr := tree(t, func() crypto.Signer { k, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader); return k }, []string{"b.example.com"})
	if err := migratetest.WriteCertbot(dir, tr, "authenticator = dns-rfc2136\nreuse_key = True\n"); err != nil {
		t.Fatal(err)
	}
	p, err := migrate.Read("certbot", dir, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Certificates[0]
	if c.Settings.Provider != "rfc2136" || c.Settings.KeyType != "ec384" || !c.Settings.ReuseKey {
		t.Errorf("settings %+v", c.Settings)
	}
	if !strings.Contains(lines(p), "key type ECDSA P-521: renewed as ec384") {
		t.Errorf("mapping:\n%s", lines(p))
	}
	if !p.Accounts[0].Acc.Key.Public().(*ecdsa.PublicKey).Equal(tr.Account.Key.Public()) {
		t.Error("account key differs from the JWK written")
	}
	st, _ := store.Open(t.TempDir())
	other := *tr.Account
	other.URL = "https://acme.test.example:14000/my-account/99"
	if err := st.SaveAccount("", &other); err != nil {
		t.Fatal(err)
	}
	err = p.Apply(st, false)
	if err == nil || !strings.Contains(err.Error(), "an account for acme.test.example:14000 is stored already") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(st.CertDir("b.example.com")); !os.IsNotExist(err) {
		t.Errorf("certificate written by a refused import: %v", err)
	}
	if err := p.Apply(st, true); err != nil {
		t.Fatal(err)
	}
	got, err := st.LoadCertificate("b.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.ARICertID == "" || got.Meta.Account != tr.Account.URL || string(got.CertPEM) != string(tr.Certs[0].CertPEM) {
		t.Errorf("stored %+v", got.Meta)
	}
	s, ok, err := plan.FromMetadata(got.Meta)
	if err != nil || !ok || s.Provider != "rfc2136" {
		t.Errorf("stored settings %+v %v %v", s, ok, err)
	}
	a, err := st.LoadAccount(testDir, "")
	if err != nil || a.URL != tr.Account.URL {
		t.Errorf("account %+v %v", a, err)
	}
}

// Detect tells lego v4, lego v5 and certbot trees from a strictacme store
// and from an empty directory.
func TestDetectTellsTreesFromAStore(t *testing.T) {
	tr := tree(t, ec256, []string{"d.example.com"})
	v4, v5, cb, st := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	if err := migratetest.WriteLego(v4, 4, tr, ""); err != nil {
		t.Fatal(err)
	}
	if err := migratetest.WriteLego(v5, 5, tr, ""); err != nil {
		t.Fatal(err)
	}
	if err := migratetest.WriteCertbot(cb, tr, ""); err != nil {
		t.Fatal(err)
	}
	s, _ := store.Open(st)
	if err := s.SaveAccount("", tr.Account); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCertificate(tr.Certs[0]); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, tool, what string
	}{
		{v4, "lego", "a lego v4 directory (1 certificate)"},
		{v5, "lego", "a lego v5 directory (1 certificate)"},
		{cb, "certbot", "a certbot configuration directory (1 renewal configuration)"},
		{st, "", ""},
		{t.TempDir(), "", ""},
	} {
		f, ok := migrate.Detect(tc.dir)
		if ok != (tc.tool != "") || f.Tool != tc.tool || f.What != tc.what {
			t.Errorf("%s: %+v %v, want %s %q", tc.dir, f, ok, tc.tool, tc.what)
		}
	}
	f, _ := migrate.Detect(cb)
	if msg := f.Message("/var/lib/strictacme"); !strings.Contains(msg, "strictacme import certbot "+cb+" --path /var/lib/strictacme") {
		t.Errorf("message %q", msg)
	}
	// The commands acting on stored state refuse the tree with that
	// message, and open a store; the others print it.
	if _, _, err := migrate.OpenExistingLocked(context.Background(), cb, false); exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "strictacme import certbot") {
		t.Errorf("open a certbot tree: %v", err)
	}
	if _, unlock, err := migrate.OpenExistingLocked(context.Background(), st, false); err != nil {
		t.Errorf("open a store: %v", err)
	} else {
		unlock()
	}
	var b strings.Builder
	if !migrate.Hint(&b, v4) || !strings.Contains(b.String(), "strictacme import lego") || migrate.Hint(&b, st) {
		t.Errorf("hint: %q", b.String())
	}
}

// certbotFixture writes a certbot tree for one certificate of names and
// replaces its renewal configuration with testdata/certbot/conf, the
// paths, account and server filled in as certbot writes them.
func certbotFixture(t *testing.T, conf string, names ...string) (dir string, tr migratetest.Tree) {
	t.Helper()
	dir = t.TempDir()
	tr = tree(t, ec256, names)
	if err := migratetest.WriteCertbot(dir, tr, ""); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "certbot", conf))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("CONFIGDIR", dir, "ACCOUNT", migratetest.CertbotAccountID(tr.Account.Key), "SERVER", testDir).Replace(string(b))
	if err := os.WriteFile(filepath.Join(dir, "renewal", tr.Certs[0].Name+".conf"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, tr
}

// certbot's rfc2136 plugin: the nameserver, key name and algorithm of its
// credentials INI become the provider's settings, the TSIG secret does
// not; hooks carry over; the sleep is named as not carried.
func TestCertbotRFC2136CredentialsMapWithoutTheSecret(t *testing.T) {
	dir, _ := certbotFixture(t, "rfc2136.conf", "rfc.example.com")
	ini, _ := os.ReadFile(filepath.Join("testdata", "certbot", "rfc2136.ini"))
	if err := os.WriteFile(filepath.Join(dir, "rfc2136.ini"), ini, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := migrate.Read("certbot", dir, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Certificates[0].Settings
	want := map[string]string{"nameserver": "192.0.2.53:5353", "tsig_key": "certbot.", "tsig_algorithm": "hmac-sha512"}
	got := s.Providers[0].Values
	if s.Provider != "rfc2136" || len(got) != len(want) {
		t.Fatalf("provider %q values %v, want rfc2136 %v", s.Provider, got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if strings.Contains(string(p.Certificates[0].Cert.Meta.Settings), "4q4wM") || strings.Contains(lines(p), "4q4wM") {
		t.Error("the TSIG secret reached the settings or the mapping")
	}
	if s.PreHook != "systemctl stop haproxy" || s.PostHook != "systemctl start haproxy" || s.DeployHook != `/usr/local/bin/push-cert "$RENEWED_LINEAGE"` {
		t.Errorf("hooks %q %q %q", s.PreHook, s.DeployHook, s.PostHook)
	}
	m := lines(p)
	for _, w := range []string{"dns_rfc2136_secret (a secret in ", "give renew RFC2136_TSIG_SECRET", "propagation_seconds 30"} {
		if !strings.Contains(m, w) {
			t.Errorf("mapping lacks %q:\n%s", w, m)
		}
	}
}

// Older certbot wrote "account = None" and every default: the one account
// of the server is used; standalone, must-staple and renew_before_expiry
// are named as not carried, and --dns fills in the provider.
func TestCertbotOldStyleConfigurationWithoutAccount(t *testing.T) {
	dir, tr := certbotFixture(t, "old-style.conf", "old.example.com")
	p, err := migrate.Read("certbot", dir, migrate.Options{DNS: "exec"})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Certificates[0]
	if c.Cert.Meta.Account != tr.Account.URL || c.Settings.Provider != "exec" {
		t.Errorf("account %q provider %q", c.Cert.Meta.Account, c.Settings.Provider)
	}
	m := lines(p)
	for _, w := range []string{"authenticator standalone", "must_staple", "renew_before_expiry 20 days", "DNS provider exec (--dns)"} {
		if !strings.Contains(m, w) {
			t.Errorf("mapping lacks %q:\n%s", w, m)
		}
	}
	if strings.Contains(m, "installer") {
		t.Errorf("installer None named:\n%s", m)
	}
}

// A write that fails part-way (here: certificates/ is a file) removes the
// account the import had already stored and exits 1.
func TestApplyFailingPartWayLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	tr := tree(t, ec256, []string{"e.example.com"})
	if err := migratetest.WriteLego(dir, 5, tr, ""); err != nil {
		t.Fatal(err)
	}
	p, err := migrate.Read("lego", dir, migrate.Options{DNS: "exec"})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := store.Open(t.TempDir())
	if err := os.WriteFile(filepath.Join(st.Root, "certificates"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err = p.Apply(st, false)
	if err == nil || exitcode.Of(err) != exitcode.Failure {
		t.Fatalf("err = %v (exit %d), want a failure", err, exitcode.Of(err))
	}
	if _, err := st.LoadAccount(testDir, ""); err != store.ErrNoAccount {
		t.Errorf("account left behind by a failed import: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(st.Root, "accounts")); !os.IsNotExist(err) {
		t.Errorf("accounts/ left behind by a failed import: %v", err)
	}
}

// An RSA 8192 key (certbot --rsa-key-size 8192, lego RSA8192) keeps its
// size for the next certificate: the mapping carries rsa8192 and notes
// nothing. The key is a fixture: generating one takes seconds.
func TestRSA8192KeyIsCarriedAsRSA8192(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "rsa8192.key"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tr := tree(t, func() crypto.Signer { return k.(crypto.Signer) }, []string{"big.example.com"})
	if err := migratetest.WriteCertbot(dir, tr, "authenticator = dns-rfc2136\n"); err != nil {
		t.Fatal(err)
	}
	p, err := migrate.Read("certbot", dir, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Certificates[0].Settings.KeyType; got != "rsa8192" {
		t.Errorf("key type %q, want rsa8192", got)
	}
	if m := lines(p); strings.Contains(m, "renewed as") || !strings.Contains(m, "key rsa8192") {
		t.Errorf("mapping:\n%s", m)
	}
}
