package plan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/store/storetest"
	"github.com/strictacme/strictacme/provider/acmedns"
)

var (
	notBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = notBefore.Add(90 * 24 * time.Hour)
)

// withSettings stores s as the certificate's settings, as an order does.
func withSettings(t *testing.T, s Settings) func(*store.Metadata) {
	return func(m *store.Metadata) {
		raw, err := s.Encode()
		if err != nil {
			t.Fatal(err)
		}
		m.Settings, m.SettingsVersion = raw, SchemaVersion
	}
}

func TestReorder(t *testing.T) {
	stored := Settings{Name: "web", Names: []string{"example.com"}, KeyType: "ec256"}
	tests := []struct {
		name       string
		configured Settings
		stored     bool
		want       string // "" = not ordered now
	}{
		{"a certificate not stored yet is ordered", stored, false, "in the config file, not stored yet"},
		{"an unchanged certificate waits until it is due", stored, true, ""},
		{"an added name orders it again", Settings{Name: "web", Names: []string{"example.com", "www.example.com"}, KeyType: "ec256"}, true,
			"the config file changed it: names example.com,www.example.com, stored example.com"},
		{"another key type orders it again", Settings{Name: "web", Names: []string{"example.com"}, KeyType: "rsa2048"}, true,
			"the config file changed it: key type rsa2048, stored ec256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := storetest.Open(t)
			if tt.stored {
				storetest.SaveCertificate(t, st, "web", notBefore, notAfter, nil)
			}
			why, ok := Reorder(st, tt.configured)
			if ok != (tt.want != "") || why.Reason != tt.want {
				t.Fatalf("Reorder = %q, %v; want %q", why.Reason, ok, tt.want)
			}
			if ok && strings.Join(why.Names, ",") != strings.Join(tt.configured.Names, ",") {
				t.Errorf("names %v, want the configured %v", why.Names, tt.configured.Names)
			}
		})
	}
}

func TestRecordSettings(t *testing.T) {
	configured := Settings{Name: "web", Names: []string{"example.com"}, Email: "ops@example.com", DeployHook: "systemctl reload nginx"}
	tests := []struct {
		name     string
		edit     func(*testing.T) func(*store.Metadata)
		order    map[string]renewal.OrderReason
		recorded bool
		log      string
	}{
		{
			name:     "a certificate stored without settings gets the configured ones",
			recorded: true,
			log:      "web: stored without its settings; recorded those of the config file, so renew can renew it",
		},
		{
			name: "settings stored with the certificate are kept",
			edit: func(t *testing.T) func(*store.Metadata) {
				return withSettings(t, Settings{Email: "old@example.com"})
			},
		},
		{
			name:  "a certificate ordered in this run is left to its order",
			order: map[string]renewal.OrderReason{"web": {Reason: "changed"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := storetest.Open(t)
			var edit func(*store.Metadata)
			if tt.edit != nil {
				edit = tt.edit(t)
			}
			storetest.SaveCertificate(t, st, "web", notBefore, notAfter, edit)
			var lines []string
			RecordSettings(st, map[string]Settings{"web": configured, "not-stored": configured}, tt.order, func(l string) { lines = append(lines, l) })
			c, err := st.LoadCertificate("web")
			if err != nil {
				t.Fatal(err)
			}
			s, ok, err := FromMetadata(c.Meta)
			switch {
			case tt.recorded && (!ok || err != nil || s.DeployHook != configured.DeployHook || c.Meta.SettingsVersion != configured.Version()):
				t.Errorf("settings not recorded: %+v %v %v", s, ok, err)
			case !tt.recorded && s.DeployHook != "":
				t.Errorf("settings replaced by the configured ones: %s", c.Meta.Settings)
			}
			if got := strings.Join(lines, "\n"); got != tt.log {
				t.Errorf("log %q, want %q", got, tt.log)
			}
		})
	}
}

func TestStoredHooks(t *testing.T) {
	st := storetest.Open(t)
	storetest.SaveCertificate(t, st, "a", notBefore, notAfter, withSettings(t, Settings{PreHook: "stop web", PostHook: "start web"}))
	storetest.SaveCertificate(t, st, "b", notBefore, notAfter, withSettings(t, Settings{PreHook: "stop web", PostHook: "start mail"}))
	storetest.SaveCertificate(t, st, "c", notBefore, notAfter, nil) // stored without settings
	tests := []struct {
		name      string
		names     []string
		pre, post string
	}{
		{"every stored certificate's distinct hooks run once each", nil, "stop web", "start web && start mail"},
		{"only the selected certificates' hooks", []string{"b"}, "stop web", "start mail"},
		{"a certificate without settings has no hooks", []string{"c"}, "", ""},
		{"a name not stored is left out", []string{"gone", "a"}, "stop web", "start web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pre, post := StoredHooks(st, tt.names)
			if pre != tt.pre || post != tt.post {
				t.Errorf("StoredHooks = %q, %q; want %q, %q", pre, post, tt.pre, tt.post)
			}
		})
	}
}

