package sandbox

import (
	"errors"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/store"
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
