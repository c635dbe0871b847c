package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/testworld"
)

// hookScript is what an operator's exec hook looks like: it gets
// "present|cleanup FQDN VALUE" and calls their DNS provider's HTTP API (here
// the test world's) with curl.
const hookScript = `#!/bin/sh
set -eu
action=$1 fqdn=$2 value=$3
zone=$(echo "$fqdn" | awk -F. '{print $(NF-2)"."$(NF-1)"."}')
name=${fqdn%".$zone"}
case "$action" in present) method=POST ;; cleanup) method=DELETE ;; *) exit 2 ;; esac
echo "$action $fqdn" >> "$HOOK_LOG"
curl -sSf --cacert "$API_CA" -X "$method" -H "Authorization: Bearer $API_TOKEN" \
  -H 'Content-Type: application/json' \
  -d "[{\"name\":\"$name\",\"type\":\"TXT\",\"ttl\":60,\"data\":\"$value\"}]" \
  "$API_URL/zones/$zone/records" >/dev/null
`

// TestIssueWithExecHook runs "strictacme issue --dns exec" the way the
// README shows, with a curl-based hook, against the test world.
func TestIssueWithExecHook(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("needs curl for the hook script")
	}
	w := testworld.Start(t)
	dir := t.TempDir()
	hook := filepath.Join(dir, "dns-hook.sh")
	if err := os.WriteFile(hook, []byte(hookScript), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "hook.log")
	t.Setenv("EXEC_PATH", hook)
	t.Setenv("HOOK_LOG", log)
	t.Setenv("API_CA", w.TLSRootFile)
	t.Setenv("API_URL", w.APIURL)
	t.Setenv("API_TOKEN", w.APIToken)
	state := filepath.Join(dir, "state")
	code := run([]string{"issue", "--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--accept-tos",
		"--resolver", w.DoHURL, "--path", state, "--dns", "exec",
		"-d", "example.com", "-d", "*.example.com", "--json"})
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	calls, _ := os.ReadFile(log)
	if got := strings.Count(string(calls), "present _acme-challenge.example.com."); got != 2 {
		t.Errorf("hook calls:\n%s", calls)
	}
	if got := strings.Count(string(calls), "cleanup _acme-challenge.example.com."); got != 2 {
		t.Errorf("hook calls:\n%s", calls)
	}
	if _, err := os.Stat(filepath.Join(state, "certificates", "example.com", "fullchain.pem")); err != nil {
		t.Fatal(err)
	}
	rrs, _ := w.DNS.Records("example.com.")
	for _, rr := range rrs {
		if strings.HasPrefix(rr.Header().Name, "_acme-challenge") {
			t.Errorf("left behind: %s", rr)
		}
	}
}

// With --exec-parallel 4 the four names of one zone are written by four
// runs of the hook at once: each run waits (at most about 5 s) until four
// have started, and logs how many were running when it started.
func TestIssueWithExecParallelRunsTheHookAtOnce(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("needs curl for the hook script")
	}
	w := testworld.Start(t)
	dir := t.TempDir()
	hook := filepath.Join(dir, "dns-hook.sh")
	counting := strings.Replace(hookScript, "echo \"$action $fqdn\" >> \"$HOOK_LOG\"\n", `echo "$action $fqdn" >> "$HOOK_LOG"
touch "$HOOK_DIR/run.$$"
ls "$HOOK_DIR" | grep -c '^run\.' >> "$HOOK_DIR/counts-$action"
echo $$ >> "$HOOK_DIR/started-$action"
i=0
while [ "$(wc -l < "$HOOK_DIR/started-$action")" -lt 4 ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
rm -f "$HOOK_DIR/run.$$"
`, 1)
	if counting == hookScript {
		t.Fatal("hook script changed; update the counting lines")
	}
	if err := os.WriteFile(hook, []byte(counting), 0o755); err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(dir, "runs")
	if err := os.Mkdir(runs, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EXEC_PATH", hook)
	t.Setenv("HOOK_LOG", filepath.Join(dir, "hook.log"))
	t.Setenv("HOOK_DIR", runs)
	t.Setenv("API_CA", w.TLSRootFile)
	t.Setenv("API_URL", w.APIURL)
	t.Setenv("API_TOKEN", w.APIToken)
	code := run([]string{"issue", "--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--accept-tos",
		"--resolver", w.DoHURL, "--path", filepath.Join(dir, "state"), "--dns", "exec", "--exec-parallel", "4",
		"-d", "a.example.com", "-d", "b.example.com", "-d", "c.example.com", "-d", "d.example.com", "--json"})
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, action := range []string{"present", "cleanup"} {
		b, err := os.ReadFile(filepath.Join(runs, "counts-"+action))
		if err != nil {
			t.Fatal(err)
		}
		counts := strings.Fields(string(b))
		if len(counts) != 4 || !slices.Contains(counts, "4") || slices.ContainsFunc(counts, func(c string) bool { return c > "4" }) {
			t.Errorf("%s: running at each start %v, want four runs, four at once at most", action, counts)
		}
	}
}
