package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// TestWaitingForABusyLockEndsAtTheDeadlineNamingTheHolder: renew --wait
// waited without limit and never said for whom. The wait ends when the
// context does, with ErrLocked naming the holder's pid and host; without
// wait the refusal names it too; released, the lock file names nobody.
func TestWaitingForABusyLockEndsAtTheDeadlineNamingTheHolder(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := st.Lock(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	want := "held by pid " + strconv.Itoa(os.Getpid()) + " on " + host + " since "

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = st.Lock(ctx, true)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "gave up waiting") {
		t.Fatalf("waiting: err = %v, want ErrLocked naming %q", err, want)
	}
	_, err = st.Lock(context.Background(), false)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), want) {
		t.Fatalf("not waiting: err = %v", err)
	}
	if h := st.LockHolder(); h.PID != os.Getpid() || h.Since.IsZero() {
		t.Errorf("holder %+v", h)
	}

	unlock()
	if b, _ := os.ReadFile(filepath.Join(st.Root, LockFile)); len(b) != 0 {
		t.Errorf("released lock file still says %q", b)
	}
	again, err := st.Lock(context.Background(), true)
	if err != nil {
		t.Fatalf("free lock: %v", err)
	}
	again()
}

// Opening the state directory under the run lock fails with the exit code
// of the situation: another run holds it (busy), the directory cannot be
// created, or a command that needs existing state finds none (usage).
func TestOpenLockedExitCodes(t *testing.T) {
	held := t.TempDir()
	st, err := Open(held)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := st.Lock(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		open     func(context.Context, string, bool) (*Store, func(), error)
		root     string
		code     int
		contains string
	}{
		{"new directory is created and locked", OpenLocked, filepath.Join(t.TempDir(), "new"), exitcode.OK, ""},
		{"another run holds the lock", OpenLocked, held, exitcode.Busy, "pass --wait"},
		{"another run holds the existing state", OpenExistingLocked, held, exitcode.Busy, "pass --wait"},
		{"directory cannot be created", OpenLocked, filepath.Join(file, "sub"), exitcode.Usage, "--path: "},
		{"existing state missing", OpenExistingLocked, filepath.Join(t.TempDir(), "missing"), exitcode.Usage, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, unlock, err := tt.open(context.Background(), tt.root, false)
			if exitcode.Of(err) != tt.code || (err != nil && !strings.Contains(err.Error(), tt.contains)) {
				t.Fatalf("err = %v (exit %d), want exit %d with %q", err, exitcode.Of(err), tt.code, tt.contains)
			}
			if err == nil {
				if st.Root != tt.root {
					t.Errorf("root %s", st.Root)
				}
				if h := st.LockHolder(); h.PID != os.Getpid() {
					t.Errorf("lock holder %+v", h)
				}
				unlock()
			}
		})
	}
}

// Without --path, root keeps its state under /var/lib and everyone else
// under the XDG state directory.
func TestDefaultPathByUser(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/srv/state")
	want := "/srv/state/strictacme"
	if os.Geteuid() == 0 {
		want = "/var/lib/strictacme"
	}
	if got := DefaultPath(); got != filepath.FromSlash(want) && got != want {
		t.Fatalf("DefaultPath() = %s, want %s", got, want)
	}
}
