package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/preflight"
	"github.com/strictacme/strictacme/internal/testworld"
	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

// checkWorld starts a test world and points the hidden testapi provider at
// its fake provider API. Every check test also asserts that nothing was
// ordered and nothing was written.
func checkWorld(t *testing.T) *testworld.World {
	t.Helper()
	w := testworld.Start(t)
	t.Setenv("TESTAPI_URL", w.APIURL)
	t.Setenv("TESTAPI_TOKEN", w.APIToken)
	t.Cleanup(func() {
		if n := w.CA.Requests(testworld.PathNewOrder); n != 0 {
			t.Errorf("check sent %d new-order requests", n)
		}
		if n := w.CA.Requests(testworld.PathNewAccount); n != 0 {
			t.Errorf("check sent %d new-account requests", n)
		}
		if n := w.API.Writes(); n != 0 {
			t.Errorf("check wrote to the provider %d times", n)
		}
	})
	return w
}

// checkArgs are the flags of a working setup against w; extra are appended.
func checkArgs(t *testing.T, w *testworld.World, extra ...string) []string {
	t.Helper()
	args := []string{"check", "--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--accept-tos",
		"--resolver", w.DoHURL, "--path", filepath.Join(t.TempDir(), "state"), "--request-timeout", "500ms"}
	return append(args, extra...)
}

// runCheckJSON runs check with --json and decodes the single certificate's
// report.
func runCheckJSON(t *testing.T, args ...string) (int, *preflight.Report, string) {
	t.Helper()
	code, out, errs := runCLI(t, append(args, "--json")...)
	var res preflight.Summary
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("exit %d, output is not JSON: %v\n%s\n%s", code, err, out, errs)
	}
	if res.ExitCode != code || res.OK != (code == 0) {
		t.Errorf("JSON says ok=%v exit_code=%d; process exit %d", res.OK, res.ExitCode, code)
	}
	if len(res.Certificates) != 1 {
		t.Fatalf("%d certificates in %s", len(res.Certificates), out)
	}
	return code, res.Certificates[0], out
}

// row returns the first row whose check starts with prefix.
func row(t *testing.T, rep *preflight.Report, prefix string) preflight.Row {
	t.Helper()
	for _, r := range rep.Rows {
		if strings.HasPrefix(r.Check, prefix) {
			return r
		}
	}
	t.Fatalf("no %q row in %+v", prefix, rep.Rows)
	return preflight.Row{}
}

func dump(rep *preflight.Report) string {
	var b strings.Builder
	for _, r := range rep.Rows {
		b.WriteString(r.Check + " | " + string(r.Status) + " | " + r.Detail + "\n")
	}
	return b.String()
}

// A working setup: a clean table, every row ok, exit 0.
func TestCheckWorkingSetup(t *testing.T) {
	w := checkWorld(t)
	args := checkArgs(t, w, "--dns", "testapi", "-d", "example.com", "-d", "*.example.com", "-d", "www.example.com")
	code, out, errs := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"CA directory", "caaIdentities pebble.letsencrypt.org", "profiles default, shortlived, tlsserver",
		"_acme-challenge.www.example.com → _acme-challenge.www.example.com (zone example.com via provider testapi)",
		"resolver " + w.DoHURL, "not probed (port 53 not allowed)", "all checks passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "warn") || strings.Contains(out, "FAIL") {
		t.Errorf("not clean:\n%s", out)
	}
	code, rep, _ := runCheckJSON(t, args...)
	if code != 0 {
		t.Fatalf("--json: exit %d", code)
	}
	for _, r := range rep.Rows {
		if r.Status != preflight.OK {
			t.Errorf("row not ok: %+v", r)
		}
	}
	// One row each: directory, account, provider zone, 2 TXT names (the
	// wildcard shares the apex's), 1 resolver, port 53, strategy, 3 CAA.
	if len(rep.Rows) != 11 {
		t.Errorf("%d rows:\n%s", len(rep.Rows), dump(rep))
	}
}

