package hooks

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
)

func TestDeployHookSeesItsEnvironment(t *testing.T) {
	var out bytes.Buffer
	r := Runner{Output: &out}
	c := Cert{
		Name: "example.com", Domains: []string{"example.com", "*.example.com"}, Dir: "/state/certificates/example.com",
		Serial: "0abc", NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Renewed: true,
	}
	err := r.Run(context.Background(), Deploy, c.Name, `echo "$STRICTACME_CERT_NAME|$STRICTACME_DOMAINS|$STRICTACME_FULLCHAIN_PATH|$STRICTACME_KEY_PATH|$STRICTACME_SERIAL|$STRICTACME_NOT_AFTER|$STRICTACME_RENEWED"`, DeployEnv(c))
	if err != nil {
		t.Fatal(err)
	}
	want := "example.com|example.com *.example.com|/state/certificates/example.com/fullchain.pem|/state/certificates/example.com/privkey.pem|0abc|2026-04-01T00:00:00Z|true\n"
	if out.String() != want {
		t.Errorf("hook saw %q, want %q", out.String(), want)
	}
}

func TestFailingHookReportsItsExitCode(t *testing.T) {
	err := Runner{}.Run(context.Background(), Deploy, "example.com", "exit 3", nil)
	var he *Error
	if !errors.As(err, &he) || he.ExitCode != 3 {
		t.Fatalf("err = %v, want a hook error with status 3", err)
	}
	if exitcode.Of(err) != exitcode.Hook {
		t.Errorf("exit code %d, want Hook", exitcode.Of(err))
	}
	if got := err.Error(); got != "deploy hook for example.com exited with status 3" {
		t.Errorf("message %q", got)
	}
}

func TestHookCommandLineNotInErrors(t *testing.T) {
	err := Runner{}.Run(context.Background(), Post, "", "SECRET=hunter2; exit 1", nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v; the command line must not be echoed", err)
	}
}

func TestHookTimeout(t *testing.T) {
	// The hook would run for a minute; the 50 ms deadline kills it.
	err := Runner{Timeout: 50 * time.Millisecond}.Run(context.Background(), Pre, "", "exec sleep 60", nil)
	var he *Error
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestEmptyHookDoesNothing(t *testing.T) {
	if err := (Runner{}).Run(context.Background(), Pre, "", "  ", nil); err != nil {
		t.Fatal(err)
	}
}

func TestRunEnv(t *testing.T) {
	env := strings.Join(RunEnv(Post, []string{"a", "b"}, []string{"a"}, []string{"b"}), "\n")
	for _, want := range []string{"STRICTACME_HOOK=post", "STRICTACME_DUE_CERTS=a b", "STRICTACME_RENEWED_CERTS=a", "STRICTACME_FAILED_CERTS=b"} {
		if !strings.Contains(env, want) {
			t.Errorf("missing %s in %s", want, env)
		}
	}
}

// --hook-env names environment variables: a name with a space, "=", a
// leading digit or nothing before "*" would pass nothing, so it is
// refused; names and NAME* prefixes are accepted.
func TestHookEnvNamesAreVariableNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"MY_TOKEN": true, "_x1": true, "LC_*": true, "AWS*": true, "lower": true,
		"A B": false, "A=B": false, "1ABC": false, "*": false, "": false, "A-B": false, "A*B": false, "A**": false,
	} {
		err := CheckPassEnv(name)
		if (err == nil) != ok {
			t.Errorf("CheckPassEnv(%q) = %v; want accepted %v", name, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "not an environment variable name; give letters, digits and _") {
			t.Errorf("CheckPassEnv(%q) = %v; want the fix named", name, err)
		}
	}
}
