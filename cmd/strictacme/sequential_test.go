package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/testworld"
)

// upsertScript is an exec hook of the kind many DNS scripts are: present
// replaces the TXT value at the name (it removes the value it wrote before,
// then writes the new one), so a second value at one name wipes the first.
// The TTL is 1 s so the caching resolver forgets a replaced value quickly.
const upsertScript = `#!/bin/sh
set -eu
action=$1 fqdn=$2 value=$3
zone=$(echo "$fqdn" | awk -F. '{print $(NF-2)"."$(NF-1)"."}')
name=${fqdn%".$zone"}
state="$HOOK_STATE/$fqdn"
api() {
  curl -sS --cacert "$API_CA" -X "$1" -H "Authorization: Bearer $API_TOKEN" \
    -H 'Content-Type: application/json' \
    -d "[{\"name\":\"$name\",\"type\":\"TXT\",\"ttl\":1,\"data\":\"$2\"}]" \
    "$API_URL/zones/$zone/records" >/dev/null
}
echo "$action $value" >> "$HOOK_LOG"
case "$action" in
present)
  [ -f "$state" ] && api DELETE "$(cat "$state")"
  api POST "$value"
  echo "$value" > "$state" ;;
cleanup)
  api DELETE "$value"
  rm -f "$state" ;;
esac
`

// An upsert exec script with an apex and its wildcard (one TXT name, two
// values): written together, the first value is replaced by the second and
// the check stops at once naming the fix; with --sequential, or the script
// declared sequential through EXEC_SEQUENTIAL, the two names are validated
// one after the other and the certificate is issued.
func TestUpsertExecScriptApexAndWildcard(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("needs curl for the hook script")
	}
	for _, tc := range []struct {
		name  string
		flags []string
		env   string
		code  int
	}{
		{name: "together", code: exitcode.DNS},
		{name: "--sequential", flags: []string{"--sequential"}, code: exitcode.OK},
		{name: "EXEC_SEQUENTIAL", env: "true", code: exitcode.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := testworld.Start(t)
			dir := t.TempDir()
			hook := filepath.Join(dir, "upsert.sh")
			if err := os.WriteFile(hook, []byte(upsertScript), 0o755); err != nil {
				t.Fatal(err)
			}
			log := filepath.Join(dir, "hook.log")
			t.Setenv("EXEC_PATH", hook)
			t.Setenv("EXEC_SEQUENTIAL", tc.env)
			t.Setenv("HOOK_LOG", log)
			t.Setenv("HOOK_STATE", t.TempDir())
			t.Setenv("API_CA", w.TLSRootFile)
			t.Setenv("API_URL", w.APIURL)
			t.Setenv("API_TOKEN", w.APIToken)
			args := append([]string{"issue", "--server", w.DirectoryURL, "--ca-cert", w.TLSRootFile, "--accept-tos",
				"--resolver", w.DoHURL, "--path", filepath.Join(dir, "state"), "--dns", "exec", "--timeout", "1m",
				"-d", "example.com", "-d", "*.example.com"}, tc.flags...)
			code, _, errs := runCLI(t, args...)
			calls, _ := os.ReadFile(log)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\nhook:\n%s", code, tc.code, errs, calls)
			}
			if tc.code != exitcode.OK {
				if !strings.Contains(errs, "no longer") || !strings.Contains(errs, "--sequential") {
					t.Errorf("the error does not name the fix:\n%s", errs)
				}
				return
			}
			// One value at a time: present, cleanup, present, cleanup.
			var actions []string
			for _, l := range strings.Split(strings.TrimSpace(string(calls)), "\n") {
				actions = append(actions, strings.Fields(l)[0])
			}
			if got := strings.Join(actions, " "); got != "present cleanup present cleanup" {
				t.Errorf("hook calls %q, want one value at a time", got)
			}
			if !strings.Contains(errs, "round 2") {
				t.Errorf("log does not say the second round:\n%s", errs)
			}
		})
	}
}
