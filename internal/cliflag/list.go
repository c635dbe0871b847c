package cliflag

import (
	"strings"

	"github.com/spf13/pflag"
)

// CheckedList is a repeatable string flag (pflag's StringSlice: a comma
// list, repeatable) whose every item check must accept: a refused item
// fails the flag's parsing, so the error names the flag, or through Bind
// its variable, with check's reason. Items are trimmed; empty ones are
// dropped.
func CheckedList(p *[]string, check func(string) error) pflag.Value {
	return &checkedList{p: p, check: check}
}

type checkedList struct {
	p       *[]string
	check   func(string) error
	changed bool
}

func (l *checkedList) items(v string) ([]string, error) {
	var out []string
	for _, it := range strings.Split(v, ",") {
		if it = strings.TrimSpace(it); it == "" {
			continue
		}
		if err := l.check(it); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// Set adds the items of the comma list v; the first Set replaces the
// default, as pflag's slices do.
func (l *checkedList) Set(v string) error {
	items, err := l.items(v)
	if err != nil {
		return err
	}
	if !l.changed {
		*l.p, l.changed = nil, true
	}
	*l.p = append(*l.p, items...)
	return nil
}

func (l *checkedList) Type() string { return "strings" }

// String is "" when empty, so help shows no default (pflag's zero rule).
func (l *checkedList) String() string {
	if len(*l.p) == 0 {
		return ""
	}
	return "[" + strings.Join(*l.p, ",") + "]"
}

// Append implements pflag.SliceValue.
func (l *checkedList) Append(v string) error {
	if err := l.check(v); err != nil {
		return err
	}
	*l.p = append(*l.p, v)
	return nil
}

// Replace implements pflag.SliceValue (Bind sets a list variable with it).
func (l *checkedList) Replace(vs []string) error {
	var out []string
	for _, v := range vs {
		items, err := l.items(v)
		if err != nil {
			return err
		}
		out = append(out, items...)
	}
	*l.p, l.changed = out, true
	return nil
}

// GetSlice implements pflag.SliceValue.
func (l *checkedList) GetSlice() []string { return *l.p }
