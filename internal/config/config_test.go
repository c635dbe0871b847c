package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped example decodes into one settings value per certificate,
// with [defaults] applied and the providers each certificate uses.
func TestExampleDecodesIntoSettings(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../../examples/strictacme.toml")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.NewReplacer("/run/secrets/namecheap_api_key", key, "/usr/local/bin/dns-challenge-hook", "/bin/true").Replace(string(src))
	f, err := Parse("strictacme.toml", []byte(body), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Certificates) != 3 || f.StatePath != "/var/lib/strictacme" {
		t.Fatalf("%+v", f)
	}
	web, api := f.Certificates[0], f.Certificates[2]
	if web.KeyType != "ec384" || web.Fallback != "provider" || web.Quorum != 1 || web.Email != "ops@example.com" {
		t.Errorf("web: %+v", web.Settings)
	}
	if api.PropagationWait.D().Minutes() != 3 || api.Propagation != "wait" || !api.FollowCNAME {
		t.Errorf("api: %+v", api.Settings)
	}
	if len(web.Providers) != 2 || web.Ref("namecheap").Values["api_key_file"] != key {
		t.Errorf("providers: %+v", web.Providers)
	}
}

// Each problem is one line: file, line, table, key, what is wrong and the
// fix, in the file's own words.
func TestProblemLines(t *testing.T) {
	const exec = "\n[providers.x]\ntype = \"exec\"\nprogram = \"/bin/true\"\n"
	for _, tc := range []struct{ name, src, want string }{
		{"unknown key", `
[[certificate]]
name = "web"
nmaes = ["example.com"]
names = ["example.com"]
provider = "x"
` + exec, `strictacme.toml:4: certificate "web": key "nmaes": unknown key; did you mean "names"?`},
		{"unknown key in defaults", `
[defaults]
emial = "x@example.com"
`, `strictacme.toml:3: [defaults] key "emial": unknown key; did you mean "email"?`},
		{"wrong type", `
[[certificate]]
name = "web"
names = "example.com"
`, `strictacme.toml:4: certificate "web": key "names": wrong type: want an array of strings, got a string`},
		{"bad duration", `
[defaults]
propagation_timeout = "soon"
`, `strictacme.toml:3: [defaults] key "propagation_timeout": want a duration such as "90s" or "2m", got "soon"`},
		{"credentials variable not set", `
[providers.nc]
type = "namecheap"
api_user = "me"
api_key_env = "NOT_SET_ANYWHERE"
`, `strictacme.toml:5: provider "nc": key "api_key_env": environment variable NOT_SET_ANYWHERE is not set; export it or use api_key_file`},
		{"no credentials at all", `
[providers.nc]
type = "namecheap"
api_user = "me"
`, `strictacme.toml:2: provider "nc": key "api_key": missing; set api_key_file or api_key_env (or export NAMECHEAP_API_KEY)`},
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
provider = "x"

[[certificate]]
name = "web"
names = ["b.example.com"]
provider = "x"
` + exec, `strictacme.toml:8: certificate "web": key "name": duplicate certificate name (first defined at line 3)`},
		{"undefined provider", `
[[certificate]]
name = "web"
names = ["a.example.com"]
provider = "nope"
`, `strictacme.toml:5: certificate "web": key "provider": no provider "nope" is defined; add a [providers.nope] table`},
		{"key of another type", exec + `api_key_env = "K"
`, `strictacme.toml:5: provider "x": key "api_key_env": unknown key`},
		{"no provider", `
[[certificate]]
name = "web"
names = ["a.example.com"]
`, `strictacme.toml:2: certificate "web": key "provider": no DNS provider writes the challenge records`},
		{"unknown strategy from defaults", `
[defaults]
propagation = "dho"
[[certificate]]
name = "web"
names = ["a.example.com"]
provider = "x"
` + exec, `strictacme.toml:3: certificate "web": key "propagation": unknown strategy "dho"; use one of doh, resolver, authoritative, auto, provider, relay, wait, none`},
		{"syntax", `
[defaults
`, `strictacme.toml:2: `},
		{"unknown top-level key", `
bogus = 1
` + exec, `strictacme.toml:2: key "bogus": unknown key`},
		{"unknown top-level table only named in a dotted header", `
[defaults]

[extra.sub]
a = 1
` + exec, `strictacme.toml:4: key "extra": unknown key`},
		{"unknown top-level array of tables", `
[[certificates]]
names = ["a.example.com"]
` + exec, `strictacme.toml:2: key "certificates": unknown key; did you mean "certificate"?`},
		{"provider setting of the wrong type", `
[providers.x]
type = "exec"
program = "/bin/true"
parallel = 2.5
`, `strictacme.toml:5: provider "x": key "parallel": wrong type: want a whole number, got a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("/etc/strictacme.toml", []byte(tc.src), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant: %s", err, tc.want)
			}
		})
	}
}

