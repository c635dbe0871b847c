// Package envsecret reads a provider's secret from an environment variable
// or from the file its NAME_FILE variable names (the convention lego and
// Docker secrets share), with errors that name the variable and the fix
// and never show what may be the secret.
package envsecret

import (
	"fmt"
	"os"
	"strings"

	"github.com/strictacme/strictacme/internal/keyshape"
	"github.com/strictacme/strictacme/internal/redact"
)

// Read returns the value of name, or the trimmed content of the file
// named by name_FILE, and which of the two it came from ("" when neither
// is set, with an empty value and no error). Setting both is an error.
// A value read is registered with the redactor.
func Read(lookup func(string) (string, bool), name string) (value, from string, err error) {
	v, _ := lookup(name)
	f, _ := lookup(name + "_FILE")
	v, f = strings.TrimSpace(v), strings.TrimSpace(f)
	switch {
	case v != "" && f != "":
		return "", "", fmt.Errorf("both %s and %s_FILE are set; set only one", name, name)
	case v != "":
		redact.Add(v)
		return v, name, nil
	case f == "":
		return "", "", nil
	}
	from = name + "_FILE"
	b, err := os.ReadFile(f)
	if err != nil && keyshape.LooksLikeKey(f) {
		return "", from, fmt.Errorf("%s: that looks like a key, not a path; write the secret to a file (mode 0600) and give its path, or set %s", from, name)
	}
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err
		}
		return "", from, fmt.Errorf("%s: cannot read %s: %v; point it at a readable file holding the secret", from, f, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", from, fmt.Errorf("%s: %s is empty; put the secret in it", from, f)
	}
	redact.Add(s)
	return s, from, nil
}
