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

// otherToolsFlags are the flags the docs quote from other programs outside
// a comparison table (shell, kubectl, docker and node_exporter commands,
// certbot's in prose); every other --flag in the docs must be one of
// strictacme's. In a table with a strictacme column (the comparisons with
// lego, certbot and acme.sh) only that column is strictacme's.
var otherToolsFlags = map[string]string{
	"--for": "kubectl", "--from-file": "kubectl", "--from-literal": "kubectl", "--server-side": "kubectl", "--to": "kubectl",
	"--ignore-missing": "sha256sum", "--now": "systemctl", "--rm": "docker",
	"--config-dir": "certbot", "--dns-PLUGIN-credentials": "certbot",
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
		lines := strings.Split(string(data), "\n")
		ourColumn := -1 // in the current table, the strictacme column
		for i, line := range lines {
			if !strings.HasPrefix(line, "|") {
				ourColumn = -1
			} else if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "| ---") {
				ourColumn = -1
				for j, h := range tableCells(line) {
					if strings.HasPrefix(h, "strictacme") {
						ourColumn = j
					}
				}
			} else if cells := tableCells(line); ourColumn >= 0 && ourColumn < len(cells) {
				line = cells[ourColumn]
			}
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

// tableCells are the trimmed cells of a Markdown table row.
func tableCells(row string) []string {
	cells := strings.Split(strings.Trim(strings.TrimSpace(row), "|"), "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}
