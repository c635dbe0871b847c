package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// Every command's --help ends with the exit codes it can return, from
// exitcode.Commands; every command is listed there and nothing else is.
func TestEachCommandHelpListsItsExitCodes(t *testing.T) {
	root := newRootCmd()
	seen := map[string]bool{"": true}
	check := func(name string, args ...string) {
		t.Helper()
		h := exitcode.Help(name)
		if h == "" {
			t.Errorf("command %q is not in exitcode.Commands", name)
			return
		}
		code, out, stderr := runCLI(t, append(args, "--help")...)
		if code != 0 {
			t.Fatalf("%v --help: exit %d: %s", args, code, stderr)
		}
		if !strings.Contains(out, strings.TrimRight(h, "\n")) {
			t.Errorf("%v --help lacks its exit codes:\n%s\nhelp:\n%s", args, h, out)
		}
	}
	check("")
	for _, c := range root.Commands() {
		seen[c.Name()] = true
		check(c.Name(), c.Name())
	}
	for name := range exitcode.Commands {
		if !seen[name] {
			t.Errorf("exitcode.Commands lists %q, which is no command", name)
		}
	}
}

// Each exit code a command's own file returns is in its list (the codes of
// the packages it calls are the list's business; this catches a code added
// in the command without its help).
func TestCommandFilesReturnOnlyListedCodes(t *testing.T) {
	byName := map[string]int{"OK": exitcode.OK, "Failure": exitcode.Failure, "Usage": exitcode.Usage, "CA": exitcode.CA,
		"DNS": exitcode.DNS, "Timeout": exitcode.Timeout, "Missing": exitcode.Missing, "Busy": exitcode.Busy,
		"Hook": exitcode.Hook, "State": exitcode.State, "Unreachable": exitcode.Unreachable, "Canceled": exitcode.Canceled}
	if len(byName) != len(exitcode.Codes) {
		t.Fatalf("the test knows %d codes, exitcode.Codes has %d", len(byName), len(exitcode.Codes))
	}
	use := regexp.MustCompile(`exitcode\.With\(exitcode\.(\w+)`)
	for name, codes := range exitcode.Commands {
		if name == "" || name == "completion" { // the root's and cobra's own
			continue
		}
		src, err := os.ReadFile(name + ".go")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, m := range use.FindAllStringSubmatch(string(src), -1) {
			if c, ok := byName[m[1]]; !ok || !slices.Contains(codes, c) {
				t.Errorf("%s.go returns exitcode.%s, which %q's help does not list", name, m[1], name)
			}
		}
	}
}

// strictacme without a command is a usage error that lists the commands.
func TestNoCommandIsAUsageError(t *testing.T) {
	code, out, stderr := runCLI(t)
	if code != exitcode.Usage || out != "" {
		t.Fatalf("exit %d, stdout %q; want %d and nothing on stdout", code, out, exitcode.Usage)
	}
	for _, want := range []string{"no command given", "  issue ", "  renew ", "  run "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// A CA that cannot be reached (nothing listens; a TLS certificate the
// client does not trust) exits Unreachable, not CA: nothing was refused.
func TestIssueAgainstUnreachableCA(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String() + "/dir"
	ln.Close()
	untrusted := httptest.NewUnstartedServer(http.NotFoundHandler())
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0)
	untrusted.StartTLS()
	defer untrusted.Close()
	t.Setenv("EXEC_PATH", "/bin/true")
	for _, tt := range []struct{ name, server, want string }{
		{"nothing listens", closed, "connection refused"},
		{"untrusted certificate", untrusted.URL + "/dir", "certificate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "issue", "--server", tt.server, "--accept-tos", "--path", t.TempDir(),
				"--resolver", "https://127.0.0.1:1/dns-query", "--dns", "exec", "-d", "a.example.com")
			if code != exitcode.Unreachable || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q; stderr:\n%s", code, exitcode.Unreachable, tt.want, stderr)
			}
		})
	}
}
