package namecheap

import "github.com/strictacme/strictacme/internal/providers"

// DefaultLockDir is the directory of the zone lock files when
// Config.LockDir is empty: one for the whole machine
// (providers.DefaultLockDir), shared with the other providers that lock
// zones across processes. Runs as different users share a lock only
// through NAMECHEAP_LOCK_DIR. It creates nothing.
func DefaultLockDir() string { return providers.DefaultLockDir() }
