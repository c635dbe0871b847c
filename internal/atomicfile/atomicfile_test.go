package atomicfile_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/atomicfile"
)

// onlyEntries fails unless dir holds exactly names: no temporary file is
// left behind by a replacement.
func onlyEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("directory holds %q, want %q", got, names)
	}
	for i := range names {
		if got[i] != names[i] {
			t.Fatalf("directory holds %q, want %q", got, names)
		}
	}
}

func TestWriteFileReplacesExistingContentAndLeavesNoTemporary(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := atomicfile.WriteFile(path, []byte("old, and longer than the new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(path, []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "new\n" {
		t.Fatalf("content %q, want %q", got, "new\n")
	}
	onlyEntries(t, dir, "state.json")
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600 for a private file", fi.Mode().Perm())
		}
	}
}

func TestWriteFileInMissingDirectoryFailsWithoutCreatingIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	if err := atomicfile.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err == nil {
		t.Fatal("WriteFile into a missing directory succeeded")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory %s: %v, want it still absent", dir, err)
	}
}

func TestSymlinkSwitchesAnExistingDirectoryLink(t *testing.T) {
	base := t.TempDir()
	for _, v := range []string{"1", "2"} {
		if err := os.MkdirAll(filepath.Join(base, "versions", v), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, "versions", v, "cert.pem"), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	current := filepath.Join(base, "current")
	for _, v := range []string{"1", "2"} {
		if err := atomicfile.Symlink(filepath.Join("versions", v), current); err != nil {
			if runtime.GOOS == "windows" {
				t.Skipf("creating a symlink needs SeCreateSymbolicLinkPrivilege or Developer Mode: %v", err)
			}
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(current, "cert.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != v {
			t.Fatalf("current/cert.pem reads %q, want %q after switching to versions/%s", got, v, v)
		}
	}
	onlyEntries(t, base, "current", "versions")
}

// A private key written under a state directory never passes through
// $TMPDIR, a folder other users share: the temporary file is made next to
// its target. A rename onto a non-empty folder fails and names the
// temporary file, which shows where it was.
func TestTemporaryFileIsMadeInTheTargetsFolderNotTMPDIR(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows replaces files in place through its own API")
	}
	shared := t.TempDir()
	t.Setenv("TMPDIR", shared)
	dir := t.TempDir()
	target := filepath.Join(dir, "privkey.pem")
	if err := os.MkdirAll(filepath.Join(target, "occupied"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, write := range []struct {
		name string
		fn   func() error
	}{
		{"WriteFile", func() error { return atomicfile.WriteFile(target, []byte("key"), 0o600) }},
		{"WriteFileOwned", func() error { return atomicfile.WriteFileOwned(target, []byte("key"), 0o600, -1, -1) }},
	} {
		err := write.fn()
		if err == nil {
			t.Fatalf("%s onto a non-empty folder succeeded", write.name)
		}
		if !strings.Contains(err.Error(), dir+string(filepath.Separator)+".privkey.pem") {
			t.Errorf("%s: error %q does not name a temporary file in %s", write.name, err, dir)
		}
		onlyEntries(t, shared)
	}
	onlyEntries(t, dir, "privkey.pem")
}
