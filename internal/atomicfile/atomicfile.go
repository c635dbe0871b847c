// Package atomicfile replaces files and symlinks so that a reader, or a
// crash at any point, sees either the old or the new content, never a mix.
//
// On Unix it is github.com/google/renameio/v2: a temporary file in the same
// directory, fsync, rename(2). renameio has no Windows implementation, so
// on Windows the same steps use os.Rename, which is MoveFileEx with
// MOVEFILE_REPLACE_EXISTING: the file's replacement is atomic there too,
// but the directory entry is not fsynced (Windows has no directory fsync)
// and Symlink is not atomic (see Symlink).
package atomicfile
