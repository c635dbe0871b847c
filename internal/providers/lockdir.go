package providers

import (
	"fmt"
	"os"
	"path/filepath"
)

// SystemLockDirs are the machine-wide lock directories tried, in order,
// when running as root (FHS 3.0 §5.9 and §3.15: /run/lock, formerly
// /var/lock).
var SystemLockDirs = []string{"/run/lock", "/var/lock"}

// DefaultLockDir is the directory of the zone lock files (ZoneLocks.Dir)
// when a provider's lock directory setting is empty. The lock is per
// machine, not per state directory, so that every run on the machine
// takes turns on a zone:
//
//   - as root: <d>/strictacme for the first d of /run/lock and /var/lock
//     that is a directory (the lock creates it, mode 0700);
//   - otherwise, and as a fallback: <user cache dir>/strictacme/locks
//     (os.UserCacheDir: $XDG_CACHE_HOME or ~/.cache on Linux), which is the
//     same for a user's cron jobs, services and shells;
//   - with no home directory, or one that cannot be written (a service
//     user such as nobody): <temp dir>/strictacme-<uid>/locks.
//
// $XDG_RUNTIME_DIR is not used: cron jobs and services usually run without
// it, so two runs of one user could pick different directories. Runs as
// different users share a lock only through a provider's lock directory
// setting. It creates the directory it picks (mode 0700): that is how it
// knows the directory can be used.
//
// Windows has no uid (os.Geteuid is -1) and no /run/lock: every account
// gets %LOCALAPPDATA%\strictacme\locks (os.UserCacheDir), else
// <temp dir>\strictacme\locks, its temp dir being per user. A machine-wide
// folder under %ProgramData% is not used: any local user could create it
// first, own it and hold the locks.
func DefaultLockDir() string {
	return defaultLockDir(os.Geteuid(), SystemLockDirs, os.UserCacheDir, func(d string) bool { return os.MkdirAll(d, 0o700) == nil })
}

// defaultLockDir is DefaultLockDir with its inputs given; usable creates a
// candidate directory and reports whether that worked. The temp directory
// is the last resort, returned whatever usable says (the lock then
// reports why it cannot be used).
func defaultLockDir(euid int, system []string, cacheDir func() (string, error), usable func(string) bool) string {
	if euid == 0 {
		for _, d := range system {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() && usable(filepath.Join(d, "strictacme")) {
				return filepath.Join(d, "strictacme")
			}
		}
	}
	if dir, err := cacheDir(); err == nil && dir != "" && usable(filepath.Join(dir, "strictacme", "locks")) {
		return filepath.Join(dir, "strictacme", "locks")
	}
	if euid < 0 {
		return filepath.Join(os.TempDir(), "strictacme", "locks")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("strictacme-%d", euid), "locks")
}
