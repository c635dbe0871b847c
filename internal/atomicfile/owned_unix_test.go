//go:build unix

package atomicfile_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/strictacme/strictacme/internal/atomicfile"
)

// TestWriteFileOwnedReplacesWithModeAndGroup: a key installed for a
// service group replaces the old file with exactly mode 0640 and the
// group asked for, whatever mode the old file had, and leaves no
// temporary file.
func TestWriteFileOwnedReplacesWithModeAndGroup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.key")
	if err := os.WriteFile(path, []byte("old"), 0o666); err != nil {
		t.Fatal(err)
	}
	gid := os.Getgid()
	if groups, err := os.Getgroups(); err == nil && len(groups) > 1 {
		gid = groups[len(groups)-1]
	}
	if err := atomicfile.WriteFileOwned(path, []byte("new"), 0o640, -1, gid); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", info.Mode().Perm())
	}
	if st := info.Sys().(*syscall.Stat_t); int(st.Gid) != gid {
		t.Errorf("group %d, want %d", st.Gid, gid)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("content %q", b)
	}
	onlyEntries(t, dir, "web.key")
}
