package main

import (
	"os"
	"os/exec"
	"path/filepath"
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
