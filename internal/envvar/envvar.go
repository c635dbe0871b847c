// Package envvar reads provider settings from environment-style
// variables as lego names them: durations as whole seconds (lego's form)
// or Go durations, TTLs as whole seconds in a range. Errors name the
// variable and the fix. Secrets are read by internal/envsecret.
package envvar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Lookup reads one variable, as os.LookupEnv does.
type Lookup func(name string) (string, bool)

// Get is name's value with surrounding white space trimmed, "" when unset.
func (l Lookup) Get(name string) string {
	v, _ := l(name)
	return strings.TrimSpace(v)
}

// Duration reads name as whole seconds or a Go duration ("90s", "2m");
// 0 when unset. Negative values are refused, and so is zero unless zeroOK.
func (l Lookup) Duration(name string, zeroOK bool) (time.Duration, error) {
	v := l.Get(name)
	if v == "" {
		return 0, nil
	}
	d, err := ParseDuration(v, zeroOK)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %v", name, v, err)
	}
	return d, nil
}

// ParseDuration is Duration's parser of one value, v not empty: whole
// seconds or a Go duration. Its error says what to give, not the setting.
func ParseDuration(v string, zeroOK bool) (time.Duration, error) {
	v = strings.TrimSpace(v)
	d, err := time.ParseDuration(v)
	if err != nil {
		if n, err2 := strconv.Atoi(v); err2 == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
	}
	if err != nil || d < 0 || (d == 0 && !zeroOK) {
		return 0, errors.New("want seconds or a duration such as 90s")
	}
	return d, nil
}

// Seconds reads name as whole seconds within [lo, hi]; 0 when unset.
func (l Lookup) Seconds(name string, lo, hi int) (int, error) {
	v := l.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := ParseSeconds(v, lo, hi)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %v", name, v, err)
	}
	return n, nil
}

// ParseSeconds is Seconds' parser of one value, v not empty: whole
// seconds within [lo, hi]. Its error says what to give, not the setting.
func ParseSeconds(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want whole seconds between %d and %d", lo, hi)
	}
	return n, nil
}