func TestCheckCAUnreachable(t *testing.T) {
	w := checkWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String() + "/dir"
	ln.Close()
	args := checkArgs(t, w, "--dns", "testapi", "-d", "example.com")
	args[2] = closed // --server
	code, rep, _ := runCheckJSON(t, args...)
	r := row(t, rep, "CA directory")
	if code != exitcode.Unreachable || r.Status != preflight.Fail || !strings.Contains(r.Detail, "connection refused") || !strings.Contains(r.Detail, "--server") {
		t.Errorf("exit %d, %+v", code, r)
	}
	if c := row(t, rep, "CAA example.com"); c.Status != preflight.Warn {
		t.Errorf("CAA without directory: %+v", c)
	}
}

// Without --ca-cert the world's CA certificate is untrusted: the row says
// to pass --ca-cert.
func TestCheckCAUntrusted(t *testing.T) {
	w := checkWorld(t)
	code, rep, _ := runCheckJSON(t, "check", "--server", w.DirectoryURL, "--accept-tos", "--resolver", w.DoHURL,
		"--path", t.TempDir(), "--dns", "testapi", "-d", "example.com")
	r := row(t, rep, "CA directory")
	if code != exitcode.Unreachable || r.Status != preflight.Fail || !strings.Contains(r.Detail, "unknown authority") || !strings.Contains(r.Detail, "--ca-cert") {
		t.Errorf("exit %d, %+v", code, r)
	}
}

func TestCheckProviderBadToken(t *testing.T) {
	w := checkWorld(t)
	t.Setenv("TESTAPI_TOKEN", "not-the-token")
	code, rep, _ := runCheckJSON(t, checkArgs(t, w, "--dns", "testapi", "-d", "example.com")...)
	r := row(t, rep, "provider testapi")
	if code != exitcode.DNS || r.Status != preflight.Fail || !strings.Contains(r.Detail, "401") || !strings.Contains(r.Detail, "credentials") {
		t.Errorf("exit %d, %+v\n%s", code, r, dump(rep))
	}
}

func namecheapServer(t *testing.T, whitelist ...string) *namecheaptest.Server {
	t.Helper()
	nc := namecheaptest.NewServer(namecheaptest.Options{Whitelist: whitelist, RateLimit: -1})
	t.Cleanup(nc.Close)
	nc.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: []namecheaptest.Host{
		{Name: "@", Type: "A", Address: "192.0.2.10", IsActive: true},
	}})
	t.Setenv("NAMECHEAP_API_USER", nc.APIUser())
	t.Setenv("NAMECHEAP_API_KEY", nc.APIKey())
	return nc
}

// Namecheap refuses a ClientIp that is not whitelisted (error 1011150):
// the row names the IP and where to whitelist it, and nothing is written.
func TestCheckNamecheapClientIPNotWhitelisted(t *testing.T) {
	w := checkWorld(t)
	nc := namecheapServer(t, "203.0.113.50")
	code, rep, _ := runCheckJSON(t, checkArgs(t, w, "--dns", "namecheap", "--namecheap-endpoint", nc.URL(),
		"--namecheap-client-ip", "198.51.100.7", "-d", "example.com")...)
	r := row(t, rep, "provider namecheap")
	if code != exitcode.DNS || r.Status != preflight.Fail {
		t.Fatalf("exit %d, %+v\n%s", code, r, dump(rep))
	}
	for _, want := range []string{"198.51.100.7", "1011150", "whitelist", "NAMECHEAP_CLIENT_IP"} {
		if !strings.Contains(r.Detail, want) {
			t.Errorf("no %q in %q", want, r.Detail)
		}
	}
	if n := nc.Calls("setHosts"); n != 0 {
		t.Errorf("%d setHosts calls", n)
	}
}

func TestCheckNamecheapClientIPAccepted(t *testing.T) {
	w := checkWorld(t)
	nc := namecheapServer(t, "198.51.100.7")
	code, rep, _ := runCheckJSON(t, checkArgs(t, w, "--dns", "namecheap", "--namecheap-endpoint", nc.URL(),
		"--namecheap-client-ip", "198.51.100.7", "-d", "example.com")...)
	r := row(t, rep, "provider namecheap")
	if code != 0 || r.Status != preflight.OK || !strings.Contains(r.Detail, "ClientIp 198.51.100.7 (configured) accepted") {
		t.Errorf("exit %d, %+v\n%s", code, r, dump(rep))
	}
	if n := nc.Calls("setHosts"); n != 0 {
		t.Errorf("%d setHosts calls", n)
	}
}

