package deploy

import (
	"os"
	"strconv"
	"testing"
)

func statModeGroup(t *testing.T, path string) (os.FileMode, int) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm(), -1
}

func itoa(i int) string { return strconv.Itoa(i) }
