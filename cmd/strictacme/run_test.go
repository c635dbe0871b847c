package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/testworld"
)

// runWorld is the test world behind the "world" provider type.
var runWorld *testworld.World

func init() {
	plan.RegisterProvider(plan.ProviderKind{
		Name: "world", Hidden: true,
		New: func(func(string) (string, bool), plan.BuildEnv) (providers.Provider, error) {
			return runWorld.Provider(), nil
		},
	})
}

// runCLI runs strictacme in-process, as main does (redacted output, exit
// codes), and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func worldConfig(t *testing.T, w *testworld.World, body string) string {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "strictacme.toml")
	if err := os.WriteFile(f, []byte(worldHead(t, w, dir)+body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// worldHead is the [defaults] table pointing a config file in dir at w.
func worldHead(t *testing.T, w *testworld.World, dir string) string {
	t.Helper()
	return fmt.Sprintf(`[defaults]
server = %q
ca_certs = [%q]
path = %q
accept_tos = true
resolvers = [%q]
request_timeout = "2s"
`, w.DirectoryURL, w.TLSRootFile, filepath.Join(dir, "state"), w.DoHURL)
}

// run --config issues what is missing (here through a challenge alias into
// a zone of a second provider) and skips what is stored.
func TestRunConfigIssuesThenSkips(t *testing.T) {
	w := testworld.Start(t)
	runWorld = w
	if err := w.DNS.Set("_acme-challenge.www.example.com.", dns.TypeCNAME, 60, "_acme-challenge.acme.example.net."); err != nil {
		t.Fatal(err)
	}
	f := worldConfig(t, w, `
[providers.main]
type = "world"
zones = ["example.com"]

[providers.challenges]
type = "world"
zones = ["example.net"]

[[certificate]]
name = "web"
names = ["www.example.com"]
challenge_alias = "acme.example.net"
`)
	code, out, errs := runCLI(t, "run", "--config", f)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "write TXT _acme-challenge.acme.example.net. (for _acme-challenge.www.example.com.) in zone example.net. via challenges") {
		t.Errorf("stderr:\n%s", errs)
	}
	if out != "issued 1, renewed 0, failed 0, not due 0\n" {
		t.Errorf("first run's summary (nothing was renewed, one was issued): %q", out)
	}
	code, _, errs = runCLI(t, "run", "--config", f, "--log-level", "debug")
	if code != 0 || !strings.Contains(errs, "web: not due") || !strings.Contains(errs, "nothing due") || strings.Contains(errs, "ARI:") {
		t.Fatalf("second run: exit %d\n%s", code, errs)
	}
	// --force renews the stored certificate with the config's plan. The
	// resolver still caches the first order's TXT value for its 60 s TTL;
	// age it out instead of waiting.
	w.Recursive.Advance(2 * time.Minute)
	code, out, errs = runCLI(t, "run", "--config", f, "--force")
	if code != 0 || !strings.Contains(errs, "web: renewed") {
		t.Fatalf("forced run: exit %d\n%s", code, errs)
	}
	if out != "issued 0, renewed 1, failed 0, not due 0\n" {
		t.Errorf("forced run's summary: %q", out)
	}
}

// The negative-caching trap end to end: the DoH resolver holds NXDOMAIN for
// the challenge name for 300 s; with propagation_timeout shorter than that
// the check says how long the answer stays cached, gives up at once and the
// configured fallback confirms the record through the provider.
func TestRunNegativeCacheTrapUsesFallback(t *testing.T) {
	w := testworld.Start(t)
	runWorld = w
	if _, err := w.Recursive.Prime("_acme-challenge.trap.example.com.", dns.TypeTXT); err != nil {
		t.Fatal(err)
	}
	f := worldConfig(t, w, `propagation_timeout = "60s"
propagation_fallback = "provider"

[providers.main]
type = "world"
zones = ["example.com"]

[[certificate]]
name = "trap"
names = ["trap.example.com"]
`)
	code, out, errs := runCLI(t, "run", "--config", f)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"NXDOMAIN for _acme-challenge.trap.example.com. (negative answer may stay cached up to", "giving up with", "falling back to provider"} {
		if !strings.Contains(errs, want) {
			t.Errorf("no %q in:\n%s", want, errs)
		}
	}
}

// TestExampleConfigPlans: the shipped examples/strictacme.toml, with its
// secret file and hook program pointed at local files, turns into a plan
// for every certificate (nothing is contacted).
func TestExampleConfigPlans(t *testing.T) {
	src, err := os.ReadFile("../../examples/strictacme.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := strings.NewReplacer(
		"/run/secrets/namecheap_api_key", key,
		"/usr/local/bin/dns-challenge-hook", "/bin/true",
		"/var/lib/strictacme", filepath.Join(dir, "state"),
	).Replace(string(src))
	f := filepath.Join(dir, "strictacme.toml")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cf, err := loadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cf.Certificates {
		if _, err := plan.Build(c.Settings, plan.BuildOptions{Path: cf.StatePath}); err != nil {
			t.Errorf("certificate %q: %v", c.Name, err)
		}
	}
}

// A certificate name whose challenge record no provider serves is refused
// at plan time, before the CA sees an order.
func TestRunRefusesUnservedNames(t *testing.T) {
	w := testworld.Start(t)
	runWorld = w
	f := worldConfig(t, w, `
[providers.main]
type = "world"
zones = ["example.com"]

[[certificate]]
name = "other"
names = ["other.example.net"]
`)
	w.CA.ResetRequests()
	code, _, errs := runCLI(t, "run", "--config", f)
	if code != exitcode.Usage || !strings.Contains(errs, "in no configured provider's zones (example.com)") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if n := w.CA.Requests(testworld.PathNewOrder); n != 0 {
		t.Fatalf("%d orders sent", n)
	}
}
