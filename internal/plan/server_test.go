package plan

import (
	"strings"
	"testing"
)

func TestCANameShortensDirectoryURLs(t *testing.T) {
	tests := []struct{ name, dir, want string }{
		{"a preset's URL is the preset's name", CAPresets["letsencrypt-staging"], "letsencrypt-staging"},
		{"another CA is its host", "https://ca.example:14000/dir", "ca.example:14000"},
		{"something that is no URL stays as it is", "not a url", "not a url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CAName(tt.dir); got != tt.want {
				t.Errorf("CAName(%q) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

func TestDirectoryURLResolvesPresetsAliasesAndURLs(t *testing.T) {
	tests := []struct{ name, server, want, wantErr string }{
		{"a preset", "letsencrypt", "https://acme-v02.api.letsencrypt.org/directory", ""},
		{"lego's code for Google Trust Services", "googletrust", CAPresets["google"], ""},
		{"lego's code for its staging", "GoogleTrust-Staging", CAPresets["google-staging"], ""},
		{"a CA lego knows", "sectigoov", "https://acme.sectigo.com/v2/OV", ""},
		{"a directory URL", "https://ca.example/dir", "https://ca.example/dir", ""},
		{"http on loopback", "http://127.0.0.1:14000/dir", "http://127.0.0.1:14000/dir", ""},
		{"http elsewhere", "http://ca.example/dir", "", "needs HTTPS"},
		{"an unknown name lists the aliases", "letsencrpyt", "", "googletrust, googletrust-staging"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DirectoryURL(tt.server)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DirectoryURL(%q) = %q, %v; want error containing %q", tt.server, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("DirectoryURL(%q) = %q, %v; want %q", tt.server, got, err, tt.want)
			}
		})
	}
}

// Every lego CA code resolves (lego/zz_gen_ca.go GetAllCodes), so a lego
// job's --server works unchanged; an alias shows as its preset's name.
func TestEveryLegoCACodeIsAServer(t *testing.T) {
	lego := []string{"actalis", "digicert", "freessl", "globalsign", "googletrust", "googletrust-staging",
		"letsencrypt", "letsencrypt-staging", "litessl", "peeringhub", "sslcomecc", "sslcomrsa",
		"sectigo", "sectigoev", "sectigoov", "zerossl"}
	for _, code := range lego {
		u, err := DirectoryURL(code)
		if err != nil {
			t.Errorf("lego's %q: %v", code, err)
			continue
		}
		if !strings.Contains(strings.Join(CANames(), ", "), code) {
			t.Errorf("help list %q misses %q", strings.Join(CANames(), ", "), code)
		}
		if p, ok := CAAliases[code]; ok && CAName(u) != p {
			t.Errorf("CAName(%q) = %q, want the preset name %q", u, CAName(u), p)
		}
	}
	for a, p := range CAAliases {
		if _, ok := CAPresets[p]; !ok {
			t.Errorf("alias %q names %q, which is no preset", a, p)
		}
		if _, ok := CAPresets[a]; ok {
			t.Errorf("alias %q is also a preset: CAName would be ambiguous", a)
		}
	}
}

func TestDryRunDirectoryIsTheStagingCAOfTheConfiguredOne(t *testing.T) {
	tests := []struct {
		name, server, want string
		same               bool
	}{
		{"Let's Encrypt dry-runs on its staging CA", "letsencrypt", CAPresets["letsencrypt-staging"], false},
		{"Google Trust Services dry-runs on its staging CA", "google", CAPresets["google-staging"], false},
		{"lego's code for Google maps like the preset", "googletrust", CAPresets["google-staging"], false},
		{"Buypass dry-runs on its test CA", "buypass", CAPresets["buypass-staging"], false},
		{"Let's Encrypt staging is its own staging CA", "letsencrypt-staging", CAPresets["letsencrypt-staging"], true},
		{"Google staging is its own staging CA", "googletrust-staging", CAPresets["google-staging"], true},
		{"Buypass staging is its own staging CA", "buypass-staging", CAPresets["buypass-staging"], true},
		{"ZeroSSL has no staging CA: the CA itself", "zerossl", CAPresets["zerossl"], true},
		{"another preset without staging CA: the CA itself", "sectigo", CAPresets["sectigo"], true},
		{"a directory URL: the CA itself", "https://ca.example/dir", "https://ca.example/dir", true},
		{"a local test CA: the CA itself", "http://127.0.0.1:14000/dir", "http://127.0.0.1:14000/dir", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := DirectoryURL(tt.server)
			if err != nil {
				t.Fatal(err)
			}
			got, same := DryRunDirectory(dir)
			if got != tt.want || same != tt.same {
				t.Errorf("DryRunDirectory(%q) = %q, %v; want %q, %v", dir, got, same, tt.want, tt.same)
			}
		})
	}
}

func TestEveryStagingCAIsAPresetThatMapsToItself(t *testing.T) {
	for from, to := range CAStaging {
		if _, ok := CAPresets[from]; !ok {
			t.Errorf("CAStaging[%q]: no such preset", from)
		}
		if _, ok := CAPresets[to]; !ok {
			t.Errorf("CAStaging[%q] = %q: no such preset", from, to)
		}
		if CAStaging[to] != to {
			t.Errorf("CAStaging[%q] = %q, want the staging CA to map to itself", to, CAStaging[to])
		}
	}
}
