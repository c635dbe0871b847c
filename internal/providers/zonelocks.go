package providers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// ZoneLocks serialises a provider's changes to one zone: a change that
// reads an RRset (or a whole zone) and writes it back whole would lose
// another change's value if both ran at once. Keys are the provider's zone
// names or IDs.
//
// Inside the process the lock is per ZoneLocks value. With Dir set,
// LockContext also takes an flock(2) lock file per key in Dir
// (Dir/Prefix-KEY.lock; LockFileEx on Windows), so every process on the
// machine using the same Dir takes turns too: two runs with different
// state directories, a cron job beside a manual run. Lock files are left
// in place (removing one races with a process about to lock it).
//
// The zero value locks inside the process only; it is safe for concurrent
// use. Do not change Dir or Prefix after the first lock.
type ZoneLocks struct {
	// Dir holds the lock files; "" locks inside the process only.
	// DefaultLockDir is the machine-wide one.
	Dir string
	// Prefix starts each lock file's name: the provider's kind, so that
	// two kinds never wait for each other.
	Prefix string

	mu sync.Mutex
	m  map[string]chan struct{}
}

// lockPoll is how often a lock file held by another process is tried
// again.
const lockPoll = 10 * time.Millisecond

func (l *ZoneLocks) slot(key string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]chan struct{}{}
	}
	ch := l.m[key]
	if ch == nil {
		ch = make(chan struct{}, 1)
		l.m[key] = ch
	}
	return ch
}

// Lock waits until no other change to key runs in this process and
// returns its unlock. It takes no lock file: providers whose writes
// cannot lose another process's value (per-value API calls, or a write
// the API refuses when the RRset changed since it was read) use it.
func (l *ZoneLocks) Lock(key string) (unlock func()) {
	ch := l.slot(key)
	ch <- struct{}{}
	return func() { <-ch }
}

// LockContext waits until no other change to key runs, in this process
// and, with Dir set, in every process using Dir, and returns its unlock.
// Both waits end with ctx. The error is ctx's, or a *LockDirError when the
// lock file cannot be created or locked.
func (l *ZoneLocks) LockContext(ctx context.Context, key string) (unlock func(), err error) {
	ch := l.slot(key)
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if l.Dir == "" {
		return func() { <-ch }, nil
	}
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		<-ch
		return nil, &LockDirError{Dir: l.Dir, Err: pathErr(err)}
	}
	fl := flock.New(filepath.Join(l.Dir, l.FileName(key)))
	ok, err := fl.TryLockContext(ctx, lockPoll)
	if err != nil || !ok {
		<-ch
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &LockDirError{Dir: l.Dir, Err: pathErr(err)}
	}
	return func() {
		_ = fl.Unlock()
		<-ch
	}, nil
}

// FileName is the name of key's lock file in Dir: Prefix-KEY.lock, with
// the trailing dot of an absolute zone name dropped and every character
// other than a letter, digit, '.', '-' or '_' replaced by '_'.
func (l *ZoneLocks) FileName(key string) string {
	key = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, strings.ToLower(strings.TrimSuffix(key, ".")))
	if l.Prefix == "" {
		return key + ".lock"
	}
	return l.Prefix + "-" + key + ".lock"
}

// LockDirError is a zone lock that could not be taken because of its
// directory or file (not writable, not a directory). Providers add the
// setting that moves it.
type LockDirError struct {
	Dir string
	Err error
}

func (e *LockDirError) Error() string {
	return fmt.Sprintf("lock directory %s: %v", e.Dir, e.Err)
}

func (e *LockDirError) Unwrap() error { return e.Err }

func pathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
