package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
)

// Found is another client's state directory found where a strictacme
// state directory was expected.
type Found struct {
	// Tool is "lego" or "certbot"; What describes the tree in words.
	Tool, What, Path string
}

// Detect reports whether path is a lego ".lego" directory or a certbot
// configuration directory rather than a strictacme state directory. It
// reads only directory listings: lego keeps certificates as
// certificates/<name>.crt files and account keys beside account.json
// under another name than strictacme's account.key; certbot has renewal/
// *.conf files or a live/ folder. A strictacme store has none of these.
func Detect(path string) (Found, bool) {
	if path == "" {
		return Found{}, false
	}
	var crts []string
	all, _ := filepath.Glob(filepath.Join(path, "certificates", "*.crt"))
	for _, c := range all {
		if !strings.HasSuffix(c, ".issuer.crt") {
			crts = append(crts, c)
		}
	}
	keys, _ := filepath.Glob(filepath.Join(path, "accounts", "*", "*", "*.key"))
	v4keys, _ := filepath.Glob(filepath.Join(path, "accounts", "*", "*", "keys", "*.key"))
	var v5keys int // lego v5 keeps <id>.key beside account.json
	for _, k := range keys {
		if filepath.Base(k) != "account.key" {
			v5keys++
		}
	}
	if len(crts) > 0 || v5keys+len(v4keys) > 0 {
		layout := "lego v4"
		if _, err := os.Stat(filepath.Join(path, legoConfigFile)); err == nil || v5keys > 0 {
			layout = "lego v5"
		}
		return Found{Tool: "lego", Path: path, What: fmt.Sprintf("a %s directory (%s)", layout, count(len(crts), "certificate"))}, true
	}
	confs, _ := filepath.Glob(filepath.Join(path, "renewal", "*.conf"))
	if fi, err := os.Stat(filepath.Join(path, "live")); len(confs) > 0 || err == nil && fi.IsDir() {
		return Found{Tool: "certbot", Path: path, What: fmt.Sprintf("a certbot configuration directory (%s)", count(len(confs), "renewal configuration"))}, true
	}
	return Found{}, false
}

// Message is what list, renew and run say instead of "nothing due":
// what the directory is and the command that adopts it into state (the
// strictacme state directory to import into).
func (f Found) Message(state string) string {
	return fmt.Sprintf("%s is %s, not a strictacme state directory; adopt its account and certificates with:\n  strictacme import %s %s --path %s\nthen run strictacme renew --path %s",
		f.Path, f.What, f.Tool, shellQuote(f.Path), shellQuote(state), shellQuote(state))
}

// Hint says on w, when path is another client's tree, what it is and how
// to import it into the default state directory, and reports whether it
// was: list, renew and run then exit 0 with that instead of "nothing due".
func Hint(w io.Writer, path string) bool {
	f, ok := Detect(path)
	if ok {
		fmt.Fprintln(w, f.Message(store.DefaultPath()))
	}
	return ok
}

// OpenExistingLocked is store.OpenExistingLocked for the commands that
// act on stored state (account, revoke, delete): pointed at another
// client's tree it refuses (exitcode.Usage), saying what the tree is and
// how to import it.
func OpenExistingLocked(ctx context.Context, path string, wait bool) (*store.Store, func(), error) {
	if f, ok := Detect(path); ok {
		return nil, nil, exitcode.With(exitcode.Usage, errors.New(f.Message(store.DefaultPath())))
	}
	return store.OpenExistingLocked(ctx, path, wait)
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=@:+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
