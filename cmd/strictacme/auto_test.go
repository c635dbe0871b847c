package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/preflight"
	"github.com/strictacme/strictacme/internal/testworld"
)

// TestAutoReadsBackThroughTheProviderWhenNoResolverAnswers: the only
// resolver is blocked by a filtering proxy (HTTP 403); the provider can
// read its records back. `check --propagation auto` predicts the provider
// read-back, and `issue --propagation auto` then uses exactly that (not a
// blind fixed wait) and obtains the certificate. Case PR11.
func TestAutoReadsBackThroughTheProviderWhenNoResolverAnswers(t *testing.T) {
	w := checkWorld(t)
	blocked, err := w.AddDoHEndpoint(testworld.DoHForbidden)
	if err != nil {
		t.Fatal(err)
	}
	const want = "provider read-back"
	code, rep, _ := runCheckJSON(t, "check", "--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--accept-tos",
		"--path", filepath.Join(t.TempDir(), "state"), "--request-timeout", "500ms",
		"--dns", "testapi", "-d", "example.com", "--propagation", "auto", "--resolver", blocked)
	r := row(t, rep, "propagation auto")
	if code != 0 || r.Status != preflight.OK || !strings.HasPrefix(r.Detail, "would use "+want+" (no resolver answers") {
		t.Fatalf("check: exit %d, %+v\n%s", code, r, dump(rep))
	}
	// The check world forbids writes; issue in a world of its own.
	w2 := testworld.Start(t)
	t.Setenv("TESTAPI_URL", w2.APIURL)
	t.Setenv("TESTAPI_TOKEN", w2.APIToken)
	blocked2, err := w2.AddDoHEndpoint(testworld.DoHForbidden)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "issue", "--server", w2.DirectoryURL, "--ca-cert", w2.TLSRootFile, "--accept-tos",
		"--path", filepath.Join(t.TempDir(), "state"), "--dns", "testapi", "-d", "example.com",
		"--propagation", "auto", "--resolver", blocked2, "--request-timeout", "500ms")
	if code != 0 {
		t.Fatalf("issue: exit %d\n%s", code, errs)
	}
	if !strings.Contains(errs, "propagation auto: using "+want+" (no resolver answers") || strings.Contains(errs, "fixed delay") {
		t.Errorf("issue did not use the provider read-back check predicted:\n%s", errs)
	}
}