// rootFile writes a self-signed CA certificate as PEM.
func rootFile(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test root"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestClientFor(t *testing.T) {
	root := rootFile(t)
	m := store.Metadata{Directory: "https://ca.example/dir"}
	withSettings(t, Settings{CACerts: []string{root}})(&m)
	c, err := ClientFor(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Directory != "https://ca.example/dir" || c.HTTPClient == nil || c.UserAgent == "" {
		t.Errorf("client %+v: want the certificate's CA with the stored roots", c)
	}
	if _, err := ClientFor(m, []string{filepath.Join(t.TempDir(), "missing.pem")}); err == nil {
		t.Error("a trust root file that is not there was accepted")
	}
}

// The settings that define a run's providers: the config file's first,
// then those stored with each certificate of the run.
func TestKnown(t *testing.T) {
	st := storetest.Open(t)
	stored := storetest.SaveCertificate(t, st, "api", notBefore, notAfter, withSettings(t, Settings{Provider: "stored"}))
	bare := storetest.SaveCertificate(t, st, "old", notBefore, notAfter, nil)
	configured := map[string]Settings{"web": {Name: "web", Provider: "web"}, "b": {Name: "b", Provider: "b"}}
	runs := []*renewal.CertRun{{Name: "new"}, {Name: "api", Cert: stored}, {Name: "old", Cert: bare}}
	var got []string
	for _, s := range Known(configured, runs) {
		got = append(got, s.Provider)
	}
	if strings.Join(got, ",") != "b,web,stored" {
		t.Errorf("known providers %v, want the configured ones by name, then the stored ones", got)
	}
}

func TestSettingsFor(t *testing.T) {
	configured := map[string]Settings{"web": {Name: "web", Names: []string{"example.com"}, Email: "config@example.com"}}
	tests := []struct {
		name       string
		cert       string
		edit       func(*store.Metadata)
		fromConfig bool
		email      string
		err        string
	}{
		{name: "the config file's settings come first", cert: "web", edit: withSettings(t, Settings{Email: "stored@example.com"}), fromConfig: true, email: "config@example.com"},
		{name: "otherwise those it was stored with, under its store name", cert: "api", edit: withSettings(t, Settings{Name: "old", Email: "stored@example.com"}), email: "stored@example.com"},
		{name: "a certificate stored without settings cannot be ordered", cert: "api", err: ErrNoSettings.Error()},
		{name: "settings of a newer schema are refused with the certificate's name", cert: "api", edit: func(m *store.Metadata) {
			m.Settings, m.SettingsVersion = []byte(`{}`), SchemaVersion+1
		}, err: "api: stored settings have schema version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := storetest.Open(t)
			c := &renewal.CertRun{Name: tt.cert, Cert: storetest.SaveCertificate(t, st, tt.cert, notBefore, notAfter, tt.edit)}
			s, fromConfig, err := SettingsFor(c, configured)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || fromConfig != tt.fromConfig || s.Email != tt.email || s.Name != tt.cert {
				t.Errorf("SettingsFor = %+v, %v, %v; want e-mail %s from config %v", s, fromConfig, err, tt.email, tt.fromConfig)
			}
		})
	}
}

// A config run selects the file's certificates in file order, orders the
// ones not stored or changed, and takes the file's run hooks.
func TestConfigure(t *testing.T) {
	st := storetest.Open(t)
	storetest.SaveCertificate(t, st, "same", notBefore, notAfter, nil)
	storetest.SaveCertificate(t, st, "changed", notBefore, notAfter, nil)
	settings := []Settings{
		{Name: "new", Names: []string{"new.example.com"}},
		{Name: "same", Names: []string{"example.com"}, KeyType: "ec256", PreHook: "stop web", PostHook: "start web"},
		{Name: "changed", Names: []string{"example.com"}, KeyType: "ec384", PreHook: "other", PostHook: "other"},
	}
	c := Configure(st, settings)
	if strings.Join(c.Names, ",") != "new,same,changed" || len(c.Settings) != 3 || c.Settings["same"].PreHook != "stop web" {
		t.Errorf("selection %v, settings %v", c.Names, c.Settings)
	}
	if len(c.Order) != 2 || c.Order["new"].Reason != "in the config file, not stored yet" || !strings.HasPrefix(c.Order["changed"].Reason, "the config file changed it: key type ec384") {
		t.Errorf("order %+v: want new and changed", c.Order)
	}
	if c.PreHook != "stop web" || c.PostHook != "start web" {
		t.Errorf("run hooks %q, %q; want the first certificate's with a pre hook", c.PreHook, c.PostHook)
	}
}

