package config

import (
	"fmt"
	"regexp"
	"strings"
)

// index locates keys and tables by line. BurntSushi/toml's MetaData lists
// undecoded keys but not their positions, so the file is scanned once for
// table headers and "key =" lines; the scan is only used for messages.
type index struct {
	entries []entry
}

type entry struct {
	line   int
	header bool
	path   []string // full dotted path, array indices left out
	arr    int      // index of the enclosing [[certificate]], else -1
	value  string   // raw text after "=" (for name = "...")
}

var (
	headerRE = regexp.MustCompile(`^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$`)
	keyRE    = regexp.MustCompile(`^\s*((?:[A-Za-z0-9_-]+|"[^"]*")(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"))*)\s*=(.*)$`)
)

func splitKey(k string) []string {
	var out []string
	for _, p := range regexp.MustCompile(`"[^"]*"|[^.\s]+`).FindAllString(k, -1) {
		out = append(out, strings.Trim(p, `"`))
	}
	return out
}

func scan(src string) *index {
	idx := &index{}
	var table []string
	arr, certs := -1, -1
	for i, l := range strings.Split(src, "\n") {
		n := i + 1
		if m := headerRE.FindStringSubmatch(l); m != nil && !strings.Contains(l, "=") {
			table = splitKey(m[2])
			if m[1] == "[[" && len(table) == 1 && table[0] == "certificate" {
				certs++
			}
			arr = -1
			if len(table) > 0 && table[0] == "certificate" {
				arr = certs
			}
			idx.entries = append(idx.entries, entry{line: n, header: true, path: table, arr: arr})
			continue
		}
		if m := keyRE.FindStringSubmatch(l); m != nil {
			p := append(append([]string{}, table...), splitKey(m[1])...)
			idx.entries = append(idx.entries, entry{line: n, path: p, arr: arr, value: strings.TrimSpace(m[2])})
		}
	}
	return idx
}

func samePath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// line returns the line of path (in [[certificate]] number arr, or -1),
// 0 when not found.
func (x *index) line(arr int, path ...string) int {
	for _, e := range x.entries {
		if samePath(e.path, path) && (arr < 0 || e.arr == arr) {
			return e.line
		}
	}
	return 0
}

// certHeader is the line of the arr-th [[certificate]].
func (x *index) certHeader(arr int) int {
	for _, e := range x.entries {
		if e.header && e.arr == arr && len(e.path) == 1 {
			return e.line
		}
	}
	return 0
}

// describeTable names the table holding line: `certificate "web": `,
// `provider "nc": `, `[defaults] `, or "".
func (x *index) describeTable(line int) string {
	var hdr *entry
	for i := range x.entries {
		e := &x.entries[i]
		if e.line > line {
			break
		}
		if e.header {
			hdr = e
		}
	}
	if hdr == nil || len(hdr.path) == 0 {
		return ""
	}
	switch hdr.path[0] {
	case "certificate":
		return fmt.Sprintf("certificate %s: ", x.certLabel(hdr.arr))
	case "providers":
		if len(hdr.path) > 1 {
			return fmt.Sprintf("provider %q: ", hdr.path[1])
		}
	case "defaults":
		return "[defaults] "
	}
	return ""
}

// certLabel is `"name"` of the arr-th certificate, or "#n" without a name.
func (x *index) certLabel(arr int) string {
	for _, e := range x.entries {
		if e.arr == arr && len(e.path) == 2 && e.path[0] == "certificate" && e.path[1] == "name" {
			return e.value
		}
	}
	return fmt.Sprintf("#%d", arr+1)
}

func (x *index) describe(line int, lastKey string) string {
	s := x.describeTable(line)
	if lastKey != "" {
		s += fmt.Sprintf("key %q: ", lastKey[strings.LastIndex(lastKey, ".")+1:])
	}
	return s
}
