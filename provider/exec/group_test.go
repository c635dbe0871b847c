//go:build unix

package exec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/redact"
)

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dns.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// dead reports whether pid is gone or a zombie (killed, not yet reaped).
func dead(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	f := strings.Fields(string(stat))
	return len(f) > 2 && (f[2] == "Z" || f[2] == "X")
}

// TestScriptWhoseChildHangsIsKilledAtTimeout: the DNS script starts a
// child that sleeps holding stderr; the provider used to wait for the pipe
// after killing the script. The group is killed at the timeout, the call
// fails naming it, and the child is gone.
func TestScriptWhoseChildHangsIsKilledAtTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	prog := script(t, "sleep 300 & echo $! > "+pidFile+"\nwait\n")
	p := &Provider{Program: prog, Timeout: 200 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "no answer within") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the provider still waits for the script's child")
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for i := 0; i < 100 && !dead(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !dead(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatal("the script's child survived the timeout")
	}
}

// TestScriptEchoingAKeyDoesNotLeakIt: strictacme's own credentials are
// not in the script's environment, and a key the script prints on stderr
// is replaced in the error that quotes its last line.
func TestScriptEchoingAKeyDoesNotLeakIt(t *testing.T) {
	const key = "namecheap-key-00112233445566"
	t.Setenv("NAMECHEAP_API_KEY", key)
	t.Setenv("SCRIPT_TOKEN", "script-own-token")
	redact.Add(key)
	envFile := filepath.Join(t.TempDir(), "env")
	prog := script(t, "env > "+envFile+"\necho \"denied for "+key+"\" >&2\nexit 4\n")
	p := &Provider{Program: prog}
	_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}})
	if err == nil || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "denied for "+redact.Mask) {
		t.Fatalf("err = %v", err)
	}
	env, _ := os.ReadFile(envFile)
	if strings.Contains(string(env), key) {
		t.Error("the script was given strictacme's API key")
	}
	if !strings.Contains(string(env), "SCRIPT_TOKEN=script-own-token") {
		t.Error("the script lost its own variables")
	}
}
