package config

import (
	"os"
	"strings"
	"testing"
)

var env = Options{
	LookupEnv: func(k string) (string, bool) {
		if k == "NAMECHEAP_API_KEY" {
			return "secret-key-value", true
		}
		return "", false
	},
	ReadFile: func(name string) ([]byte, error) {
		if name == "/run/secrets/namecheap_api_key" {
			return []byte("file-key\n"), nil
		}
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
	},
}

func TestExampleParses(t *testing.T) {
	f, err := Load("../../examples/strictacme.toml", env)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Certificates) != 3 || f.Providers["namecheap"].Key.Reveal() != "file-key" {
		t.Fatalf("%+v", f)
	}
	if s := f.Providers["namecheap"].Key; strings.Contains(stringOf(s), "file-key") {
		t.Errorf("secret printed: %s", stringOf(s))
	}
	if f.Defaults.Timeout.Duration != 0 || f.Certificates[2].Wait.Minutes() != 3 || f.Defaults.Quorum != 1 {
		t.Errorf("defaults %+v", f.Defaults)
	}
}

func stringOf(s Secret) string { return strings.Join([]string{s.String(), s.GoString()}, " ") }

func TestErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unknown key", `
[[certificate]]
name = "web"
nmaes = ["example.com"]
names = ["example.com"]
`, `strictacme.toml:4: certificate "web": unknown key "nmaes"; did you mean "names"?`},
		{"unknown key in defaults", `
[defaults]
emial = "x@example.com"
`, `strictacme.toml:3: [defaults] unknown key "emial"; did you mean "email"?`},
		{"wrong type", `
[[certificate]]
name = "web"
names = "example.com"
`, `strictacme.toml:4: certificate "web": key "names": wrong type: want an array, got a string`},
		{"bad duration", `
[defaults]
propagation_timeout = "soon"
`, `strictacme.toml:3: [defaults] key "propagation_timeout": want a duration such as "90s" or "2m", got "soon"`},
		{"missing credentials", `
[providers.nc]
type = "namecheap"
api_user = "me"
api_key_env = "NOT_SET_ANYWHERE"
`, `strictacme.toml:5: provider "nc": missing credentials: environment variable NOT_SET_ANYWHERE is not set`},
		{"no credentials at all", `
[providers.nc]
type = "namecheap"
api_user = "me"
`, `strictacme.toml:2: provider "nc": missing credentials: set the _file or the _env key`},
		{"inline secret", `
[providers.nc]
type = "namecheap"
api_user = "me"
api_key = "abc"
`, `strictacme.toml:5: provider "nc": key "api_key": secrets are not accepted inline`},
		{"duplicate names", `
[[certificate]]
name = "web"
names = ["a.example.com"]

[[certificate]]
name = "web"
names = ["b.example.com"]
`, `strictacme.toml:7: certificate "web": duplicate certificate name (first defined at line 3)`},
		{"unknown provider", `
[[certificate]]
name = "web"
names = ["a.example.com"]
provider = "nope"
`, `strictacme.toml:5: certificate "web": key "provider": no provider "nope" is defined`},
		{"key of another type", `
[providers.x]
type = "exec"
program = "/bin/true"
api_key_env = "K"
`, `strictacme.toml:5: provider "x": key "api_key_env" is not used by type "exec"`},
		{"syntax", `
[defaults
`, `to end table name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("/etc/strictacme.toml", []byte(tc.src), env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant: %s", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("want one line, got:\n%v", err)
			}
		})
	}
}

// TestKeyPastedAsNameOrPathIsNotEchoed: the API key itself pasted into
// api_key_env or api_key_file (or the user's) is refused on one line that
// says so and does not print it.
func TestKeyPastedAsNameOrPathIsNotEchoed(t *testing.T) {
	const key = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	for k, creds := range map[string]string{
		"api_key_env":   "api_user = \"me\"\napi_key_env = \"" + key + "\"",
		"api_key_file":  "api_user = \"me\"\napi_key_file = \"" + key + "\"",
		"api_user_env":  "api_user_env = \"" + key + "\"\napi_key_env = \"NAMECHEAP_API_KEY\"",
		"api_user_file": "api_user_file = \"" + key + "\"\napi_key_env = \"NAMECHEAP_API_KEY\"",
	} {
		t.Run(k, func(t *testing.T) {
			src := "[providers.nc]\ntype = \"namecheap\"\n" + creds + "\n"
			_, err := Parse("/etc/strictacme.toml", []byte(src), env)
			if err == nil || !strings.Contains(err.Error(), k+": that looks like a key") {
				t.Fatalf("error: %v", err)
			}
			if strings.Contains(err.Error(), key) {
				t.Fatalf("the key is in the error: %v", err)
			}
		})
	}
}
