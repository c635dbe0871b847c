//go:build unix

package deploy

import (
	"os"
	"strconv"
	"syscall"
	"testing"
)

func statModeGroup(t *testing.T, path string) (os.FileMode, int) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm(), int(info.Sys().(*syscall.Stat_t).Gid)
}

func itoa(i int) string { return strconv.Itoa(i) }
