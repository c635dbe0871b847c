package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// A config file with two exec providers, each with wrong values: every
// wrong value is reported at once, each on the line of its own key, under
// its config key (not the provider's environment variable), and each line
// is printed once.
func TestConfigExecProviderErrorsAllAtTheirKeys(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strictacme.toml")
	src := `[defaults]
path = "` + filepath.Join(dir, "state") + `"

[providers.one]
type = "exec"
program = "` + filepath.Join(dir, "missing-one") + `"
parallel = 2.5

[providers.two]
type = "exec"
program = "` + filepath.Join(dir, "missing-two") + `"
parallel = 0

[[certificate]]
names = ["a.example.com"]
provider = "one"

[[certificate]]
names = ["b.example.com"]
provider = "two"
`
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"run", "check"} {
		t.Run(cmd, func(t *testing.T) {
			code, _, stderr := runCLI(t, cmd, "--config", cfg)
			if code != exitcode.Usage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitcode.Usage, stderr)
			}
			for _, want := range []string{
				`strictacme.toml:6: provider "one": key "program": "` + filepath.Join(dir, "missing-one") + `": no such file;`,
				`strictacme.toml:7: provider "one": key "parallel": wrong type: want a whole number, got a number`,
				`strictacme.toml:11: provider "two": key "program": "` + filepath.Join(dir, "missing-two") + `": no such file;`,
				`strictacme.toml:12: provider "two": key "parallel": "0": give how many runs`,
			} {
				if n := strings.Count(stderr, want); n != 1 {
					t.Errorf("%q printed %d times, want once; stderr:\n%s", want, n, stderr)
				}
			}
			if strings.Contains(stderr, "EXEC_") {
				t.Errorf("config errors name a variable the file does not set:\n%s", stderr)
			}
		})
	}
}

// A value refused on the command line is named as the user gave it: the
// flag when given as a flag, the variable when set by a variable.
func TestValueErrorNamesWhatTheUserSet(t *testing.T) {
	dir := t.TempDir()
	base := []string{"issue", "-d", "a.example.com", "--dns", "exec", "--path", dir}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
		not  string
	}{
		{"exec parallel flag", map[string]string{"EXEC_PATH": "/bin/true"}, []string{"--exec-parallel", "0"}, `--exec-parallel "0": give how many runs`, "EXEC_PARALLEL"},
		{"exec parallel provider variable", map[string]string{"EXEC_PATH": "/bin/true", "EXEC_PARALLEL": "0"}, nil, `EXEC_PARALLEL "0": give how many runs`, "--exec-parallel"},
		{"exec parallel flag variable", map[string]string{"EXEC_PATH": "/bin/true", "STRICTACME_EXEC_PARALLEL": "0"}, nil, `STRICTACME_EXEC_PARALLEL "0": give how many runs`, "--exec-parallel"},
		{"exec program variable", map[string]string{"EXEC_PATH": filepath.Join(dir, "nope")}, nil, `EXEC_PATH "` + filepath.Join(dir, "nope") + `": no such file`, "--dns exec"},
		{"key type flag", map[string]string{"EXEC_PATH": "/bin/true"}, []string{"--key-type", "ec521"}, `--key-type: key type "ec521"`, "STRICTACME_KEY_TYPE"},
		{"key type variable", map[string]string{"EXEC_PATH": "/bin/true", "STRICTACME_KEY_TYPE": "ec521"}, nil, `STRICTACME_KEY_TYPE: key type "ec521"`, "--key-type"},
		{"duration variable", map[string]string{"EXEC_PATH": "/bin/true", "STRICTACME_TIMEOUT": "abc"}, nil, `STRICTACME_TIMEOUT="abc": give a duration such as 90s`, "time: invalid"},
		{"bool variable", map[string]string{"EXEC_PATH": "/bin/true", "STRICTACME_JSON": "maybe"}, nil, `STRICTACME_JSON="maybe": give true or false`, "strconv."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"EXEC_PATH", "EXEC_PARALLEL", "STRICTACME_EXEC_PARALLEL", "STRICTACME_KEY_TYPE", "STRICTACME_TIMEOUT", "STRICTACME_JSON"} {
				t.Setenv(k, tt.env[k])
				if _, ok := tt.env[k]; !ok {
					os.Unsetenv(k)
				}
			}
			code, _, stderr := runCLI(t, append(append([]string{}, base...), tt.args...)...)
			if code != exitcode.Usage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitcode.Usage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			if strings.Contains(stderr, tt.not) {
				t.Errorf("stderr names %s, which the user did not set:\n%s", tt.not, stderr)
			}
		})
	}
}

