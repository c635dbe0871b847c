package main

import (
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/plan"
)

// Every --server that names a CA offers each short name --server accepts
// (plan.DirectoryURL's table): a CA added there is in every help.
func TestServerHelpNamesEveryCA(t *testing.T) {
	for _, c := range newRootCmd().Commands() {
		f := c.Flags().Lookup("server")
		if f == nil || c.Name() == "register" { // register's server is a challenge server
			continue
		}
		for _, name := range plan.CANames() {
			if _, err := plan.DirectoryURL(name); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !strings.Contains(f.Usage, " "+name+",") {
				t.Errorf("%s --server help lacks %s: %q", c.Name(), name, f.Usage)
			}
		}
	}
}
