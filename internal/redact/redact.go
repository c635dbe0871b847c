// Package redact removes known secret values from text before strictacme
// prints or stores it.
//
// Secrets are registered where they are read (an API key from the
// environment or a file, an EAB HMAC key, an acme-dns password, an admin
// token); everything strictacme prints (stdout, stderr, --json, the step
// log, error messages) and stores outside its key files (renewal.json) goes
// through String or a Writer, so a hook or DNS script that echoes a key, or
// an error that quotes one, shows "[redacted]" instead. The registry is
// process-wide: there is one set of secrets per run.
//
// Whatever was registered, the userinfo of a URL (https://user:pass@host)
// and the values of its query (?token=…) are replaced too: a URL given as
// a plain setting may carry a password or token nobody registered.
//
// Values shorter than MinLen are not registered: replacing every "abc" in
// the output would hide more than it protects, and real credentials are
// longer.
package redact

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Mask replaces a secret.
const Mask = "[redacted]"

// MinLen is the shortest value Add registers, in bytes.
const MinLen = 6

var known struct {
	mu     sync.RWMutex
	values map[string]bool
	// ordered is values, longest first, so a secret that contains another
	// is replaced whole.
	ordered []string
}

// Add registers secret values (surrounding space trimmed). Each is also
// registered in the forms it takes inside JSON and Go-quoted strings, so
// --json output and quoted error text are covered.
func Add(values ...string) {
	known.mu.Lock()
	defer known.mu.Unlock()
	if known.values == nil {
		known.values = map[string]bool{}
	}
	changed := false
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < MinLen {
			continue
		}
		forms := []string{v, strings.Trim(strconv.Quote(v), `"`)}
		if b, err := json.Marshal(v); err == nil {
			forms = append(forms, strings.Trim(string(b), `"`))
		}
		for _, f := range forms {
			if !known.values[f] {
				known.values[f] = true
				changed = true
			}
		}
	}
	if changed {
		known.ordered = known.ordered[:0]
		for v := range known.values {
			known.ordered = append(known.ordered, v)
		}
		sort.Slice(known.ordered, func(i, j int) bool { return len(known.ordered[i]) > len(known.ordered[j]) })
	}
}

// Is reports whether v (trimmed) is a registered secret.
func Is(v string) bool {
	known.mu.RLock()
	defer known.mu.RUnlock()
	return known.values[strings.TrimSpace(v)]
}

// String returns s with every registered secret, and the userinfo and
// query values of every URL in it, replaced by Mask.
func String(s string) string {
	known.mu.RLock()
	defer known.mu.RUnlock()
	for _, v := range known.ordered {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	if strings.Contains(s, "@") && strings.Contains(s, "://") {
		s = userinfo.ReplaceAllString(s, "${1}"+Mask+"@")
	}
	if strings.Contains(s, "?") && strings.Contains(s, "://") {
		s = urlQuery.ReplaceAllStringFunc(s, keepTrailing(redactQuery))
	}
	if strings.Contains(s, "#") && strings.Contains(s, "://") {
		s = urlFragment.ReplaceAllStringFunc(s, keepTrailing(func(u string) string {
			return u[:strings.IndexByte(u, '#')+1] + Mask
		}))
	}
	return s
}

// keepTrailing applies f to a URL matched in running text without the
// punctuation that ends the sentence around it ("URL: reason", "URL,"):
// it belongs to the message, not to the URL.
func keepTrailing(f func(string) string) func(string) string {
	return func(u string) string {
		t := strings.TrimRight(u, ":,.;)")
		if t == "" || strings.HasSuffix(t, "?") || strings.HasSuffix(t, "#") {
			return f(u)
		}
		return f(t) + u[len(t):]
	}
}

// urlFragment matches a URL up to its fragment (RFC 3986 §3.5) and the
// fragment itself, which ends before a quote or space: a token pasted
// after "#" is as secret as one in the query.
var urlFragment = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^#\s"'<>]*)#[^\s"'<>]+`)

// urlQuery matches a URL up to the end of its query (RFC 3986 §3.4): the
// query starts at the first "?" and ends before a "#", quote or space.
var urlQuery = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^?#\s"'<>]*\?[^#\s"'<>]*`)

// redactQuery replaces the values of the query of the URL u (matched by
// urlQuery), keeping the keys: "?token=s3cret&a=1" becomes
// "?token=[redacted]&a=[redacted]"; an item without "=" is replaced whole.
func redactQuery(u string) string {
	i := strings.IndexByte(u, '?')
	items := strings.FieldsFunc(u[i+1:], func(r rune) bool { return r == '&' || r == ';' })
	if len(items) == 0 {
		return u
	}
	for j, it := range items {
		if k, _, ok := strings.Cut(it, "="); ok {
			items[j] = k + "=" + Mask
		} else {
			items[j] = Mask
		}
	}
	return u[:i+1] + strings.Join(items, "&")
}

// userinfo matches a URL's scheme and userinfo (RFC 3986 §3.2.1): what
// lies between "://" and the first "@" before any "/", "?", "#", quote or
// space.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@"'<>]+@`)

// Writer redacts what is written through it. Writes are passed on line by
// line, so a secret split over two writes (a child process's output arrives
// in pieces) is still found; Flush passes on a last line without a newline.
// It is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer passing redacted lines on to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write buffers p and passes on every complete line, redacted. It reports
// len(p) written unless w failed.
func (r *Writer) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	i := bytes.LastIndexByte(r.buf, '\n')
	if i < 0 {
		if len(r.buf) < 64<<10 {
			return len(p), nil
		}
		i = len(r.buf) - 1 // a very long line: pass it on rather than grow
	}
	out := String(string(r.buf[:i+1]))
	r.buf = append(r.buf[:0], r.buf[i+1:]...)
	if _, err := io.WriteString(r.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush passes on what is buffered, redacted.
func (r *Writer) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		return nil
	}
	out := String(string(r.buf))
	r.buf = r.buf[:0]
	_, err := io.WriteString(r.w, out)
	return err
}
