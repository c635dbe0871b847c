package main

import (
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/testworld"
)

// A DoH resolver whose certificate is not trusted (a private CA, a proxy
// inspecting TLS): query says so and names --ca-cert; with the root given
// it answers.
func TestQueryUntrustedDoHNamesCACert(t *testing.T) {
	w := testworld.Start(t)
	code, out, stderr := runCLI(t, "query", "--resolver", w.DoHURL, "example.com", "SOA")
	if code != exitcode.DNS || !strings.Contains(out, "--ca-cert FILE") {
		t.Fatalf("untrusted: exit %d, want %d and --ca-cert named; stdout:\n%s\nstderr:\n%s", code, exitcode.DNS, out, stderr)
	}
	code, out, stderr = runCLI(t, "query", "--resolver", w.DoHURL, "--ca-cert", w.TLSRootFile, "example.com", "SOA")
	if code != exitcode.OK || strings.Contains(out, "error") {
		t.Fatalf("trusted: exit %d; stdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
}
