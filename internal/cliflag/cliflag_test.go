package cliflag

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/strictacme/strictacme/internal/plan"
)

// A flag's variable is derived from its name, except for renamed ones and
// the sandbox's, which has variables of its own but for --json.
func TestEnvOfRenamedAndSandboxFlags(t *testing.T) {
	tests := []struct{ cmd, flag, want, old string }{
		{"issue", "key-type", "STRICTACME_KEY_TYPE", ""},
		{"issue", "cert-name", "STRICTACME_CERTIFICATE", "STRICTACME_CERT_NAME"},
		{"serve", "config", "STRICTACME_SERVE_CONFIG", "STRICTACME_CONFIG"},
		{"run", "config", "STRICTACME_CONFIG", ""},
		{"sandbox", "path", "STRICTACME_SANDBOX_PATH", ""},
		{"sandbox", "deploy-hook", "STRICTACME_SANDBOX_DEPLOY_HOOK", ""},
		{"sandbox", "json", "STRICTACME_JSON", ""},
	}
	for _, tt := range tests {
		if got, old, _ := EnvOf(tt.cmd, tt.flag); got != tt.want || old != tt.old {
			t.Errorf("EnvOf(%s, %s) = %s, %s; want %s, %s", tt.cmd, tt.flag, got, old, tt.want, tt.old)
		}
	}
}

// A settings problem names the flag of its key, or the variable that set
// it, also where the message names other settings; keys the command has
// no flag for stay keys, and words without an underscore are left alone.
func TestProblemInTheWordsTheUserGave(t *testing.T) {
	fs := pflag.NewFlagSet("issue", pflag.ContinueOnError)
	for _, f := range []string{"install-pkcs12", "pkcs12-password-file", "pkcs12-password-env", "install-mode", "install-key", "domain", "server"} {
		fs.String(f, "", "")
	}
	t.Setenv("STRICTACME_INSTALL_MODE", "0666")
	g := New()
	if err := g.Bind(fs, "issue", nil, func(string) {}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p    plan.Problem
		want string
	}{
		{plan.Problem{Key: "install_pkcs12", Msg: "install_pkcs12 needs a password; set pkcs12_password_file or pkcs12_password_env"},
			"--install-pkcs12: --install-pkcs12 needs a password; set --pkcs12-password-file or --pkcs12-password-env"},
		{plan.Problem{Key: "install_mode", Msg: `"0666" lets every user at the key in install_key or install_pem`},
			`STRICTACME_INSTALL_MODE "0666" lets every user at the key in --install-key or install_pem`},
		{plan.Problem{Key: "server", Msg: `"ftp://x": use https; the server name`}, `--server "ftp://x": use https; the server name`},
		{plan.Problem{Key: "single_value", Msg: "wrong"}, "single_value: wrong"},
	}
	for _, tt := range tests {
		if got := g.Problem(tt.p); got != tt.want {
			t.Errorf("Problem(%v)\n got %s\nwant %s", tt.p, got, tt.want)
		}
	}
}

// A bad value in a variable is refused naming the variable and what to
// give, not the parser's words.
func TestBadVariableValueNamesTheVariable(t *testing.T) {
	fs := pflag.NewFlagSet("renew", pflag.ContinueOnError)
	fs.Duration("jitter", 0, "")
	t.Setenv("STRICTACME_JITTER", "soon")
	err := New().Bind(fs, "renew", nil, func(string) {})
	if err == nil || err.Error() != `STRICTACME_JITTER="soon": give a duration such as 90s, 10m or 1h30m` {
		t.Fatalf("got %v", err)
	}
}

