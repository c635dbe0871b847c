package main

import (
	"testing"

	"github.com/strictacme/strictacme/internal/config"
	"github.com/strictacme/strictacme/provider/namecheap"
)

// TestNamecheapZoneLockIsPerMachineNotPerPath: runs with different --path
// (flags and environment, or a config file) build Namecheap providers that
// lock zones in the one machine-wide directory, unless NAMECHEAP_LOCK_DIR
// names another.
func TestNamecheapZoneLockIsPerMachineNotPerPath(t *testing.T) {
	env := map[string]string{namecheap.EnvAPIUser: "ops", namecheap.EnvAPIKey: "k", namecheap.EnvClientIP: "198.51.100.7"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	lockDir := func(p *plan) string {
		t.Helper()
		e, err := namecheapEntry(lookup, p)
		if err != nil {
			t.Fatal(err)
		}
		return e.Provider.(*namecheap.Provider).LockDir()
	}
	fromConfig := func(path string) string {
		t.Helper()
		p, err := configProviderTypes["namecheap"](&config.Provider{User: "ops", Key: "k", ClientIP: "198.51.100.7"}, providerEnv{path: path})
		if err != nil {
			t.Fatal(err)
		}
		return p.(*namecheap.Provider).LockDir()
	}
	want := namecheap.DefaultLockDir()
	for _, got := range []string{lockDir(&plan{path: t.TempDir()}), lockDir(&plan{path: t.TempDir()}), fromConfig(t.TempDir())} {
		if got != want {
			t.Errorf("lock dir %s, want the machine's %s", got, want)
		}
	}
	override := t.TempDir()
	env[namecheap.EnvLockDir] = override
	t.Setenv(namecheap.EnvLockDir, override)
	if got, got2 := lockDir(&plan{path: t.TempDir()}), fromConfig(t.TempDir()); got != override || got2 != override {
		t.Errorf("with %s=%s: lock dirs %s, %s", namecheap.EnvLockDir, override, got, got2)
	}
}
