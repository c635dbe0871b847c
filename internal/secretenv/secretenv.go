// Package secretenv reads a provider's secret from the environment by the
// _FILE convention: the variable NAME holds the secret itself, NAME_FILE
// the path of a file holding it (Docker and Kubernetes secrets, systemd
// credentials). Errors name the variable and the fix and never show what
// may be the secret.
package secretenv

import (
	"fmt"
	"os"
	"strings"

	"github.com/strictacme/strictacme/internal/keyshape"
	"github.com/strictacme/strictacme/internal/redact"
)

// Read returns the secret from name or name_FILE read through lookup
// (os.LookupEnv for the environment), white space trimmed, and registers
// it with the redactor. It returns "" and no error when neither is set;
// setting both is an error. what says what the secret is, for errors
// ("the server's api-key").
func Read(lookup func(string) (string, bool), name, what string) (string, error) {
	v, _ := lookup(name)
	f, _ := lookup(name + "_FILE")
	v, f = strings.TrimSpace(v), strings.TrimSpace(f)
	switch {
	case v != "" && f != "":
		return "", fmt.Errorf("both %s and %s_FILE are set; set only one", name, name)
	case f == "":
		if v != "" {
			redact.Add(v)
		}
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
	redact.Add(s)
	return s, nil
}