// A provider setting's flag given on the command line stands for its
// variable (a secret's flag for the _FILE variable) and wins over the
// environment; settings without a flag come from the environment.
func TestProviderFlagWinsOverItsVariable(t *testing.T) {
	fs := pflag.NewFlagSet("issue", pflag.ContinueOnError)
	values := map[string]*string{}
	RegisterProviderFlags(fs, values)
	if err := fs.Parse([]string{"--namecheap-api-user", "flag-user"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NAMECHEAP_API_USER", "env-user")
	t.Setenv("NAMECHEAP_CLIENT_IP", "192.0.2.1")
	given := ProviderFlagsGiven(fs, values)
	if len(given) != 1 || given["NAMECHEAP_API_USER"] != "flag-user" {
		t.Fatalf("given %v", given)
	}
	lookup := ProviderLookup(given)
	if v, _ := lookup("NAMECHEAP_API_USER"); v != "flag-user" {
		t.Errorf("api user %q, want the flag's", v)
	}
	if v, _ := lookup("NAMECHEAP_CLIENT_IP"); v != "192.0.2.1" {
		t.Errorf("client ip %q, want the environment's", v)
	}
}

// A config value fills a flag the user did not give; a given flag and an
// empty value leave it alone.
func TestConfigDefaultsFillOnlyFlagsNotGiven(t *testing.T) {
	fs := pflag.NewFlagSet("persist", pflag.ContinueOnError)
	server := fs.String("server", "letsencrypt", "")
	email := fs.String("email", "", "")
	tos := fs.Bool("accept-tos", false, "")
	roots := fs.StringArray("ca-cert", nil, "")
	path := fs.String("path", "/default", "")
	if err := fs.Parse([]string{"--server", "zerossl"}); err != nil {
		t.Fatal(err)
	}
	for flag, v := range map[string]any{"server": "from-file", "email": "ops@example.com", "accept-tos": true, "ca-cert": []string{"a.pem", "b.pem"}, "path": ""} {
		if err := Default(fs, flag, v); err != nil {
			t.Fatal(err)
		}
	}
	if *server != "zerossl" || *email != "ops@example.com" || !*tos || len(*roots) != 2 || *path != "/default" {
		t.Errorf("server %q email %q tos %v roots %v path %q", *server, *email, *tos, *roots, *path)
	}
	if fs.Lookup("email").Changed {
		t.Error("a config value counts as given")
	}
}

// TestDefaultsFromAConfigFileGiveWayToTheUser pins that a config file's
// settings, by key, fill the flags the user did not give, and only those.
func TestDefaultsFromAConfigFileGiveWayToTheUser(t *testing.T) {
	fs := pflag.NewFlagSet("persist", pflag.ContinueOnError)
	domains := fs.StringSlice("domain", nil, "")
	server := fs.String("server", "letsencrypt", "")
	tos := fs.Bool("accept-tos", false, "")
	if err := fs.Parse([]string{"--server", "zerossl"}); err != nil {
		t.Fatal(err)
	}
	g := New()
	if err := g.Bind(fs, "persist", nil, func(string) {}); err != nil {
		t.Fatal(err)
	}
	err := g.Defaults(map[string]any{"names": []string{"a.example.com"}, "server": "letsencrypt-staging", "accept_tos": true, "profile": "x"})
	if err != nil || !slices.Equal(*domains, []string{"a.example.com"}) || *server != "zerossl" || !*tos {
		t.Errorf("got %v %q %q %v", err, *domains, *server, *tos)
	}
}

// A checked list flag refuses a bad item given on the command line (the
// error names the flag) or in its variable (the error names the variable);
// good items are kept, a comma list splits, the first value replaces the
// default.
func TestCheckedListRefusesABadItemByFlagOrVariable(t *testing.T) {
	check := func(v string) error {
		if strings.Contains(v, " ") {
			return fmt.Errorf("%q has a space", v)
		}
		return nil
	}
	newFlags := func(p *[]string) *pflag.FlagSet {
		fs := pflag.NewFlagSet("issue", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Var(CheckedList(p, check), "hook-env", "")
		return fs
	}
	var got []string
	fs := newFlags(&got)
	if err := fs.Parse([]string{"--hook-env", "A,B", "--hook-env", "C*"}); err != nil || strings.Join(got, " ") != "A B C*" {
		t.Fatalf("parsed %q, %v", got, err)
	}
	fs = newFlags(&got)
	if err := fs.Parse([]string{"--hook-env", "A B"}); err == nil || !strings.Contains(err.Error(), `"--hook-env"`) || !strings.Contains(err.Error(), `"A B" has a space`) {
		t.Fatalf("--hook-env 'A B': %v", err)
	}
	t.Setenv("STRICTACME_HOOK_ENV", "OK,A B")
	fs = newFlags(&got)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	err := New().Bind(fs, "issue", nil, func(string) {})
	if err == nil || !strings.Contains(err.Error(), `STRICTACME_HOOK_ENV="OK,A B": "A B" has a space`) {
		t.Fatalf("variable: %v", err)
	}
}
