// Package fileperm decides whether a file's mode bits say who may read it,
// for the checks that refuse a secret file others can read.
//
// On Windows they do not: access is governed by the file's NTFS access
// control list, usually inherited from its folder, and Go reports a mode
// made up from the read-only attribute alone (0666, or 0444 when read-only),
// whatever the ACL allows. A mode check there would refuse every file, so
// it is skipped; keeping a secret private is then the folder's ACL's job
// (a folder under the user's profile is private to that user).
package fileperm

import (
	"io/fs"
	"runtime"
)

// modeBitsEnforced reports whether file mode bits are the access control on
// goos (runtime.GOOS): false on Windows only.
func modeBitsEnforced(goos string) bool { return goos != "windows" }

// Exposed reports whether mode lets group or others read, write or run
// the file, on this system; always false where mode bits are not the
// access control (Windows).
func Exposed(mode fs.FileMode) bool { return exposed(runtime.GOOS, mode) }

func exposed(goos string, mode fs.FileMode) bool {
	return modeBitsEnforced(goos) && mode.Perm()&0o077 != 0
}
