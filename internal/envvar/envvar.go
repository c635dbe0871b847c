// Package envvar reads provider settings from environment-style
// variables as lego names them: a secret from NAME or from the file named
// by NAME_FILE, durations as whole seconds (lego's form) or Go durations.
// Errors name the variable and the fix, never a secret's value.
package envvar

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/keyshape"
)

// Lookup reads one variable, as os.LookupEnv does.
type Lookup func(name string) (string, bool)

// Get is name's value with surrounding white space trimmed, "" when unset.
func (l Lookup) Get(name string) string {
	v, _ := l(name)
	return strings.TrimSpace(v)
}

// Secret reads name, or the file named by name_FILE (trailing white
// space trimmed); setting both is an error. what says what the secret is
// ("the deSEC API token"), for messages.
func (l Lookup) Secret(name, what string) (string, error) {
	v, f := l.Get(name), l.Get(name+"_FILE")
	switch {
	case v != "" && f != "":
		return "", fmt.Errorf("both %s and %s_FILE are set; set only one", name, name)
	case f == "":
		return v, nil
	}
	b, err := os.ReadFile(f)
	if err != nil && keyshape.LooksLikeKey(f) {
		return "", fmt.Errorf("%s_FILE: that looks like a key, not a path; write it to a file (mode 0600) and give its path, or set %s", name, name)
	}
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err
		}
		return "", fmt.Errorf("%s_FILE: cannot read %s: %v; point it at a readable file holding %s", name, f, err, what)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s_FILE: %s is empty; put %s in it", name, f, what)
	}
	return s, nil
}

// Duration reads name as whole seconds or a Go duration ("90s", "2m");
// 0 when unset. Negative values are refused, and so is zero unless zeroOK.
func (l Lookup) Duration(name string, zeroOK bool) (time.Duration, error) {
	v := l.Get(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		if n, err2 := strconv.Atoi(v); err2 == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
	}
	if err != nil || d < 0 || (d == 0 && !zeroOK) {
		return 0, fmt.Errorf("%s=%q: want seconds or a duration such as 90s", name, v)
	}
	return d, nil
}

// Seconds reads name as whole seconds within [lo, hi]; 0 when unset.
func (l Lookup) Seconds(name string, lo, hi int) (int, error) {
	v := l.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q: want whole seconds between %d and %d", name, v, lo, hi)
	}
	return n, nil
}
