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
