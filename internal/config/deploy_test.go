package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Deploy outputs are certificate keys like the others: decoded into the
// settings, [defaults] giving owner, mode and reload to every certificate,
// and each problem reported at its line with the fix.
func TestDeployOutputKeys(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const provider = "\n[providers.x]\ntype = \"exec\"\nprogram = \"/bin/true\"\n"
	good := `
[defaults]
provider = "x"
install_mode = "0640"
reload_command = "systemctl reload haproxy"

[[certificate]]
name = "web"
names = ["example.com"]
install_key = "` + filepath.Join(dir, "web.key") + `"
install_pem = "` + filepath.Join(dir, "web.pem") + `"
install_pkcs12 = "` + filepath.Join(dir, "web.p12") + `"
pkcs12_password_file = "` + pw + `"
` + provider
	f, err := Parse("strictacme.toml", []byte(good), Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := f.Certificates[0].Outputs
	if o.Mode != "0640" || o.ReloadCommand != "systemctl reload haproxy" || o.PEMFile != filepath.Join(dir, "web.pem") || o.PKCS12PasswordFile != pw {
		t.Errorf("outputs: %+v", o)
	}

	for _, tc := range []struct{ name, src, want string }{
		{"bad mode", `
[[certificate]]
name = "web"
names = ["example.com"]
provider = "x"
install_key = "` + filepath.Join(dir, "k") + `"
install_mode = "rw-r-----"
` + provider, `strictacme.toml:7: certificate "web": key "install_mode": "rw-r-----": give an octal mode such as "0640"`},
		{"path in defaults", `
[defaults]
install_key = "/etc/ssl/private/web.key"
`, `strictacme.toml:3: [defaults] key "install_key": only allowed in a [[certificate]]; move it there`},
		{"missing folder", `
[[certificate]]
name = "web"
names = ["example.com"]
provider = "x"
install_fullchain = "` + filepath.Join(dir, "nope", "full.pem") + `"
` + provider, `strictacme.toml:6: certificate "web": key "install_fullchain": folder ` + filepath.Join(dir, "nope") + ` does not exist`},
		{"pkcs12 without password", `
[[certificate]]
name = "web"
names = ["example.com"]
provider = "x"
install_pkcs12 = "` + filepath.Join(dir, "a.p12") + `"
` + provider, `strictacme.toml:2: certificate "web": key "pkcs12_password_file": install_pkcs12 needs a password`},
		{"wrong type", `
[[certificate]]
name = "web"
names = ["example.com"]
provider = "x"
pkcs12_legacy = "yes"
` + provider, `strictacme.toml:6: certificate "web": key "pkcs12_legacy": wrong type: want true or false, got a string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("strictacme.toml", []byte(tc.src), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant a line containing %s", err, tc.want)
			}
		})
	}
}