// A hook command line holding a credential strictacme was given is
// refused before anything is ordered or stored: hook lines are stored with
// the certificate as written. The message names the hook, not the secret.
func TestHookHoldingACredentialIsRefused(t *testing.T) {
	const secret = "nc-api-key-0123456789abcdef"
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "nc.key")
	if err := os.WriteFile(keyFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "strictacme.toml")
	src := `[defaults]
path = "` + filepath.Join(dir, "state") + `"

[providers.nc]
type = "namecheap"
api_user = "me"
api_key_file = "` + keyFile + `"
client_ip = "192.0.2.1"

[[certificate]]
names = ["a.example.com"]
provider = "nc"
deploy_hook = "curl -u me:` + secret + ` https://deploy.example/hook"
`
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"flag, secret from the environment", map[string]string{"NAMECHEAP_API_KEY": secret, "EXEC_PATH": "/bin/true"},
			[]string{"issue", "--path", filepath.Join(dir, "flags"), "--dns", "exec", "-d", "a.example.com", "--deploy-hook", "curl -u me:" + secret + " https://deploy.example/hook"},
			"--deploy-hook: holds a credential strictacme was given"},
		{"config, secret from the provider's key file", nil, []string{"run", "--config", cfg},
			`strictacme.toml:13: certificate "a.example.com": key "deploy_hook": holds a credential strictacme was given`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out, stderr := runCLI(t, tt.args...)
			if code != exitcode.Usage || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q; stderr:\n%s", code, exitcode.Usage, tt.want, stderr)
			}
			if strings.Contains(stderr+out, secret) {
				t.Errorf("the secret is in the output:\n%s%s", out, stderr)
			}
			for _, d := range []string{"flags", "state"} {
				if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
					t.Errorf("%s was written", d)
				}
			}
		})
	}
}

// One wrong provider used by two certificates: each of its problems is one
// line, whichever command reads the file.
func TestSharedProviderErrorPrintedOnce(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strictacme.toml")
	src := `[defaults]
path = "` + filepath.Join(dir, "state") + `"
provider = "one"

[providers.one]
type = "exec"
program = "` + filepath.Join(dir, "missing") + `"

[[certificate]]
names = ["a.example.com"]

[[certificate]]
names = ["b.example.com"]
`
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"run", "check", "persist"} {
		t.Run(cmd, func(t *testing.T) {
			code, out, stderr := runCLI(t, cmd, "--config", cfg)
			want := `strictacme.toml:7: provider "one": key "program": "` + filepath.Join(dir, "missing") + `": no such file`
			if code != exitcode.Usage || strings.Count(stderr+out, want) != 1 {
				t.Fatalf("exit %d, want %d and %q once; stdout:\n%s\nstderr:\n%s", code, exitcode.Usage, want, out, stderr)
			}
		})
	}
}

// revoke and delete without a certificate name say which argument is
// missing and where the names are listed, not cobra's "accepts 1 arg(s)".
func TestCertificateCommandsNameTheirArgument(t *testing.T) {
	for _, args := range [][]string{{"revoke"}, {"delete"}, {"delete", "a", "b"}} {
		code, _, stderr := runCLI(t, append(args, "--path", t.TempDir())...)
		if code != exitcode.Usage || !strings.Contains(stderr, "strictacme "+args[0]+" NAME (strictacme list shows them)") {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming NAME", args, code, stderr, exitcode.Usage)
		}
	}
}

