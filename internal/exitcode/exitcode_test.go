package exitcode

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mholt/acmez/v3/acme"
)

// A CA that cannot be reached at all (refused connection, a name that does
// not resolve, a TLS handshake the client refuses) is Unreachable; a CA
// that answered, even with garbage or a refusal, is CA.
func TestUnreachedCAIsNotARefusal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/dir"
	ln.Close()
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	get := func(c *http.Client, u string) error {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"connection refused", get(http.DefaultClient, closed), Unreachable},
		{"untrusted certificate", get(&http.Client{Transport: &http.Transport{}}, tlsSrv.URL), Unreachable},
		{"name does not resolve", fmt.Errorf("attempt 1: %w", &net.DNSError{Err: "no such host", Name: "ca.invalid", IsNotFound: true}), Unreachable},
		{"unknown authority", x509.UnknownAuthorityError{}, Unreachable},
		{"problem document", acme.Problem{Type: acme.ProblemTypeRateLimited, Status: 429}, CA},
		{"not ACME", errors.New("HTTP 200: JSON-decoding response body: invalid character '<'"), CA},
		{"closed without an answer", fmt.Errorf("performing request: %w", errors.New("EOF")), CA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error to classify")
			}
			if got := Of(FromCA(tt.err)); got != tt.want {
				t.Errorf("FromCA(%v) has code %d, want %d", tt.err, got, tt.want)
			}
		})
	}
	if FromCA(nil) != nil {
		t.Error("FromCA(nil) is not nil")
	}
}

// Every command's codes are in Codes, and its help section lists exactly
// them, each once.
func TestHelpListsEachCodeOfTheCommand(t *testing.T) {
	known := map[int]bool{}
	for _, m := range Codes {
		known[m.Code] = true
	}
	line := regexp.MustCompile(`(?m)^\s+(\d+)  `)
	for cmd, codes := range Commands {
		h := Help(cmd)
		var listed []int
		for _, m := range line.FindAllStringSubmatch(h, -1) {
			n, _ := strconv.Atoi(m[1])
			listed = append(listed, n)
		}
		if fmt.Sprint(listed) != fmt.Sprint(codes) {
			t.Errorf("%q: help lists %v, Commands says %v", cmd, listed, codes)
		}
		for _, c := range codes {
			if !known[c] {
				t.Errorf("%q: code %d has no meaning in Codes", cmd, c)
			}
		}
	}
}

// README.md's table of exit codes is Codes: every code, in order, each
// row starting with its meaning (details may follow).
func TestReadmeTableIsCodes(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	row := regexp.MustCompile(`^\| (\d+) \| (.*) \|$`)
	for _, l := range strings.Split(string(data), "\n") {
		if m := row.FindStringSubmatch(l); m != nil {
			rows = append(rows, m[1]+" "+strings.ReplaceAll(m[2], "`", ""))
		}
	}
	if len(rows) != len(Codes) {
		t.Fatalf("README.md has %d exit code rows, Codes %d:\n%s", len(rows), len(Codes), strings.Join(rows, "\n"))
	}
	for i, m := range Codes {
		if want := strconv.Itoa(m.Code) + " " + m.Text; !strings.HasPrefix(rows[i], want) {
			t.Errorf("README.md row %d:\n%s\nwant it to start with (from Codes):\n%s", i+1, rows[i], want)
		}
	}
}

// TestFinalCodeOfACommandLine pins the code of a command line's last
// error: the library's argument errors are usage, an interrupted run is
// canceled whatever failed, and a bare context.Canceled is said as the
// interruption.
func TestFinalCodeOfACommandLine(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		interrupted bool
		code        int
		msg         string
	}{
		{"unknown flag", errors.New("unknown flag: --bogus"), false, Usage, "unknown flag: --bogus"},
		{"plain failure", errors.New("disk full"), false, Failure, "disk full"},
		{"coded", With(DNS, errors.New("no resolver answered")), false, DNS, "no resolver answered"},
		{"interrupted order", With(CA, context.Canceled), true, Canceled, "interrupted (SIGINT or SIGTERM)"},
		{"interrupted other", With(DNS, errors.New("timeout")), true, Canceled, "interrupted (SIGINT or SIGTERM): timeout"},
	}
	for _, tt := range tests {
		code, err := Final(tt.err, tt.interrupted)
		if code != tt.code || err.Error() != tt.msg {
			t.Errorf("%s: got %d %q, want %d %q", tt.name, code, err, tt.code, tt.msg)
		}
	}
}

// Whatever a step cut short by SIGINT returned (a provider script killed
// with the process, the bare "context canceled"), the run's error is the
// interrupt: exit code Canceled, a message that says "interrupted"; a
// --timeout (DeadlineExceeded) and a run not interrupted keep their error.
func TestInterruptClassifiesWhatFailedAfterSIGINT(t *testing.T) {
	interrupted, cancel := context.WithCancel(context.Background())
	cancel()
	timedOut, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	script := With(DNS, errors.New("exec: present: exit status -1"))
	for _, tt := range []struct {
		name string
		ctx  context.Context
		err  error
		code int
		msg  string
	}{
		{"a killed provider script", interrupted, script, Canceled, "interrupted (SIGINT or SIGTERM): exec: present: exit status -1"},
		{"the bare context error", interrupted, context.Canceled, Canceled, "interrupted (SIGINT or SIGTERM)"},
		{"a wait stopped by the interrupt", interrupted, fmt.Errorf("propagation: wait: %w", context.Canceled), Canceled, "interrupted (SIGINT or SIGTERM): propagation: wait"},
		{"already classified", interrupted, With(Canceled, ErrInterrupted), Canceled, "interrupted (SIGINT or SIGTERM)"},
		{"a timeout is not an interrupt", timedOut, script, DNS, "exec: present: exit status -1"},
		{"no interrupt", context.Background(), script, DNS, "exec: present: exit status -1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Interrupt(tt.ctx, tt.err)
			if Of(err) != tt.code || err.Error() != tt.msg {
				t.Errorf("Interrupt = %q (exit %d), want %q (exit %d)", err, Of(err), tt.msg, tt.code)
			}
		})
	}
	if Interrupt(interrupted, nil) != nil {
		t.Error("nil became an error")
	}
}

// strictacme --help lists what the root returns and points to the lists of
// the commands, naming every other code; sandbox lists State (a damaged
// journal); completion lists what cobra's command returns.
func TestRootSandboxAndCompletionHelp(t *testing.T) {
	root := Help("")
	if !strings.Contains(root, "Each command's --help lists the codes it can return, of these and 1, 3, 4, 5, 6, 7, 8, 9, 10, 130.") {
		t.Errorf("root help:\n%s", root)
	}
	if !strings.Contains(Help("sandbox"), fmt.Sprintf("%3d  %s", State, Codes[State].Text)) {
		t.Errorf("sandbox help lacks code %d:\n%s", State, Help("sandbox"))
	}
	if c := Help("completion"); !strings.Contains(c, "  0  ") || !strings.Contains(c, "  2  ") {
		t.Errorf("completion help:\n%s", c)
	}
}
