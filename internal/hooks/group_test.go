//go:build unix

package hooks

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/redact"
)

// groupGone reports whether the process pid is gone or a zombie waiting to
// be reaped, i.e. killed.
func groupGone(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	f := strings.Fields(string(stat))
	return len(f) > 2 && (f[2] == "Z" || f[2] == "X")
}

func waitGone(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// The kill is sent before Run returns; reaping by init may lag.
	for i := 0; i < 100 && !groupGone(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !groupGone(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("the hook's child %d is still running", pid)
	}
}

// TestHookWhoseChildHangsIsKilledAtTimeout: the hook starts a child that
// sleeps and holds the output pipe; killing only the shell left the run
// waiting for the pipe past --hook-timeout. The whole group dies at the
// timeout and Run returns a timeout error.
func TestHookWhoseChildHangsIsKilledAtTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	r := Runner{Timeout: 100 * time.Millisecond, Output: &bytes.Buffer{}, WaitDelay: 100 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		done <- r.Run(context.Background(), Deploy, "example.com", "sleep 300 & echo $! > "+pidFile+"; wait", nil)
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "timed out") || exitcode.Of(err) != exitcode.Hook {
			t.Fatalf("err = %v, want a hook timeout", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run still waits for the hook's child")
	}
	waitGone(t, pidFile)
}

// TestHookWhoseChildHangsIsKilledOnCancel: SIGTERM to strictacme cancels
// the run's context; the hook and the child holding its pipe both die.
func TestHookWhoseChildHangsIsKilledOnCancel(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Runner{Output: &bytes.Buffer{}, WaitDelay: 100 * time.Millisecond}.Run(ctx, Post, "",
			"(trap '' TERM; sleep 300) & echo $! > "+pidFile+".tmp; mv "+pidFile+".tmp "+pidFile+"; wait", nil)
	}()
	for i := 0; i < 500; i++ {
		if _, err := os.Stat(pidFile); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a cancelled hook reported success")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run still waits for the hook's child")
	}
	waitGone(t, pidFile)
}

// TestHookLeavingABackgroundChildSucceeds: a hook that exits 0 but leaves
// a child holding its output (a daemon started without redirecting) is a
// success once the bounded wait is over, with a line saying so.
func TestHookLeavingABackgroundChildSucceeds(t *testing.T) {
	var out bytes.Buffer
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	err := Runner{Output: &out, WaitDelay: 100 * time.Millisecond}.Run(context.Background(), Deploy, "example.com",
		"sleep 300 & echo $! > "+pidFile+"; exit 0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "kept its output open") {
		t.Errorf("output: %q", out.String())
	}
	b, _ := os.ReadFile(pidFile)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// TestHookGetsOnlyTheVariablesItNeeds: strictacme's credentials
// (NAMECHEAP_API_KEY, the EAB key) are not in a hook's environment, PATH
// and the STRICTACME_* hook variables are, a variable listed to pass
// through is, and a listed variable holding a known secret is not; a key
// the hook prints anyway is redacted in its output.
func TestHookGetsOnlyTheVariablesItNeeds(t *testing.T) {
	const key = "nc-key-0123456789abcdef"
	t.Setenv("NAMECHEAP_API_KEY", key)
	t.Setenv("STRICTACME_EAB_HMAC_KEY", "eab-hmac-zyxwvutsrqponm")
	t.Setenv("DEPLOY_TARGET", "web1")
	t.Setenv("LEAKY", key)
	redact.Add(key)
	var out bytes.Buffer
	r := Runner{Output: &out, PassEnv: []string{"DEPLOY_TARGET", "LEAKY"}}
	err := r.Run(context.Background(), Pre, "", "env; echo key=$NAMECHEAP_API_KEY; echo "+key+" >&2", RunEnv(Pre, []string{"a"}, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"PATH=", "STRICTACME_HOOK=pre", "STRICTACME_DUE_CERTS=a", "DEPLOY_TARGET=web1", "key=\n", redact.Mask} {
		if !strings.Contains(got, want) {
			t.Errorf("hook output lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{key, "NAMECHEAP_API_KEY=", "STRICTACME_EAB_HMAC_KEY", "eab-hmac", "LEAKY="} {
		if strings.Contains(got, bad) {
			t.Errorf("hook output holds %q:\n%s", bad, got)
		}
	}
}
