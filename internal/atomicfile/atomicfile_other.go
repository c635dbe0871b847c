//go:build !windows

package atomicfile

import (
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// WriteFile replaces the file at path with data, created with perm (before
// the umask). The directory must exist. Nothing of data is visible at path
// until all of it is on disk. The temporary file is made in path's own
// folder, never in $TMPDIR (renameio's default when a rename from there
// works): private keys must not pass through a shared folder, and errors
// must name a path the caller knows.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return renameio.WriteFile(path, data, perm, renameio.WithTempDir(filepath.Dir(path)))
}

// Symlink makes newname a symlink to oldname, replacing what newname was in
// one rename: a reader never finds newname missing.
func Symlink(oldname, newname string) error {
	return renameio.Symlink(oldname, newname)
}

// WriteFileOwned is WriteFile for a file that others read: the file gets
// exactly perm (the umask does not apply) and, when uid or gid is not -1,
// that owner and group, all before it appears at path, so a reader never
// finds it with the wrong mode or group.
func WriteFileOwned(path string, data []byte, perm os.FileMode, uid, gid int) error {
	t, err := renameio.TempFile(filepath.Dir(path), path)
	if err != nil {
		return err
	}
	defer func() { _ = t.Cleanup() }()
	if _, err := t.Write(data); err != nil {
		return err
	}
	if err := t.Chmod(perm); err != nil {
		return err
	}
	if uid != -1 || gid != -1 {
		if err := t.Chown(uid, gid); err != nil {
			return err
		}
	}
	return t.CloseAtomicallyReplace()
}
