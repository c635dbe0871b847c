package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/store/storetest"
)

// Names outside the sandbox's zones and profiles its CA does not offer are
// refused before anything starts; the defaults pass.
func TestNamesAndProfilesTheSandboxServes(t *testing.T) {
	ids, err := names.ParseAll(DefaultNames)
	if err != nil || CheckNames(ids) != nil {
		t.Fatalf("default names: %v, %v", err, CheckNames(ids))
	}
	outside, _ := names.ParseAll([]string{"www.example.org"})
	if err := CheckNames(outside); err == nil {
		t.Error("www.example.org accepted")
	}
	if CheckProfile("") != nil || CheckProfile("shortlived") != nil || CheckProfile("classic") == nil {
		t.Error("profiles: want \"\" and shortlived accepted, classic refused")
	}
}

// Without a running sandbox its provider kind says so; a plan built for a
// sandbox not started yet fails with nothing else once its settings are
// valid, which is how the command checks its flags before starting.
func TestPendingPlanFailsOnlyForTheMissingSandbox(t *testing.T) {
	defer Use(nil)()
	tg := Pending()
	s := plan.Settings{Names: []string{"example.com"}, Server: tg.Server, Resolvers: tg.Resolvers, Propagation: tg.Propagation,
		RequestTimeout: plan.Duration(tg.RequestTimeout), Provider: tg.Provider, Profile: tg.Profile, AcceptTOS: true,
		Providers: []plan.ProviderRef{{Name: tg.Provider, Kind: tg.Provider, FromEnv: true}}}
	_, err := plan.Build(s, plan.BuildOptions{Path: t.TempDir()})
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("got %v, want ErrNotRunning", err)
	}
	s.KeyType = "ec999"
	if _, err := plan.Build(s, plan.BuildOptions{Path: t.TempDir()}); errors.Is(err, ErrNotRunning) || err == nil {
		t.Fatalf("bad key type: %v", err)
	}
}

// A certificate is the sandbox's when its stored settings name the
// sandbox provider; renewal skips it with the reason.
func TestSandboxCertificatesAreSkipped(t *testing.T) {
	enc, err := plan.Settings{Names: []string{"example.com"}, Provider: Provider}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m := store.Metadata{Settings: enc, SettingsVersion: plan.SchemaVersion}
	if d, ok := Skip(m); !ok || d.Source != "sandbox" || !IssuedBy(m) {
		t.Errorf("sandbox certificate: %v, %v", d, ok)
	}
	if _, ok := Skip(store.Metadata{}); ok {
		t.Error("a certificate without settings was skipped")
	}
	// A config's provider of another kind that happens to be called
	// "sandbox" issues real certificates: they renew.
	named, err := plan.Settings{Names: []string{"example.com"}, Provider: Provider,
		Providers: []plan.ProviderRef{{Name: Provider, Kind: "exec"}}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Skip(store.Metadata{Settings: named, SettingsVersion: plan.SchemaVersion}); ok {
		t.Error("a certificate of an exec provider named sandbox was skipped")
	}
	// Renewing or revoking it is refused (its CA is gone); another is not.
	if err := RefuseRenew("example.com", m); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("renew a sandbox certificate: %v", err)
	}
	if err := RefuseRevoke(&store.Certificate{Name: "example.com", Meta: m}); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("revoke a sandbox certificate: %v", err)
	}
	if RefuseRenew("example.com", store.Metadata{}) != nil || RefuseRevoke(&store.Certificate{}) != nil {
		t.Error("a certificate of another CA was refused")
	}
}

// A state directory holding certificates or accounts of another CA is not
// the sandbox's: it is refused, decided by the stored certificate's
// settings and the account's CA directory; the sandbox's own state and a
// new directory are accepted.
func TestStateOfAnotherCAIsRefused(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	enc, err := plan.Settings{Names: []string{"example.com"}, Provider: Provider}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	sandboxCert := func(m *store.Metadata) {
		m.Settings, m.SettingsVersion, m.Directory = enc, plan.SchemaVersion, "https://127.0.0.1:41000/dir"
	}
	realCert := func(m *store.Metadata) { m.Directory = "https://acme-v02.api.letsencrypt.org/directory" }
	account := func(st *store.Store, directory string) {
		t.Helper()
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err := st.SaveAccount("", &store.Account{URL: directory + "/acct/1", Directory: directory, Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name    string
		fill    func(st *store.Store)
		refused string // a piece of the error; "" accepted
	}{
		{"a new directory", func(*store.Store) {}, ""},
		{"the sandbox's certificate and account", func(st *store.Store) {
			storetest.SaveCertificate(t, st, "example.com", now, now.AddDate(0, 0, 90), sandboxCert)
			account(st, "https://127.0.0.1:41000/dir")
		}, ""},
		{"a certificate of a real CA", func(st *store.Store) {
			storetest.SaveCertificate(t, st, "example.com", now, now.AddDate(0, 0, 90), sandboxCert)
			storetest.SaveCertificate(t, st, "www.example.com", now, now.AddDate(0, 0, 90), realCert)
		}, "holds certificate www.example.com of the CA https://acme-v02.api.letsencrypt.org/directory"},
		{"an account of a real CA", func(st *store.Store) {
			account(st, "https://acme-v02.api.letsencrypt.org/directory")
		}, "holds an account of the CA https://acme-v02.api.letsencrypt.org/directory"},
		{"an account of a loopback CA on another path", func(st *store.Store) {
			account(st, "https://127.0.0.1:14000/directory")
		}, "holds an account of the CA https://127.0.0.1:14000/directory"},
		{"a certificate whose metadata is damaged", func(st *store.Store) {
			c := storetest.SaveCertificate(t, st, "example.com", now, now.AddDate(0, 0, 90), sandboxCert)
			if err := os.WriteFile(filepath.Join(c.Dir, store.MetadataFile), []byte("{"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "whose CA cannot be read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &store.Store{Root: filepath.Join(t.TempDir(), "state")}
			tt.fill(st)
			err := CheckState(st.Root)
			if (tt.refused == "") != (err == nil) || (err != nil && (!strings.Contains(err.Error(), tt.refused) || strings.Contains(err.Error(), "\n"))) {
				t.Errorf("CheckState = %v; want refused %q in one line", err, tt.refused)
			}
		})
	}
}
