package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// WriteFile replaces the file at path with data. The directory must exist.
// perm sets only the read-only attribute (no owner write bit): Windows file
// access is governed by the ACL inherited from the directory. Nothing of
// data is visible at path until all of it is flushed (FlushFileBuffers);
// os.Rename then replaces path with MoveFileEx(MOVEFILE_REPLACE_EXISTING).
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), perm); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// WriteFileOwned is WriteFile; Windows has no Unix owner and group, so
// uid or gid other than -1 is an error and nothing is written.
func WriteFileOwned(path string, data []byte, perm os.FileMode, uid, gid int) error {
	if uid != -1 || gid != -1 {
		return errors.New("owner and group cannot be set on Windows; leave them unset and use the folder's ACL")
	}
	return WriteFile(path, data, perm)
}

// Symlink makes newname a symlink to oldname. Creating a symlink on Windows
// needs SeCreateSymbolicLinkPrivilege (an administrator) or Developer Mode;
// without it this returns the error of os.Symlink. MoveFileEx cannot
// replace a directory symlink, so an existing newname that the rename
// cannot replace is removed first: a reader can find newname missing for
// that moment, unlike on Unix.
func Symlink(oldname, newname string) error {
	tmp := filepath.Join(filepath.Dir(newname), "."+filepath.Base(newname)+".tmp-symlink")
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Symlink(oldname, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, newname); err == nil {
		return nil
	}
	if err := os.Remove(newname); err != nil && !errors.Is(err, os.ErrNotExist) {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, newname); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