// DoH endpoints that a locked-down network breaks are each reported with
// the reason and the fix the issue log would give; under the default
// quorum (a majority of those that answer) the working one carries the
// strategy (warn rows, exit 0); with a fixed quorum of all the strategy
// cannot work, and the default fallback, the provider's read-back,
// carries issuance (warn, exit 0), as issue would do (cases PR08, PR09).
func TestCheckDoHEndpoints(t *testing.T) {
	w := checkWorld(t)
	var urls []string
	for _, k := range []testworld.DoHKind{testworld.DoHForbidden, testworld.DoHUntrustedCert, testworld.DoHHang, testworld.DoHReset, testworld.DoHRefused} {
		u, err := w.AddDoHEndpoint(k)
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, u)
	}
	args := checkArgs(t, w, "--dns", "testapi", "-d", "example.com", "--request-timeout", "200ms")
	for _, u := range urls {
		args = append(args, "--resolver", u)
	}
	code, rep, _ := runCheckJSON(t, args...)
	if code != 0 {
		t.Fatalf("default quorum: exit %d\n%s", code, dump(rep))
	}
	for i, want := range []string{"this DoH host is blocked here", "unknown authority (TLS interception?); if a proxy inspects TLS, pass its root certificate with --ca-cert FILE", "timeout", "reset", "answers REFUSED"} {
		r := row(t, rep, "resolver "+urls[i])
		if r.Status != preflight.Warn || !strings.Contains(r.Detail, want) {
			t.Errorf("%s: %+v, want %q", urls[i], r, want)
		}
	}
	if r := row(t, rep, "propagation doh"); r.Status != preflight.OK || !strings.Contains(r.Detail, "1 of 6 resolvers answer") {
		t.Errorf("%+v", r)
	}
	code, rep, _ = runCheckJSON(t, append(args, "--quorum", "6")...)
	if r := row(t, rep, "propagation doh"); code != 0 || r.Status != preflight.Warn || !strings.Contains(r.Detail, "needs 6 of 6") || !strings.Contains(r.Detail, "the fallback provider works") {
		t.Errorf("exit %d, %+v", code, r)
	}
}

// A filtering resolver that answers NOTIMP to SOA questions but resolves
// TXT and CAA is all issuance needs: check passes and checks CAA through
// it instead of reporting FAIL for something issue would do.
func TestCheckResolverAnsweringNOTIMPForSOA(t *testing.T) {
	w := checkWorld(t)
	u, err := w.AddDoHEndpoint(testworld.DoHNotImpSOA)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"check", "--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--accept-tos",
		"--resolver", u, "--path", filepath.Join(t.TempDir(), "state"), "--request-timeout", "2s",
		"--dns", "testapi", "-d", "example.com"}
	code, rep, _ := runCheckJSON(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, dump(rep))
	}
	if r := row(t, rep, "resolver "+u); r.Status != preflight.OK || !strings.Contains(r.Detail, "answers (TXT example.com") {
		t.Errorf("%+v", r)
	}
	if r := row(t, rep, "CAA"); r.Status != preflight.OK || strings.Contains(r.Detail, "not checked") {
		t.Errorf("%+v\n%s", r, dump(rep))
	}
}

func TestCheckCAAForbids(t *testing.T) {
	w := checkWorld(t)
	if err := w.DNS.Add("example.com.", dns.TypeCAA, 60, `0 issue "other-ca.example"`); err != nil {
		t.Fatal(err)
	}
	code, rep, _ := runCheckJSON(t, checkArgs(t, w, "--dns", "testapi", "-d", "www.example.com")...)
	r := row(t, rep, "CAA www.example.com")
	if code != exitcode.CA || r.Status != preflight.Fail || !strings.Contains(r.Detail, "other-ca.example") || !strings.Contains(r.Detail, "pebble.letsencrypt.org") {
		t.Errorf("exit %d, %+v", code, r)
	}
}

// issue permits the CA for the apex; issuewild ";" forbids every CA for
// the wildcard (RFC 8659 §4.3).
func TestCheckCAAAllowsAndIssuewild(t *testing.T) {
	w := checkWorld(t)
	if err := w.DNS.Add("example.com.", dns.TypeCAA, 60, `0 issue "pebble.letsencrypt.org"`, `0 issuewild ";"`); err != nil {
		t.Fatal(err)
	}
	code, rep, _ := runCheckJSON(t, checkArgs(t, w, "--dns", "testapi", "-d", "example.com", "-d", "*.example.com")...)
	if r := row(t, rep, "CAA example.com"); r.Status != preflight.OK || !strings.Contains(r.Detail, "permits pebble.letsencrypt.org") {
		t.Errorf("%+v", r)
	}
	if r := row(t, rep, "CAA *.example.com"); code != exitcode.CA || r.Status != preflight.Fail || !strings.Contains(r.Detail, "issuewild") {
		t.Errorf("exit %d, %+v", code, r)
	}
}