// A config file with one wrong value in each provider kind, and a secret
// read from a variable that is not set: every problem is reported at
// once, each on the line of its own key, under the config key the file
// sets, never under the provider's environment variable.
func TestConfigProviderValueErrorsAllAtTheirKeys(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind  string
		lines []string // the provider's keys; the first is the wrong one
		want  string   // after `key "KEY": `
		env   string   // the provider's variable, never named
	}{
		{"desec", []string{`ttl = "abc"`, `token_file = "` + token + `"`}, `"abc": want whole seconds between 1 and 604800`, "DESEC_"},
		{"desec", []string{`endpoint = "http://desec.example/api/v1/"`, `token_file = "` + token + `"`}, `"http://desec.example/api/v1/": plain http; use https`, "DESEC_"},
		{"cloudflare", []string{`ttl = 5`, `api_token_file = "` + token + `"`}, `"5": want whole seconds between 60 and 86400`, "CLOUDFLARE_"},
		{"cloudflare", []string{`endpoint = "cf.internal"`, `api_token_file = "` + token + `"`}, `"cf.internal": want the API's URL`, "CLOUDFLARE_"},
		{"cloudflare", []string{`http_timeout = "-1s"`, `api_token_file = "` + token + `"`}, `"-1s": give a number of seconds`, "CLOUDFLARE_"},
		{"cloudflare", []string{`serving_lag = "later"`, `api_token_file = "` + token + `"`}, `"later": want seconds or a duration`, "CLOUDFLARE_"},
		{"digitalocean", []string{`ttl = 10`, `auth_token_file = "` + token + `"`}, `"10": want whole seconds between 30 and 86400`, "DO_"},
		{"digitalocean", []string{`endpoint = "api.do.internal"`, `auth_token_file = "` + token + `"`}, `"api.do.internal": want the API's URL`, "DO_"},
		{"digitalocean", []string{`http_timeout = "0"`, `auth_token_file = "` + token + `"`}, `"0": give a number of seconds`, "DO_"},
		{"digitalocean", []string{`serving_lag = "-5"`, `auth_token_file = "` + token + `"`}, `"-5": want seconds or a duration`, "DO_"},
		{"powerdns", []string{`api_url = "https://pdns.example.net:8081/api/v1"`, `api_key_file = "` + token + `"`}, `"https://pdns.example.net:8081/api/v1": give the base URL without the /api/v1 path`, "PDNS_"},
		{"powerdns", []string{`api_version = 0`, `api_url = "https://pdns.example.net:8081"`, `api_key_file = "` + token + `"`}, `"0": only API version 1`, "PDNS_"},
		{"powerdns", []string{`ttl = 0`, `api_url = "https://pdns.example.net:8081"`, `api_key_file = "` + token + `"`}, `"0": want whole seconds between 1 and 86400`, "PDNS_"},
		{"powerdns", []string{`serving_lag = "1 minute"`, `api_url = "https://pdns.example.net:8081"`, `api_key_file = "` + token + `"`}, `"1 minute": want seconds or a duration`, "PDNS_"},
		{"route53", []string{`hosted_zone_id = "example.com"`}, `"example.com": want a hosted zone ID`, "AWS_"},
		{"route53", []string{`max_retries = 99`}, `"99": want a whole number between 0 and 50`, "AWS_"},
		{"route53", []string{`ttl = "1h"`}, `"1h": want whole seconds between 1 and 86400`, "AWS_"},
		{"route53", []string{`wait_for_sync = "yes please"`}, `"yes please": want true or false`, "AWS_"},
		{"route53", []string{`sync_timeout = "0s"`}, `"0s": want seconds or a duration`, "AWS_"},
		{"namecheap", []string{`ttl = 5`, `api_user = "me"`, `api_key_file = "` + token + `"`}, `"5": want whole seconds between`, "NAMECHEAP_"},
		{"namecheap", []string{`client_ip = "2001:db8::1"`, `api_user = "me"`, `api_key_file = "` + token + `"`}, `"2001:db8::1": not an IPv4 address`, "NAMECHEAP_"},
		{"namecheap", []string{`sandbox = "maybe"`, `api_user = "me"`, `api_key_file = "` + token + `"`}, `"maybe": want true or false`, "NAMECHEAP_"},
		{"namecheap", []string{`settle_delay = "-1m"`, `api_user = "me"`, `api_key_file = "` + token + `"`}, `"-1m": want a duration such as 2m`, "NAMECHEAP_"},
		{"rfc2136", []string{`tsig_algorithm = "hmac-md5"`, `nameserver = "127.0.0.1:5353"`, `tsig_key = "k"`, `tsig_secret_file = "` + token + `"`}, `"hmac-md5": TSIG algorithm hmac-md5 is not accepted`, "RFC2136_"},
		{"rfc2136", []string{`ttl = 0`, `nameserver = "127.0.0.1:5353"`}, `"0": want whole seconds between 1 and 86400`, "RFC2136_"},
		{"rfc2136", []string{`dns_timeout = "0s"`, `nameserver = "127.0.0.1:5353"`}, `"0s": want seconds or a duration`, "RFC2136_"},
		{"rfc2136", []string{`serving_lag = "a while"`, `nameserver = "127.0.0.1:5353"`}, `"a while": want seconds or a duration`, "RFC2136_"},
		{"rfc2136", []string{`transfer = "axfr"`, `nameserver = "127.0.0.1:5353"`}, `"axfr": want true or false`, "RFC2136_"},
		{"hetzner", []string{`serving_lag = "-1s"`, `api_token_file = "` + token + `"`}, `"-1s": want seconds or a duration`, "HETZNER_"},
		{"hetzner", []string{`ttl = 30`, `api_token_file = "` + token + `"`}, `"30": want whole seconds between 60 and 86400`, "HETZNER_"},
		{"hetzner", []string{`endpoint = "http://dns.example/api/v1/"`, `api_token_file = "` + token + `"`}, `"http://dns.example/api/v1/": plain http; use https`, "HETZNER_"},
		{"hetzner", []string{`endpoint = "dns.example"`, `api_token_file = "` + token + `"`}, `"dns.example": want the API's URL`, "HETZNER_"},
		{"rfc2136", []string{`nameserver = "0.0.0.0:53"`}, `"0.0.0.0:53": 0.0.0.0 is the unspecified address, which names no server; give the primary's host or host:port`, "RFC2136_"},
		{"rfc2136", []string{`nameserver = "udp://192.0.2.53:53"`}, `"udp://192.0.2.53:53": not a URL; give the primary's host or host:port`, "RFC2136_"},
		{"rfc2136", []string{`nameserver = "192.0.2.53:domain"`}, `"192.0.2.53:domain": port "domain" is not a number from 1 to 65535`, "RFC2136_"},
		{"namecheap", []string{`endpoint = "http://api.namecheap.example/xml.response"`, `api_user = "me"`, `api_key_file = "` + token + `"`}, `"http://api.namecheap.example/xml.response": plain http; use https`, "NAMECHEAP_"},
		{"namecheap", []string{`endpoint = "https://me:s3cretpw@api.namecheap.com/xml.response"`, `api_user = "me"`, `api_key_file = "` + token + `"`}, `"https://[redacted]@api.namecheap.com/xml.response": credentials in the URL`, "NAMECHEAP_"},
		{"namecheap", []string{`client_ip_url = "http://ip.example/"`, `api_user = "me"`, `api_key_file = "` + token + `"`}, `"http://ip.example/": plain http; use https`, "NAMECHEAP_"},
		{"namecheap", []string{`client_ip_url = "ip.example"`, `api_user = "me"`, `api_key_file = "` + token + `"`}, `"ip.example": want the API's URL`, "NAMECHEAP_"},
		{"route53", []string{`endpoint = "route53.internal"`}, `"route53.internal": want the API's URL`, "AWS_"},
		{"route53", []string{`endpoint = "http://route53.internal"`}, `"http://route53.internal": plain http; use https`, "AWS_"},
		{"route53", []string{`endpoint = "https://proxy:s3cretpw@route53.internal"`}, `"https://[redacted]@route53.internal": credentials in the URL`, "AWS_"},
		{"desec", []string{`serving_lag = "soon"`, `token_env = "STRICTACME_TEST_UNSET_TOKEN"`}, `"soon": want seconds or a duration`, "DESEC_"},
	}
	var src strings.Builder
	src.WriteString("[defaults]\npath = \"" + filepath.Join(dir, "state") + "\"\n")
	line := 2
	type at struct {
		line      int
		name, key string
	}
	var wants []at
	for i, tt := range tests {
		name := fmt.Sprintf("p%d", i)
		src.WriteString("\n[providers." + name + "]\ntype = \"" + tt.kind + "\"\n")
		line += 3
		for j, l := range tt.lines {
			src.WriteString(l + "\n")
			line++
			if j == 0 {
				wants = append(wants, at{line, name, strings.Fields(l)[0]})
			}
		}
	}
	for i := range tests {
		fmt.Fprintf(&src, "\n[[certificate]]\nnames = [\"c%d.example.com\"]\nprovider = \"p%d\"\n", i, i)
	}
	cfg := filepath.Join(dir, "strictacme.toml")
	if err := os.WriteFile(cfg, []byte(src.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Unsetenv("STRICTACME_TEST_UNSET_TOKEN")
	for _, cmd := range []string{"run", "check"} {
		t.Run(cmd, func(t *testing.T) {
			code, _, stderr := runCLI(t, cmd, "--config", cfg)
			if code != exitcode.Usage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitcode.Usage, stderr)
			}
			for i, tt := range tests {
				w := fmt.Sprintf("strictacme.toml:%d: provider %q: key %q: %s", wants[i].line, wants[i].name, wants[i].key, tt.want)
				if n := strings.Count(stderr, w); n != 1 {
					t.Errorf("%s: %q printed %d times, want once", tt.kind, w, n)
				}
				if strings.Contains(stderr, tt.env) {
					t.Errorf("%s: the errors name a variable the file does not set", tt.kind)
				}
			}
			if strings.Contains(stderr, "s3cretpw") {
				t.Errorf("a URL's password is in the errors")
			}
			if !strings.Contains(stderr, `key "token_env": `) {
				t.Errorf("the unset token_env is not reported")
			}
			if t.Failed() {
				t.Logf("config:\n%s\nstderr:\n%s", src.String(), stderr)
			}
		})
	}
}

