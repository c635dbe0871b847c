package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/testworld"
)

// TestSIGINTMidOrderLeavesNothing runs the real binary, lets it write the
// challenge records, then sends SIGINT while it waits for propagation: it
// must remove the records, empty its journal, store nothing and exit 130.
func TestSIGINTMidOrderLeavesNothing(t *testing.T) {
	bin, err := exec.LookPath("strictacme") // installed in $PATH by testscript.Main
	if err != nil {
		t.Skip("strictacme test command not in $PATH:", err)
	}
	w := testworld.Start(t)
	state := t.TempDir()
	cmd := exec.Command(bin, "issue", "-d", "sigint.example.com", "-d", "*.sigint.example.com")
	cmd.Env = append(worldEnv(w, state),
		"STRICTACME_PROPAGATION=wait", "STRICTACME_PROPAGATION_WAIT=1h", "STRICTACME_TIMEOUT=2h")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for challengeTXT(w) < 2 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("records never written:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want status 130\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "strictacme: interrupted") {
		t.Errorf("the last line does not say the run was interrupted:\n%s", out.String())
	}
	if n := challengeTXT(w); n != 0 {
		t.Errorf("%d challenge record(s) left after SIGINT\n%s", n, out.String())
	}
	st := &store.Store{Root: state}
	if es, err := st.Journal().Entries(); err != nil || len(es) != 0 {
		t.Errorf("journal after SIGINT: %v, %v", es, err)
	}
	if names, _ := st.ListCertificates(); len(names) != 0 {
		t.Errorf("certificates stored: %v", names)
	}
}