// Every problem of every certificate is reported at once, in line order,
// each naming its own certificate; none names a command-line flag.
func TestAllProblemsAtOnce(t *testing.T) {
	src := `[providers.x]
type = "exec"
program = "/bin/true"

[[certificate]]
name = "one"
names = ["a.example.com"]
provider = "x"
key_type = "ec521"

[[certificate]]
name = "two"
names = ["b.example.com"]
propagation = "dho"
quorum = "all"

[[certificate]]
name = "three"
names = ["c.example.com"]
provider = "x"
challenge_aliases = { "d.example.com" = "acme.example.net" }
`
	_, err := Parse("s.toml", []byte(src), Options{})
	if err == nil {
		t.Fatal("no error")
	}
	got := err.(*Error).Lines
	want := []string{
		`s.toml:9: certificate "one": key "key_type": `,
		`s.toml:11: certificate "two": key "provider": no DNS provider`,
		`s.toml:14: certificate "two": key "propagation": unknown strategy "dho"`,
		`s.toml:15: certificate "two": key "quorum": wrong type: want an integer, got a string`,
		`s.toml:21: certificate "three": key "challenge_aliases": d.example.com is not a name of this certificate`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(got), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d: %s\nwant prefix %s", i, got[i], want[i])
		}
		if strings.Contains(got[i], "--") {
			t.Errorf("names a flag: %s", got[i])
		}
	}
}

// A certificate without usable names still has its other keys checked, and
// still counts for duplicate names; the missing or mistyped names are
// reported once, with no follow-on complaint about them or the name.
func TestMissingNamesDoNotHideOtherProblems(t *testing.T) {
	src := `[providers.x]
type = "exec"
program = "/bin/true"

[[certificate]]
name = "web"
nmaes = ["example.com"]
key_type = "ec521"
provider = "x"

[[certificate]]
name = "web"
names = "example.com"
provider = "x"

[[certificate]]
names = []
provider = "x"
`
	_, err := Parse("s.toml", []byte(src), Options{})
	if err == nil {
		t.Fatal("no error")
	}
	got := err.(*Error).Lines
	want := []string{
		`s.toml:5: certificate "web": missing key "names"`,
		`s.toml:7: certificate "web": key "nmaes": unknown key`,
		`s.toml:8: certificate "web": key "key_type": key type "ec521"`,
		`s.toml:12: certificate "web": key "name": duplicate certificate name (first defined at line 6)`,
		`s.toml:13: certificate "web": key "names": wrong type`,
		`s.toml:17: certificate #3: key "names": no domain name`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(got), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d: %s\nwant prefix %s", i, got[i], want[i])
		}
	}
}

// A key pasted into api_key_env or api_key_file (or the user's) is refused
// on one line that says so and does not print it.
func TestKeyPastedAsNameOrPathIsNotEchoed(t *testing.T) {
	const key = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	for k, creds := range map[string]string{
		"api_key_env":   "api_user = \"me\"\napi_key_env = \"" + key + "\"",
		"api_key_file":  "api_user = \"me\"\napi_key_file = \"" + key + "\"",
		"api_user_env":  "api_user_env = \"" + key + "\"\napi_key_env = \"NAMECHEAP_API_KEY\"",
		"api_user_file": "api_user_file = \"" + key + "\"\napi_key_env = \"NAMECHEAP_API_KEY\"",
	} {
		t.Run(k, func(t *testing.T) {
			t.Setenv("NAMECHEAP_API_KEY", "set")
			src := "[providers.nc]\ntype = \"namecheap\"\n" + creds + "\n"
			_, err := Parse("/etc/strictacme.toml", []byte(src), Options{})
			if err == nil || !strings.Contains(err.Error(), "key \""+k+"\": that looks like a key") {
				t.Fatalf("error: %v", err)
			}
			if strings.Contains(err.Error(), key) {
				t.Fatalf("the key is in the error: %v", err)
			}
		})
	}
}

// The state directory of a command reading a file is the flag when given,
// else the file's [defaults] path, else the flag's default.
func TestStatePathFlagThenFileThenDefault(t *testing.T) {
	f := &File{StatePath: "/from/file"}
	if got := f.PathOr("/flag", true); got != "/flag" {
		t.Errorf("given flag: %s", got)
	}
	if got := f.PathOr("/default", false); got != "/from/file" {
		t.Errorf("file path: %s", got)
	}
	if got := (&File{}).PathOr("/default", false); got != "/default" {
		t.Errorf("no file path: %s", got)
	}
}

// delete's question: which tables of a file name a certificate. A file
// that does not exist lists nothing unless it was asked for by name.
func TestListsFindsTheTablesOfACertificate(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "strictacme.toml")
	body := "[providers.x]\ntype = \"exec\"\nprogram = \"/bin/true\"\n\n[[certificate]]\nname = \"web\"\nnames = [\"a.example.com\"]\nprovider = \"x\"\n"
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if lines, err := Lists(f, "web", false); err != nil || len(lines) != 1 || lines[0] != 5 {
		t.Errorf("web: %v, %v; want line 5", lines, err)
	}
	if lines, err := Lists(f, "other", false); err != nil || len(lines) != 0 {
		t.Errorf("other: %v, %v", lines, err)
	}
	missing := filepath.Join(dir, "missing.toml")
	if lines, err := Lists(missing, "web", false); err != nil || lines != nil {
		t.Errorf("missing file not asked for: %v, %v", lines, err)
	}
	if w := StillLists(f, "web", false); len(w) != 1 || !strings.Contains(w[0], f+":5 still lists web") {
		t.Errorf("warnings %q", w)
	}
	if w := StillLists(missing, "web", true); len(w) != 1 || !strings.Contains(w[0], "could not check") {
		t.Errorf("warnings of a missing file asked for: %q", w)
	}
	if _, err := Lists(missing, "web", true); err == nil {
		t.Error("missing file asked for: no error")
	}
}
