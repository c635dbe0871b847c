package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// otherToolsFlags are the flags the docs quote from other programs (the
// comparison with lego, certbot and acme.sh, and shell, kubectl, docker
// and node_exporter commands); every other --flag in the docs must be one
// of strictacme's.
var otherToolsFlags = map[string]string{
	"--ca-file": "acme.sh", "--cert-file": "acme.sh", "--key-file": "acme.sh", "--fullchain-file": "acme.sh",
	"--reloadcmd": "acme.sh", "--toPkcs": "acme.sh",
	"--pem": "lego", "--pfx": "lego", "--pfx.pass": "lego", "--pfx.password": "lego", "--pfx.format": "lego",
	"--for": "kubectl", "--from-file": "kubectl", "--from-literal": "kubectl", "--server-side": "kubectl", "--to": "kubectl",
	"--ignore-missing": "sha256sum", "--now": "systemctl", "--rm": "docker",
	"--collector.textfile.directory": "node_exporter",
}

// Every --flag that README.md and docs/*.md mention exists on some
// strictacme command, unless it is listed as another program's.
func TestDocsMentionOnlyFlagsThatExist(t *testing.T) {
	ours := map[string]bool{"--help": true, "--version": true}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		c.InitDefaultVersionFlag()
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) { ours["--"+f.Name] = true })
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRootCmd()
	root.InitDefaultCompletionCmd()
	walk(root)

	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../README.md")
	flag := regexp.MustCompile(`(?:^|[^\w.-])(--[a-zA-Z][\w.-]*[\w])`)
	var unknown []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			for _, m := range flag.FindAllStringSubmatch(line, -1) {
				name := strings.SplitN(m[1], "=", 2)[0]
				if !ours[name] && otherToolsFlags[name] == "" {
					unknown = append(unknown, filepath.Base(f)+":"+strconv.Itoa(i+1)+": "+name)
				}
			}
		}
	}
	sort.Strings(unknown)
	for _, u := range unknown {
		t.Errorf("%s: no strictacme command has this flag (fix the doc, or list it in otherToolsFlags if it is another program's)", u)
	}
	for name := range otherToolsFlags {
		if ours[name] {
			t.Errorf("%s is listed as another program's flag but is strictacme's too", name)
		}
	}
}
