// Package store keeps strictacme's state under one directory (--path):
// ACME accounts, certificates, the journal of challenge records to clean up,
// and the run lock. Every file is written atomically (internal/atomicfile)
// and private keys are 0600, so a crash at any point leaves either the old or
// the new content, never a mix.
//
// Layout:
//
//	<root>/accounts/<ca>/<account-name>/account.json   registration (URL, contact, CA)
//	<root>/accounts/<ca>/<account-name>/account.key    PKCS#8 PEM, 0600
//	<root>/certificates/<name>/versions/<serial>/      one issued certificate, complete
//	<root>/certificates/<name>/current                 symlink to the live version
//	<root>/certificates/<name>/{privkey,cert,chain,fullchain}.pem, metadata.json
//	                                                   symlinks through current
//	                                                   (request.csr instead of
//	                                                   privkey.pem for a
//	                                                   certificate of the
//	                                                   operator's CSR)
//	<root>/journal.json                                challenge records not yet cleaned up
//	<root>/lock                                        held by a running issue/renew
package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/strictacme/strictacme/internal/atomicfile"
)

// Store is a state directory. The zero value is not usable; call Open.
// Methods are safe for concurrent use by one process; the run lock (Lock)
// keeps other processes out.
type Store struct {
	Root string
}

// DefaultPath is the state directory used when none is given: for root
// /var/lib/strictacme, else $XDG_STATE_HOME/strictacme, else
// ~/.local/state/strictacme, else ./strictacme-state when there is no home
// directory.
//
// On Windows it is %LOCALAPPDATA%\strictacme for every account (for
// LocalSystem, the system profile's). Not %ProgramData%: its subfolders
// inherit read access for every local user, so account and certificate keys
// there would be readable by all of them, and 0600 means nothing on Windows;
// a folder under the user's profile inherits an ACL that admits only the
// user, SYSTEM and administrators. Not %APPDATA% either: roaming profiles
// copy it to other machines.
func DefaultPath() string {
	return defaultPath(runtime.GOOS, os.Geteuid(), os.Getenv, os.UserHomeDir)
}

func defaultPath(goos string, euid int, getenv func(string) string, home func() (string, error)) string {
	if goos == "windows" {
		if d := getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "strictacme")
		}
		return "strictacme-state"
	}
	if euid == 0 {
		return "/var/lib/strictacme"
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "strictacme")
	}
	if h, err := home(); err == nil {
		return filepath.Join(h, ".local", "state", "strictacme")
	}
	return "strictacme-state"
}

// Open creates root (0700) if needed and returns a Store on it.
func Open(root string) (*Store, error) {
	if root == "" {
		return nil, fmt.Errorf("state directory is empty; set --path")
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", root, err)
	}
	return &Store{Root: root}, nil
}

// caDir turns a directory URL into a readable, collision-free folder name:
// host plus a short hash of the whole URL.
func caDir(directoryURL string) string {
	u, err := url.Parse(directoryURL)
	host := "ca"
	if err == nil && u.Host != "" {
		host = strings.NewReplacer(":", "_", "/", "_").Replace(u.Host)
	}
	sum := sha256.Sum256([]byte(directoryURL))
	return host + "-" + hex.EncodeToString(sum[:4])
}

// CertName returns the folder name of a certificate from its first
// identifier: "*.example.com" becomes "_wildcard.example.com".
func CertName(first string) string {
	return strings.Replace(strings.ToLower(first), "*", "_wildcard", 1)
}

func writeFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, perm)
}

// CheckCertName returns an error unless name can be a certificate folder
// name: one path element, not "." or "..", no separator, no control
// character, at most 255 bytes. The store refuses other names so that no
// name can write outside <root>/certificates.
func CheckCertName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("certificate name %q: give a plain name such as example.com", name)
	case len(name) > 255:
		return fmt.Errorf("certificate name %q: longer than 255 bytes", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("certificate name %q: must not contain a slash; give a plain name such as example.com", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("certificate name %q: control character; give a plain name such as example.com", name)
		}
	}
	return nil
}

// OpenExisting returns a Store on root, which must already exist: for
// commands that read state (renew, list, revoke, account), a missing
// directory is a mistake (a typo, an unmounted volume), not an empty store.
func OpenExisting(root string) (*Store, error) {
	if root == "" {
		return nil, fmt.Errorf("state directory is empty; set --path")
	}
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("state directory %s does not exist; check --path (or STRICTACME_PATH)", root)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("state directory %s is not a directory; check --path", root)
	}
	return &Store{Root: root}, nil
}
