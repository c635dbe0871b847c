//go:build !windows

package atomicfile

import (
	"os"

	"github.com/google/renameio/v2"
)

// WriteFile replaces the file at path with data, created with perm (before
// the umask). The directory must exist. Nothing of data is visible at path
// until all of it is on disk.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return renameio.WriteFile(path, data, perm)
}

// Symlink makes newname a symlink to oldname, replacing what newname was in
// one rename: a reader never finds newname missing.
func Symlink(oldname, newname string) error {
	return renameio.Symlink(oldname, newname)
}
