package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/redact"
)

// jsonLines parses every line of stderr as one JSON object holding time,
// level and msg, as --log-format json promises.
func jsonLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, l)
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := rec[k].(string); !ok {
				t.Fatalf("log line without %q: %s", k, l)
			}
		}
		out = append(out, rec)
	}
	return out
}

func TestLogFormatJSONWritesOneObjectPerLineForAWholeSandboxRun(t *testing.T) {
	code, out, errs := runCLI(t, "sandbox", "--path", t.TempDir(), "-d", "example.com", "--log-format", "json")
	if code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "certificate for example.com") {
		t.Errorf("stdout lost its summary: %q", out)
	}
	recs := jsonLines(t, errs)
	var cleaned bool
	for _, r := range recs {
		cleaned = cleaned || strings.Contains(r["msg"].(string), "cleaned up")
	}
	if len(recs) < 3 || !cleaned {
		t.Errorf("the run's log lines are missing from the JSON log:\n%s", errs)
	}
}

func TestQuietSandboxRunPrintsNothingUnlessItFails(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "sandbox", "--quiet", "--path", dir, "-d", "example.com")
	if code != exitcode.OK || out != "" || errs != "" {
		t.Fatalf("--quiet success: exit %d, stdout %q, stderr %q; want exit 0 and nothing", code, out, errs)
	}
	// The same run failing: its state directory would be under a file.
	code, out, errs = runCLI(t, "sandbox", "--quiet", "--path", filepath.Join(dir, "certificates", "example.com", "fullchain.pem", "x"), "-d", "example.com")
	if code == exitcode.OK || out != "" || !strings.HasPrefix(errs, "strictacme: ") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("--quiet failure: exit %d, stdout %q, stderr %q; want the error line alone", code, out, errs)
	}
}

func TestSecretInAnErrorIsRedactedInTheJSONLog(t *testing.T) {
	const secret = "eabsecret-0123456789abcdef"
	t.Setenv(envName("eab-hmac-key"), secret)
	// A secret pasted into the wrong flag is quoted by its error.
	code, _, errs := runCLI(t, "renew", "--path", t.TempDir(), "--log-format", "json", "--log-level", secret)
	if code != exitcode.Usage {
		t.Fatalf("exit %d, want %d: %s", code, exitcode.Usage, errs)
	}
	if strings.Contains(errs, secret) {
		t.Fatalf("secret in the log: %s", errs)
	}
	recs := jsonLines(t, errs)
	if len(recs) != 1 || recs[0]["level"] != "ERROR" || !strings.Contains(recs[0]["msg"].(string), "--log-level \""+redact.Mask+"\"") {
		t.Fatalf("want one ERROR record quoting the value redacted, got:\n%s", errs)
	}
}

// --quiet silences summaries, not answers: list still prints its table
// (and check its rows, FAIL ones above all), so a cron mail shows what
// failed.
func TestQuietKeepsTheAnswerOfList(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "list", "--quiet", "--path", dir)
	if code != 0 || !strings.Contains(stdout, "no certificates stored") || stderr != "" {
		t.Fatalf("list --quiet: exit %d, stdout %q, stderr %q; want the answer on stdout and nothing else", code, stdout, stderr)
	}
}

// --log-level WARN, as slog prints the level, is accepted like warn:
// info lines are left out and the command runs.
func TestLogLevelGivenInUpperCase(t *testing.T) {
	code, stdout, stderr := runCLI(t, "--log-level", "WARN", "list", "--path", t.TempDir())
	if code != exitcode.OK || strings.Contains(stderr, "log-level") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	t.Setenv("STRICTACME_LOG_LEVEL", "Error")
	if code, _, stderr := runCLI(t, "list", "--path", t.TempDir()); code != exitcode.OK {
		t.Fatalf("STRICTACME_LOG_LEVEL=Error: exit %d\n%s", code, stderr)
	}
}
