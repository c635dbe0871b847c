package store

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/strictacme/strictacme/internal/atomicfile"
)

// CopyCertificates copies the certificates folder of s (every certificate
// with its versions, links, metadata and renewal state) into the state
// directory to, which must exist: a dry run works on such a copy so that
// nothing it does reaches s. Files keep their permission bits, links their
// targets (relative, inside the folder). Nothing of s is written; a store
// without certificates copies nothing.
func (s *Store) CopyCertificates(to string) error {
	from := filepath.Join(s.Root, "certificates")
	if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	dest := filepath.Join(to, "certificates")
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dest, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return atomicfile.Symlink(link, target)
		case d.IsDir():
			return os.MkdirAll(target, 0o700)
		case d.Type().IsRegular():
			return copyFile(path, target, info.Mode().Perm())
		}
		return nil // neither file, folder nor link: not the store's
	})
}

func copyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