// Deploy output problems given on the command line name the flags (or
// the variables that set them), also where the message names another
// output; the config file's words (install_pkcs12, pkcs12_password_file)
// are for config users.
func TestDeployRefusalOnTheCommandLineNamesFlags(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STRICTACME_INSTALL_MODE", "0666")
	t.Setenv("EXEC_PATH", "/bin/true")
	code, _, stderr := runCLI(t, "issue", "--path", filepath.Join(dir, "state"), "--dns", "exec",
		"-d", "a.example.com", "--install-pkcs12", filepath.Join(dir, "a.p12"), "--install-key", filepath.Join(dir, "a.key"))
	if code != exitcode.Usage {
		t.Fatalf("exit %d, want %d\n%s", code, exitcode.Usage, stderr)
	}
	for _, want := range []string{
		"--install-pkcs12 needs a password; set --pkcs12-password-file (a file, mode 0600) or --pkcs12-password-env",
		`STRICTACME_INSTALL_MODE "0666" lets every user of the machine at the private key in --install-key or --install-pem; give e.g. "0640" with --install-group`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("missing %q in:\n%s", want, stderr)
		}
	}
	for _, key := range []string{"install_pkcs12", "pkcs12_password", "install_key", "install_group"} {
		if strings.Contains(stderr, key) {
			t.Errorf("config key %s named on the command line:\n%s", key, stderr)
		}
	}
}
