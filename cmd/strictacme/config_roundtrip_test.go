package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/testworld"
)

// A certificate issued by run --config is renewed by renew alone (no
// config file), with the file's deploy hook run for each; a name added to
// the file is in the certificate after the next run, which says why it
// ordered it.
func TestConfigIssuedCertificatesRenewWithoutTheFile(t *testing.T) {
	w := testworld.Start(t)
	runWorld = w
	deployed := filepath.Join(t.TempDir(), "deployed")
	body := `deploy_hook = "echo $STRICTACME_CERT_NAME >> ` + deployed + `"

[providers.main]
type = "world"
zones = ["example.com"]

[[certificate]]
name = "web"
names = ["www.example.com"]

[[certificate]]
name = "api"
names = ["api.example.com"]
key_type = "ec384"
`
	f := worldConfig(t, w, body)
	state := filepath.Join(filepath.Dir(f), "state")
	code, out, errs := runCLI(t, "run", "--config", f, "--json")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{`"status": "issued"`, "in the config file, not stored yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("run --json has no %q:\n%s", want, out)
		}
	}
	if got := deployLines(t, deployed); !slices.Equal(got, []string{"api", "web"}) {
		t.Fatalf("deploy hook after run: %v", got)
	}

	// renew knows nothing of the file: everything comes from the metadata.
	_ = os.Remove(deployed)
	w.Recursive.Advance(2 * time.Minute) // the first orders' TXT answers age out
	code, out, errs = runCLI(t, "renew", "--force", "--path", state)
	if code != 0 || strings.Contains(errs, "without") {
		t.Fatalf("renew: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "web: renewed") || !strings.Contains(errs, "api: renewed") {
		t.Fatalf("renew did not renew both:\n%s", errs)
	}
	if got := deployLines(t, deployed); !slices.Equal(got, []string{"api", "web"}) {
		t.Fatalf("deploy hook after renew: %v", got)
	}
	api, err := (&store.Store{Root: state}).LoadCertificate("api")
	if err != nil || api.Meta.KeyType != "ec384" {
		t.Fatalf("api after renew: %v %+v", err, api)
	}

	// A name added in the file is ordered on the next run, not when due.
	grown := strings.Replace(body, `names = ["www.example.com"]`, `names = ["www.example.com", "shop.example.com"]`, 1)
	if err := os.WriteFile(f, []byte(worldHead(t, w, filepath.Dir(f))+grown), 0o600); err != nil {
		t.Fatal(err)
	}
	w.Recursive.Advance(2 * time.Minute)
	code, out, errs = runCLI(t, "run", "--config", f, "--log-level", "debug")
	if code != 0 || !strings.Contains(errs, "the config file changed it: names shop.example.com,www.example.com, stored www.example.com") {
		t.Fatalf("run after adding a name: exit %d\n%s\n%s", code, out, errs)
	}
	web, err := (&store.Store{Root: state}).LoadCertificate("web")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(web.Leaf.DNSNames, "shop.example.com") {
		t.Fatalf("names in the certificate: %v", web.Leaf.DNSNames)
	}
	if !strings.Contains(errs, "api: not due") {
		t.Errorf("the unchanged certificate was ordered again:\n%s", errs)
	}
}

// The whole file is checked before any request: a bad value in the second
// certificate stops the run with every problem, in the file's words, and
// no order reaches the CA.
func TestBadSecondCertificateSendsNoOrder(t *testing.T) {
	w := testworld.Start(t)
	runWorld = w
	f := worldConfig(t, w, `
[providers.main]
type = "world"
zones = ["example.com"]

[[certificate]]
name = "good"
names = ["good.example.com"]

[[certificate]]
name = "bad"
names = ["bad.example.com"]
key_type = "ec521"
propagation = "dho"

[[certificate]]
name = "lost"
names = ["lost.example.org"]
`)
	w.CA.ResetRequests()
	code, _, errs := runCLI(t, "run", "--config", f)
	if code != exitcode.Usage {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{
		`strictacme.toml:20: certificate "bad": key "key_type": key type "ec521"`,
		`strictacme.toml:21: certificate "bad": key "propagation": unknown strategy "dho"`,
		`strictacme.toml:25: certificate "lost": key "names": lost.example.org: its challenge record _acme-challenge.lost.example.org is in no configured provider's zones`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("no %q in:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "--") {
		t.Errorf("a flag is named for a problem in the file:\n%s", errs)
	}
	if n := w.CA.Requests(""); n != 0 {
		t.Fatalf("%d requests reached the CA", n)
	}
}

func deployLines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(b))
	slices.Sort(lines)
	return lines
}

// A certificate that run --config of the previous release stored without
// settings cannot be renewed by renew; the next run --config records the
// file's settings with it, and renew works from then on.
func TestRunRecordsSettingsOfCertificatesStoredWithout(t *testing.T) {
	w := testworld.Start(t)
	runWorld = w
	f := worldConfig(t, w, `
[providers.main]
type = "world"
zones = ["example.com"]

[[certificate]]
name = "old"
names = ["old.example.com"]
`)
	state := filepath.Join(filepath.Dir(f), "state")
	if code, out, errs := runCLI(t, "run", "--config", f); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errs)
	}
	st := &store.Store{Root: state}
	c, err := st.LoadCertificate("old")
	if err != nil {
		t.Fatal(err)
	}
	c.Meta.Settings, c.Meta.SettingsVersion = nil, 0 // as the previous release stored it
	if err := st.SaveMetadata("old", c.Meta); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "renew", "--force", "--path", state)
	if code != exitcode.Usage || !strings.Contains(errs, "old was stored without its settings") {
		t.Fatalf("renew before: exit %d\n%s", code, errs)
	}
	code, _, errs = runCLI(t, "run", "--config", f, "--log-level", "debug")
	if code != 0 || !strings.Contains(errs, "old: stored without its settings; recorded those of the config file") || !strings.Contains(errs, "old: not due") {
		t.Fatalf("run: exit %d\n%s", code, errs)
	}
	w.Recursive.Advance(2 * time.Minute)
	if code, _, errs = runCLI(t, "renew", "--force", "--path", state); code != 0 || !strings.Contains(errs, "old: renewed") {
		t.Fatalf("renew after: exit %d\n%s", code, errs)
	}
}