// A wildcard CNAME over the challenge name, with a provider that reads its
// zone: the provider holds no record at the name, and once the TXT is
// written there the wildcard no longer applies (RFC 4592), so the row is
// ok at the name itself, also with --follow-cname (wildcards found through
// DNS are refused: internal/delegation).
func TestCheckWildcardCNAMEBesideReadableZone(t *testing.T) {
	w := checkWorld(t)
	if err := w.DNS.Add("*.example.com.", dns.TypeCNAME, 60, "catchall.example.net."); err != nil {
		t.Fatal(err)
	}
	code, rep, _ := runCheckJSON(t, checkArgs(t, w, "--dns", "testapi", "-d", "www.example.com", "--follow-cname")...)
	r := row(t, rep, "TXT for www.example.com")
	if code != exitcode.OK || r.Status != preflight.OK || !strings.Contains(r.Detail, "_acme-challenge.www.example.com → _acme-challenge.www.example.com (zone example.com") {
		t.Errorf("exit %d, %+v", code, r)
	}
}

// An existing CNAME at the challenge name into a zone a provider serves
// is found by check as issue finds it (the provider's records), and shown.
func TestCheckFindsExistingCNAME(t *testing.T) {
	w := checkWorld(t)
	if err := w.DNS.Add("_acme-challenge.www.example.com.", dns.TypeCNAME, 60, "_acme-challenge.acme.example.net."); err != nil {
		t.Fatal(err)
	}
	code, rep, _ := runCheckJSON(t, checkArgs(t, w, "--dns", "testapi", "-d", "www.example.com")...)
	r := row(t, rep, "TXT for www.example.com")
	if code != exitcode.OK || r.Status != preflight.OK || !strings.Contains(r.Detail, "→ _acme-challenge.acme.example.net [_acme-challenge.www.example.com. -> CNAME _acme-challenge.acme.example.net.] (zone example.net") {
		t.Errorf("exit %d, %+v", code, r)
	}
}

// A challenge alias needs a CNAME at the challenge name; without it the
// row says which record to add (exit 6), with it the chain is shown.
func TestCheckChallengeAliasCNAME(t *testing.T) {
	w := checkWorld(t)
	args := checkArgs(t, w, "--dns", "testapi", "-d", "www.example.com", "--challenge-alias", "acme.example.net")
	code, rep, _ := runCheckJSON(t, args...)
	r := row(t, rep, "TXT for www.example.com")
	if code != exitcode.Missing || r.Status != preflight.Fail || !strings.Contains(r.Detail, "_acme-challenge.www.example.com. CNAME _acme-challenge.acme.example.net.") {
		t.Errorf("exit %d, %+v", code, r)
	}
	if err := w.DNS.Add("_acme-challenge.www.example.com.", dns.TypeCNAME, 60, "_acme-challenge.acme.example.net."); err != nil {
		t.Fatal(err)
	}
	w.Recursive.Flush()
	code, rep, _ = runCheckJSON(t, args...)
	r = row(t, rep, "TXT for www.example.com")
	if code != 0 || r.Status != preflight.OK || !strings.Contains(r.Detail, "→ _acme-challenge.acme.example.net") || !strings.Contains(r.Detail, "zone example.net via provider testapi") {
		t.Errorf("exit %d, %+v\n%s", code, r, dump(rep))
	}
}

