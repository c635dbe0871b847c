package plan

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/strictacme/strictacme/internal/deploy"
	"github.com/strictacme/strictacme/internal/store"
)

// Deploy outputs given with relative paths (issue run from /etc/haproxy)
// are stored absolute with the certificate, so that renew, run from cron
// in another directory, writes the same files.
func TestDeployOutputsAreStoredAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := Settings{Names: []string{"example.com"}, Outputs: deploy.Outputs{
		PEMFile: "web.pem", PKCS12File: "certs/web.p12", PKCS12PasswordFile: "pw", Mode: "0640", ReloadCommand: "true",
	}}
	raw, err := s.Stored().Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := FromMetadata(store.Metadata{Names: []string{"example.com"}, Settings: raw, SettingsVersion: SchemaVersion})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	want := deploy.Outputs{
		PEMFile: filepath.Join(dir, "web.pem"), PKCS12File: filepath.Join(dir, "certs", "web.p12"),
		PKCS12PasswordFile: filepath.Join(dir, "pw"), Mode: "0640", ReloadCommand: "true",
	}
	if got.Outputs != want {
		t.Errorf("stored outputs %+v\nwant %+v", got.Outputs, want)
	}
}

// A deploy output problem comes back under its config key, like every
// other setting, and a reload command needs a positive hook timeout.
func TestDeployOutputProblemsUseConfigKeys(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := Settings{Names: []string{"example.com"}, Provider: "p", Providers: []ProviderRef{{Name: "p", Kind: "exec", Values: map[string]string{"program": "/bin/true"}}},
		Outputs:     deploy.Outputs{KeyFile: filepath.Join(dir, "missing", "k"), Mode: "9", ReloadCommand: "true"},
		HookTimeout: -1}
	keys := map[string]bool{}
	for _, p := range s.Validate(ValidateOptions{}) {
		keys[p.Key] = true
	}
	for _, k := range []string{"install_key", "install_mode", "hook_timeout"} {
		if !keys[k] {
			t.Errorf("no problem for %s: %v", k, keys)
		}
	}
}

// Recording the config file's outputs replaces only the outputs of the
// stored settings; an output the file no longer has is gone, everything
// else is as stored.
func TestRecordOutputsReplacesOnlyTheOutputs(t *testing.T) {
	s := Settings{Names: []string{"example.com"}, Provider: "p", PreHook: "true",
		Outputs: deploy.Outputs{PEMFile: "/etc/haproxy/a.pem", ReloadCommand: "old"}}
	raw, err := s.Stored().Encode()
	if err != nil {
		t.Fatal(err)
	}
	m := store.Metadata{Names: []string{"example.com"}, Settings: raw, SettingsVersion: SchemaVersion}
	want := deploy.Outputs{KeyFile: "/etc/ssl/a.key", Mode: "0640"}
	got, changed, err := RecordOutputs(m, want)
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	s2, _, _ := FromMetadata(got)
	if s2.Outputs != want || s2.Provider != "p" || s2.PreHook != "true" {
		t.Errorf("after recording: %+v", s2)
	}
	if _, changed, _ := RecordOutputs(got, want); changed {
		t.Error("recording the same outputs again changed the metadata")
	}
}
