package config

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
)

const twoCertificates = `[providers.nc]
type = "namecheap"
api_user = "me"
api_key_env = "NC_KEY"
client_ip = "192.0.2.1"

[[certificate]]
name = "web"
names = ["web.example.com"]
provider = "nc"

[[certificate]]
name = "api"
names = ["api.example.com"]
key_type = "ec384"
provider = "nc"
`

func TestBuild(t *testing.T) {
	tests := []struct {
		name      string
		keep      func(*Certificate) bool
		edit      func(*plan.Settings)
		unset     bool     // the variable is gone when the plans are built
		wantPlans []string // store names, in file order
		wantLines []string
	}{
		{
			name:      "every certificate of the file is built in file order",
			wantPlans: []string{"web", "api"},
		},
		{
			name:      "keep picks certificates",
			keep:      func(c *Certificate) bool { return c.Name == "api" },
			wantPlans: []string{"api"},
		},
		{
			name: "a value the edit makes wrong points at the certificate's own key",
			edit: func(s *plan.Settings) { s.KeyType = "ec521" },
			wantLines: []string{
				`strictacme.toml:7: certificate "web": key "key_type": key type "ec521": use ec256, ec384, rsa2048, rsa3072, rsa4096, rsa8192`,
				`strictacme.toml:15: certificate "api": key "key_type": key type "ec521": use ec256, ec384, rsa2048, rsa3072, rsa4096, rsa8192`,
			},
		},
		{
			name:  "a credential gone since the file was read points at the provider's key, for every certificate",
			unset: true,
			wantLines: []string{
				`strictacme.toml:4: provider "nc": environment variable NC_KEY is not set; export it or use api_key_file`,
				`strictacme.toml:4: provider "nc": environment variable NC_KEY is not set; export it or use api_key_file`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("NC_KEY", "secret")
			f, err := Parse("strictacme.toml", []byte(twoCertificates), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.unset {
				os.Unsetenv("NC_KEY")
			}
			before := f.Certificates[0].KeyType
			built, err := f.Build(tt.keep, tt.edit, plan.BuildOptions{Path: t.TempDir()})
			if f.Certificates[0].KeyType != before {
				t.Errorf("the edit changed the file's own settings: key type %q", f.Certificates[0].KeyType)
			}
			var fe *Error
			if tt.wantLines != nil {
				if !errors.As(err, &fe) || built != nil {
					t.Fatalf("Build = %v, %v; want *Error", built, err)
				}
				if !slices.Equal(fe.Lines, tt.wantLines) {
					t.Errorf("lines:\n%q\nwant\n%q", fe.Lines, tt.wantLines)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, b := range built {
				names = append(names, b.Settings.Name)
				if b.Plan == nil || b.Plan.Settings.Name != b.Settings.Name {
					t.Errorf("%s: plan %+v", b.Settings.Name, b.Plan)
				}
			}
			if !slices.Equal(names, tt.wantPlans) {
				t.Errorf("built %v, want %v", names, tt.wantPlans)
			}
		})
	}
}

// run --config takes the file's certificates (or those named) with the
// order timeout of the flag when given, else of the file (its default when
// it sets none); a certificate not stored yet is ordered. A name the file does
// not list is reported with every other problem, before anything is sent.
func TestConfigureSelectsAndTimesTheFilesCertificates(t *testing.T) {
	t.Setenv("NC_KEY", "secret")
	text := strings.Replace(twoCertificates, `key_type = "ec384"`, "key_type = \"ec384\"\ntimeout = \"4m\"", 1)
	f, err := Parse("strictacme.toml", []byte(text), Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := plan.BuildOptions{Path: t.TempDir()}
	tests := []struct {
		name         string
		only         []string
		timeoutGiven bool
		want         map[string]time.Duration
	}{
		{"every certificate, the file's timeout first", nil, false, map[string]time.Duration{"web": plan.DefaultOrderTimeout, "api": 4 * time.Minute}},
		{"a given timeout wins", nil, true, map[string]time.Duration{"web": 9 * time.Minute, "api": 9 * time.Minute}},
		{"only the named", []string{"api"}, false, map[string]time.Duration{"api": 4 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, err := f.Configure(tt.only, 9*time.Minute, tt.timeoutGiven, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(conf.Settings) != len(tt.want) || len(conf.Order) != len(tt.want) {
				t.Fatalf("configured %v, ordered %v; want %v, all not stored yet", conf.Names, conf.Order, tt.want)
			}
			for n, d := range tt.want {
				if got := conf.Settings[n].Timeout.D(); got != d {
					t.Errorf("%s: timeout %s, want %s", n, got, d)
				}
			}
		})
	}
	_, err = f.Configure([]string{"api", "gone"}, time.Minute, false, opts)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), `--cert-name "gone": no [[certificate]] of that name in strictacme.toml`) {
		t.Errorf("unknown name: %v", err)
	}
}
