package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/strictacme/strictacme/internal/exitcode"
)

// ErrLocked is returned by Lock when another process holds the run lock.
var ErrLocked = errors.New("another strictacme run holds the lock")

// LockFile is the run lock's file in the state directory. While a run holds
// the lock, the file says who: "pid=N host=H since=RFC3339" on one line.
const LockFile = "lock"

// Holder is the process holding the run lock, as it wrote itself into
// LockFile. The zero Holder means unknown (an older strictacme, or the
// holder had not written yet).
type Holder struct {
	PID   int
	Host  string
	Since time.Time
}

// String says who holds the lock, e.g. "held by pid 4242 on web1 since
// 2026-12-02T22:00:00Z".
func (h Holder) String() string {
	if h.PID == 0 {
		return "holder unknown"
	}
	s := "held by pid " + strconv.Itoa(h.PID)
	if h.Host != "" {
		s += " on " + h.Host
	}
	if !h.Since.IsZero() {
		s += " since " + h.Since.UTC().Format(time.RFC3339)
	}
	return s
}

func (h Holder) line() string {
	return fmt.Sprintf("pid=%d host=%s since=%s\n", h.PID, h.Host, h.Since.UTC().Format(time.RFC3339))
}

func parseHolder(b []byte) Holder {
	var h Holder
	for _, f := range strings.Fields(string(b)) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "pid":
			h.PID, _ = strconv.Atoi(v)
		case "host":
			h.Host = v
		case "since":
			h.Since, _ = time.Parse(time.RFC3339, v)
		}
	}
	return h
}

// LockHolder reads who holds the run lock from LockFile.
func (s *Store) LockHolder() Holder {
	b, _ := os.ReadFile(filepath.Join(s.Root, LockFile))
	return parseHolder(b)
}

// Lock takes the run lock on the state directory: one issue/renew/run at a
// time per --path. With wait, it blocks until the lock is free or ctx ends
// (the caller bounds ctx by its --timeout); without, it fails at once. Both
// failures wrap ErrLocked and say who holds the lock. Once taken, the lock
// file names this process; the returned function empties it and releases
// the lock.
func (s *Store) Lock(ctx context.Context, wait bool) (func(), error) {
	path := filepath.Join(s.Root, LockFile)
	l := flock.New(path)
	var ok bool
	var err error
	start := time.Now()
	if wait {
		ok, err = l.TryLockContext(ctx, 250*time.Millisecond)
		if err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("%w on %s (%s); gave up waiting after %s", ErrLocked, s.Root, s.LockHolder(), time.Since(start).Round(time.Second))
		}
	} else {
		ok, err = l.TryLock()
	}
	if err != nil {
		return nil, fmt.Errorf("run lock %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w on %s (%s); wait for it to finish or pass --wait", ErrLocked, s.Root, s.LockHolder())
	}
	host, _ := os.Hostname()
	me := Holder{PID: os.Getpid(), Host: host, Since: time.Now()}
	// Best effort: the lock holds without the note.
	_ = os.WriteFile(path, []byte(me.line()), 0o600)
	return func() {
		_ = os.Truncate(path, 0)
		_ = l.Unlock()
	}, nil
}

// OpenLocked opens root with Open and takes its run lock with Lock: one
// issue/renew/revoke/account at a time per state directory. The errors
// carry exit codes and name --path: exitcode.Busy when another run holds
// the lock, exitcode.Usage when root cannot be created or locked (a
// read-only directory, say).
func OpenLocked(ctx context.Context, root string, wait bool) (*Store, func(), error) {
	st, err := Open(root)
	if err != nil {
		return nil, nil, exitcode.With(exitcode.Usage, fmt.Errorf("--path: %w", err))
	}
	return st.lockWithCode(ctx, wait)
}

// OpenExistingLocked is OpenLocked for commands that only work on state
// that exists (renew, revoke, account): a missing root is an error with
// exit code exitcode.Usage (see OpenExisting).
func OpenExistingLocked(ctx context.Context, root string, wait bool) (*Store, func(), error) {
	st, err := OpenExisting(root)
	if err != nil {
		return nil, nil, exitcode.With(exitcode.Usage, err)
	}
	return st.lockWithCode(ctx, wait)
}

func (s *Store) lockWithCode(ctx context.Context, wait bool) (*Store, func(), error) {
	unlock, err := s.Lock(ctx, wait)
	switch {
	case errors.Is(err, ErrLocked):
		return nil, nil, exitcode.With(exitcode.Busy, err)
	case err != nil && exitcode.Of(err) == exitcode.Failure:
		return nil, nil, exitcode.With(exitcode.Usage, fmt.Errorf("--path %s: %w", s.Root, err))
	case err != nil:
		return nil, nil, err
	}
	return s, unlock, nil
}
