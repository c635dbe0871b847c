package main

import (
	"testing"

	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/provider/namecheap"
)

// TestNamecheapZoneLockIsPerMachineNotPerPath: runs with different --path
// (flags and environment, or a config file) build Namecheap providers that
// lock zones in the one machine-wide directory, unless NAMECHEAP_LOCK_DIR
// (lock_dir in a config file) names another.
func TestNamecheapZoneLockIsPerMachineNotPerPath(t *testing.T) {
	env := map[string]string{namecheap.EnvAPIUser: "ops", namecheap.EnvAPIKey: "k", namecheap.EnvClientIP: "198.51.100.7"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	kind, _ := plan.LookupProvider("namecheap")
	lockDir := func(ref plan.ProviderRef, path string) string {
		t.Helper()
		p, err := kind.New(ref.Lookup(kind, lookup), plan.BuildEnv{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		return p.(*namecheap.Provider).LockDir()
	}
	flags := plan.ProviderRef{Name: "namecheap", Kind: "namecheap", FromEnv: true}
	table := plan.ProviderRef{Name: "nc", Kind: "namecheap", Values: map[string]string{"api_user": "ops", "client_ip": "198.51.100.7"}}
	want := namecheap.DefaultLockDir()
	for _, got := range []string{lockDir(flags, t.TempDir()), lockDir(flags, t.TempDir()), lockDir(table, t.TempDir())} {
		if got != want {
			t.Errorf("lock dir %s, want the machine's %s", got, want)
		}
	}
	override := t.TempDir()
	env[namecheap.EnvLockDir] = override
	table.Values["lock_dir"] = override
	if got, got2 := lockDir(flags, t.TempDir()), lockDir(table, t.TempDir()); got != override || got2 != override {
		t.Errorf("with %s=%s: lock dirs %s, %s", namecheap.EnvLockDir, override, got, got2)
	}
}
