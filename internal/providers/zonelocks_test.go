package providers

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Many read-modify-write cycles on one zone at once lose no update, and a
// lock held on one zone does not hold up another.
func TestZoneLocksSerialiseOneZoneAndLeaveOthersFree(t *testing.T) {
	var l ZoneLocks
	held := l.Lock("example.org.")
	l.Lock("example.net.")() // would deadlock if zones shared a lock

	const cycles = 200
	n := 0
	var wg sync.WaitGroup
	for range cycles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer l.Lock("example.com.")()
			v := n
			runtime.Gosched()
			n = v + 1
		}()
	}
	wg.Wait()
	held()
	if n != cycles {
		t.Errorf("%d of %d cycles kept their update", n, cycles)
	}
}

// Two ZoneLocks values on one directory (two processes, or two providers
// in one) take turns on a zone through its lock file; a wait ends with
// its context, and other zones and kinds are never held up.
func TestZoneLocksShareALockDirectory(t *testing.T) {
	dir := t.TempDir()
	a := &ZoneLocks{Dir: dir, Prefix: "powerdns"}
	b := &ZoneLocks{Dir: dir, Prefix: "powerdns"}
	other := &ZoneLocks{Dir: dir, Prefix: "desec"}
	unlock, err := a.LockContext(context.Background(), "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.LockContext(ctx, "example.com."); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second holder of example.com.: %v, want the context's deadline", err)
	}
	for _, l := range []struct {
		locks *ZoneLocks
		zone  string
	}{{b, "example.net."}, {other, "example.com."}} {
		u, err := l.locks.LockContext(context.Background(), l.zone)
		if err != nil {
			t.Fatalf("%s %s: %v", l.locks.Prefix, l.zone, err)
		}
		u()
	}
	unlock()
	u, err := b.LockContext(context.Background(), "example.com.")
	if err != nil {
		t.Fatalf("after the first unlock: %v", err)
	}
	u()
	if _, err := os.Stat(filepath.Join(dir, "powerdns-example.com.lock")); err != nil {
		t.Errorf("lock file: %v", err)
	}
}

// A lock directory that cannot be created is a *LockDirError naming it.
func TestZoneLockDirectoryNotWritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l := &ZoneLocks{Dir: filepath.Join(file, "locks"), Prefix: "desec"}
	_, err := l.LockContext(context.Background(), "example.com.")
	var de *LockDirError
	if !errors.As(err, &de) || de.Dir != l.Dir || !strings.Contains(err.Error(), l.Dir) {
		t.Fatalf("%v, want a *LockDirError naming %s", err, l.Dir)
	}
	// The in-process lock was given back.
	l.Dir = ""
	u, err := l.LockContext(context.Background(), "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	u()
}

func TestZoneLockFileNames(t *testing.T) {
	l := &ZoneLocks{Prefix: "namecheap"}
	for in, want := range map[string]string{
		"example.com":         "namecheap-example.com.lock",
		"Example.COM.":        "namecheap-example.com.lock",
		"../etc/passwd":       "namecheap-.._etc_passwd.lock",
		"Z0123456789ABCDEFGH": "namecheap-z0123456789abcdefgh.lock",
	} {
		if got := l.FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
}