// The exec provider cannot be probed without writing: check says so and
// only checks that EXEC_PATH is an executable file; a file that is not
// executable is refused as a usage error before anything is probed.
func TestCheckExecProgram(t *testing.T) {
	w := checkWorld(t)
	hook := filepath.Join(t.TempDir(), "dns-hook.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EXEC_PATH", hook)
	args := checkArgs(t, w, "--dns", "exec", "-d", "example.com")
	code, _, errs := runCLI(t, append(args, "--json")...)
	if code != exitcode.Usage || !strings.Contains(errs, "chmod +x") {
		t.Errorf("exit %d, %s", code, errs)
	}
	if err := os.Chmod(hook, 0o755); err != nil {
		t.Fatal(err)
	}
	code, rep, _ := runCheckJSON(t, args...)
	if r := row(t, rep, "provider exec"); code != 0 || r.Status != preflight.OK || !strings.Contains(r.Detail, "cannot be probed without writing") ||
		!strings.HasPrefix(r.Detail, "EXEC_PATH "+hook+" ") {
		t.Errorf("exit %d, %+v; want the variable the program was set by", code, r)
	}

	// From a config file the row names the key the file sets.
	os.Unsetenv("EXEC_PATH")
	f := worldConfig(t, w, `
[providers.script]
type = "exec"
program = "`+hook+`"

[[certificate]]
name = "web"
names = ["example.com"]
provider = "script"
`)
	code, out, errs := runCLI(t, "check", "--config", f, "--json")
	if code != 0 || !strings.Contains(out, `"detail": "program `+hook+` can be started`) || strings.Contains(out, "EXEC_PATH") {
		t.Errorf("config: exit %d; want the row to name key program\n%s\n%s", code, out, errs)
	}
}

// check --config checks every certificate of the file with its providers.
func TestCheckConfig(t *testing.T) {
	w := checkWorld(t)
	runWorld = w
	f := worldConfig(t, w, `
[providers.main]
type = "world"
zones = ["example.com"]

[[certificate]]
name = "web"
names = ["example.com", "www.example.com"]

[[certificate]]
name = "other"
names = ["example.net"]
provider = "main"
`)
	code, out, errs := runCLI(t, "check", "--config", f)
	if code != exitcode.Usage {
		// example.net has no provider zone but "main" is the default of
		// the second certificate, so both plans build; the world serves
		// both zones.
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
	}
	for _, want := range []string{`certificate "web"`, `certificate "other"`, "zone example.net via provider main"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// With --propagation authoritative, port 53 is allowed and probed: the
// zone's name servers are found through the resolvers and asked directly
// (here on the world's authoritative port); a closed port fails the
// strategy. Without permission, nothing is sent (the working-setup test).
func TestCheckPort53Authoritative(t *testing.T) {
	w := checkWorld(t)
	_, port, err := net.SplitHostPort(w.AuthAddr)
	if err != nil {
		t.Fatal(err)
	}
	args := checkArgs(t, w, "--dns", "testapi", "-d", "example.com", "--propagation", "authoritative")
	authoritativePort = port
	t.Cleanup(func() { authoritativePort = "" })
	code, rep, _ := runCheckJSON(t, args...)
	if r := row(t, rep, "port 53"); code != 0 || r.Status != preflight.OK || !strings.Contains(r.Detail, "every name server of example.com answers") {
		t.Errorf("exit %d, %+v\n%s", code, r, dump(rep))
	}
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, silent, _ := net.SplitHostPort(ln.LocalAddr().String())
	defer ln.Close() // bound but never answering: the probe times out
	authoritativePort = silent
	code, rep, _ = runCheckJSON(t, args...)
	if r := row(t, rep, "port 53"); code != exitcode.DNS || r.Status != preflight.Fail || !strings.Contains(r.Detail, "ns1.example.com") {
		t.Errorf("exit %d, %+v\n%s", code, r, dump(rep))
	}
	if r := row(t, rep, "propagation authoritative"); r.Status != preflight.Fail {
		t.Errorf("%+v", r)
	}
}

// checkProvider runs check --dns kind for example.com in w and returns
// its exit code, its report and the report's provider row.
func checkProvider(t *testing.T, w *testworld.World, kind string) (int, *preflight.Report, preflight.Row) {
	t.Helper()
	code, rep, _ := runCheckJSON(t, checkArgs(t, w, "--dns", kind, "-d", "example.com")...)
	return code, rep, row(t, rep, "provider "+kind)
}

// checkProviderPasses fails t unless check --dns kind for example.com in
// w exits 0 with the provider row OK.
func checkProviderPasses(t *testing.T, w *testworld.World, kind string) {
	t.Helper()
	if code, rep, r := checkProvider(t, w, kind); code != 0 || r.Status != preflight.OK {
		t.Fatalf("working token: exit %d, %+v\n%s", code, r, dump(rep))
	}
}