// The same names in another order are the same certificate: settings
// without a name order into the stored certificate holding exactly their
// names, whatever name their first domain would give; a name given that
// would make a second certificate for those names is warned about.
func TestStoredNameOfTheSameNameSet(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	type stored struct {
		name, keyType string
		names         []string
	}
	ab := []string{"a.example", "b.example"}
	for _, tt := range []struct {
		name   string
		stored []stored
		s      Settings
		want   string
		note   string // a piece of the note; "" none
	}{
		{"nothing stored", nil, Settings{Names: []string{"b.example", "a.example"}}, "b.example", ""},
		{"names in another order", []stored{{"a.example", "ec256", ab}}, Settings{Names: []string{"b.example", "a.example"}}, "a.example", "certificate a.example holds these names (a.example, b.example); it is the one meant, not a new certificate"},
		{"names in the same order", []stored{{"a.example", "ec256", ab}}, Settings{Names: ab}, "a.example", ""},
		{"a name repeated", []stored{{"a.example", "ec256", ab}}, Settings{Names: []string{"B.example", "a.example", "b.example"}}, "a.example", "it is the one meant"},
		{"a stored certificate under another name", []stored{{"web", "ec256", ab}}, Settings{Names: ab}, "web", "certificate web holds these names"},
		{"the derived name's certificate wins", []stored{{"web", "ec256", ab}, {"b.example", "ec256", []string{"b.example"}}}, Settings{Names: []string{"b.example", "a.example"}}, "b.example", ""},
		{"more names are another certificate", []stored{{"a.example", "ec256", ab}}, Settings{Names: []string{"b.example", "a.example", "c.example"}}, "b.example", ""},
		{"fewer names are another certificate", []stored{{"a.example", "ec256", ab}}, Settings{Names: []string{"b.example"}}, "b.example", ""},
		{"a new --cert-name for stored names", []stored{{"a.example", "ec256", ab}}, Settings{Name: "second", Names: []string{"b.example", "a.example"}}, "second",
			"warning: certificate a.example already holds exactly these names (a.example, b.example); this makes a second certificate, second"},
		{"a new --cert-name with another key type", []stored{{"a.example", "ec256", ab}}, Settings{Name: "rsa", KeyType: "rsa2048", Names: ab}, "rsa", ""},
		{"the given name is stored", []stored{{"a.example", "ec256", ab}, {"web", "ec256", ab}}, Settings{Name: "web", Names: ab}, "web", ""},
		{"names that do not parse", []stored{{"a.example", "ec256", ab}}, Settings{Names: []string{"a b.example"}}, "a b.example", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := storetest.Open(t)
			for _, c := range tt.stored {
				storetest.SaveCertificate(t, st, c.name, now, now.Add(90*24*time.Hour), func(m *store.Metadata) { m.Names, m.KeyType = c.names, c.keyType })
			}
			name, note := StoredName(st, tt.s)
			if name != tt.want || (tt.note == "") != (note == "") || !strings.Contains(note, tt.note) {
				t.Errorf("StoredName = %q, %q; want %q with a note holding %q", name, note, tt.want, tt.note)
			}
		})
	}
}

// A --cert-name the store refuses gets the refusal alone: the warning that
// the name would make a second certificate for stored names comes only
// once the name is valid.
func TestSecondCertificateWarningOnlyForAValidCertName(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	creds := t.TempDir() + "/acmedns.json"
	acct := acmedns.Account{Username: "u", Password: "p", FullDomain: "x.auth.example.org", SubDomain: "x", ServerURL: "https://auth.example.org"}
	if err := (acmedns.Credentials{"example.com": acct}).Save(creds); err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t)
	storetest.SaveCertificate(t, st, "example.com", now, now.Add(90*24*time.Hour), func(m *store.Metadata) { m.Names, m.KeyType = []string{"example.com"}, "ec256" })
	for _, tt := range []struct {
		name    string
		refused bool
	}{
		{"a/b", true},
		{"second", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Settings{
				Name: tt.name, Names: []string{"example.com"}, Provider: "adns", Propagation: "relay",
				Providers: []ProviderRef{{Name: "adns", Kind: "acmedns", Values: map[string]string{"credentials": creds}}},
			}
			var logged []string
			_, err := Build(s, BuildOptions{Path: st.Root, Log: func(l string) { logged = append(logged, l) }})
			warned := strings.Contains(strings.Join(logged, "\n"), "second certificate")
			if (err != nil) != tt.refused || warned == tt.refused {
				t.Errorf("Build(--cert-name %s) = %v, logged %q; want refused %v and a warning only when not refused", tt.name, err, logged, tt.refused)
			}
		})
	}
}
