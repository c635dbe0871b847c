package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/config"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/preflight"
)

// check, issue and the config file accept exactly the providers and the
// propagation strategies of the registries, and refuse any other name.
// Every command line below also has a bad key type, so that nothing is
// ordered: validation reports all problems, and the one under test must
// not be among them.
func TestCommandsAcceptTheRegistries(t *testing.T) {
	type input struct{ kind, name string }
	var cases []input
	for _, n := range plan.ProviderNames() {
		cases = append(cases, input{"provider", n})
	}
	for _, n := range plan.StrategyNames() {
		cases = append(cases, input{"strategy", n})
	}
	cases = append(cases, input{"provider", "route99"}, input{"strategy", "dho"})
	known := func(in input) bool {
		if in.kind == "provider" {
			_, ok := plan.LookupProvider(in.name)
			return ok
		}
		_, ok := plan.LookupStrategy(in.name)
		return ok
	}
	refusal := map[string]string{"provider": "unknown provider", "strategy": "unknown strategy"}
	for _, in := range cases {
		t.Run(in.kind+"/"+in.name, func(t *testing.T) {
			want := known(in)
			flag, key := "--dns", "type"
			if in.kind == "strategy" {
				flag, key = "--propagation", "propagation"
			}
			for _, command := range []string{"issue", "check"} {
				code, _, errs := runCLI(t, command, "--path", t.TempDir(), "-d", "example.com", "--key-type", "dsa", "--dns", "exec", flag, in.name)
				if code != exitcode.Usage {
					t.Fatalf("%s: exit %d\n%s", command, code, errs)
				}
				if got := !strings.Contains(errs, refusal[in.kind]); got != want {
					t.Errorf("%s %s %s: accepted %v, registry says %v\n%s", command, flag, in.name, got, want, errs)
				}
			}
			body := fmt.Sprintf("[providers.p]\ntype = %q\n\n[[certificate]]\nnames = [\"example.com\"]\nprovider = \"p\"\n", in.name)
			if in.kind == "strategy" {
				body = fmt.Sprintf("[providers.p]\ntype = \"exec\"\nprogram = \"/bin/true\"\n\n[[certificate]]\nnames = [\"example.com\"]\nprovider = \"p\"\n%s = %q\n", key, in.name)
			}
			_, err := config.Parse("s.toml", []byte(body), config.Options{})
			got := err == nil || !strings.Contains(err.Error(), refusal[in.kind])
			if got != want {
				t.Errorf("config %s = %q: accepted %v, registry says %v\n%v", key, in.name, got, want, err)
			}
			if in.kind == "strategy" {
				usable, detail := preflight.StrategyUsable(in.name, preflight.Target{}, nil, preflight.Row{Status: preflight.OK}, nil)
				if got := usable || !strings.Contains(detail, "unknown strategy"); got != want {
					t.Errorf("check's strategy row for %s: %v %q", in.name, usable, detail)
				}
			}
		})
	}
}

// The strictacme binary carries none of the test binary's seams: no kill
// switch, no fake provider, no fake clock, no hidden test flags.
func TestBinaryHasNoTestSeams(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "strictacme")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, seam := range []string{killEnv, "STRICTACME_NOW", "TESTAPI_URL", "TESTAPI_TOKEN", "poll-interval", "authoritative-port", "armKillSwitch", "testAPIProvider"} {
		if strings.Contains(string(data), seam) {
			t.Errorf("the binary contains %q", seam)
		}
	}
	// The sandbox links the test world's CA and DNS servers, but the
	// testing package (its flags, its -test.* parsing) stays out.
	deps, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(deps)) {
		if dep == "testing" || strings.HasPrefix(dep, "testing/") {
			t.Errorf("the binary links %s", dep)
		}
	}
}
