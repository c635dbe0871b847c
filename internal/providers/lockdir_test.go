package providers

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultLockDirIsPerMachine(t *testing.T) {
	sys1, sys2, cache, file := t.TempDir(), t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	withCache := func() (string, error) { return cache, nil }
	noCache := func() (string, error) { return "", errors.New("$HOME is not defined") }
	readOnly := filepath.Join(t.TempDir(), "read-only-home", ".cache")
	readOnlyCache := func() (string, error) { return readOnly, nil }
	if err := os.MkdirAll(readOnly, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		euid   int
		system []string
		cache  func() (string, error)
		want   string
	}{
		"a service user whose home cannot be written uses a per-user temp dir": {65534, nil, readOnlyCache, filepath.Join(os.TempDir(), "strictacme-65534", "locks")},
		"root skips a system lock directory it cannot write":                   {0, []string{filepath.Join(readOnly, ".."), sys2}, withCache, filepath.Join(sys2, "strictacme")},
		"root uses the first system lock directory":                            {0, []string{sys1, sys2}, withCache, filepath.Join(sys1, "strictacme")},
		"root skips a missing system lock directory":                           {0, []string{filepath.Join(sys1, "missing"), sys2}, withCache, filepath.Join(sys2, "strictacme")},
		"root skips a file where a directory should be":                        {0, []string{file}, withCache, filepath.Join(cache, "strictacme", "locks")},
		"a user uses the user cache directory":                                 {1000, []string{sys1}, withCache, filepath.Join(cache, "strictacme", "locks")},
		"a user without a home uses a per-user temp dir":                       {1000, nil, noCache, filepath.Join(os.TempDir(), "strictacme-1000", "locks")},
		// Windows: os.Geteuid is -1 for every account, the cache dir is %LOCALAPPDATA%.
		"a Windows account uses its local app data":       {-1, []string{sys1}, withCache, filepath.Join(cache, "strictacme", "locks")},
		"a Windows account without one uses its temp dir": {-1, []string{sys1}, noCache, filepath.Join(os.TempDir(), "strictacme", "locks")},
	} {
		t.Run(name, func(t *testing.T) {
			// Nothing is created outside the test's directories: a
			// candidate is usable unless it lies under readOnly's parent
			// or is the real temp directory's.
			usable := func(d string) bool {
				return !strings.HasPrefix(d, filepath.Dir(readOnly)) && !strings.HasPrefix(d, os.TempDir()+string(filepath.Separator)+"strictacme")
			}
			if got := defaultLockDir(tc.euid, tc.system, tc.cache, usable); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}
