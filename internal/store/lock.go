package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// ErrLocked is returned by Lock when another process holds the run lock.
var ErrLocked = errors.New("another strictacme run holds the lock")

// Lock takes the run lock on the state directory: one issue/renew/run at a
// time per --path. With wait, it blocks until the lock is free or ctx ends;
// without, it fails at once with ErrLocked. The returned function releases it.
func (s *Store) Lock(ctx context.Context, wait bool) (func(), error) {
	path := filepath.Join(s.Root, "lock")
	l := flock.New(path)
	var ok bool
	var err error
	if wait {
		ok, err = l.TryLockContext(ctx, 250*time.Millisecond)
	} else {
		ok, err = l.TryLock()
	}
	if err != nil {
		return nil, fmt.Errorf("run lock %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w on %s; wait for it to finish or pass --wait", ErrLocked, s.Root)
	}
	return func() { _ = l.Unlock() }, nil
}
