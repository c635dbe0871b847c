package main

import (
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/strictacme/strictacme/internal/exitcode"
	buildversion "github.com/strictacme/strictacme/internal/version"
)

func init() { addCommand(newManCmd) }

// newManCmd is the hidden `strictacme man DIR` command: it writes one roff
// man page per command (strictacme.1, strictacme-renew.1, ...) into DIR,
// generated from the same help text as --help (github.com/spf13/cobra/doc).
// Packagers run it at build time; it is not listed in --help.
func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write the man pages into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			return doc.GenManTree(root, &doc.GenManHeader{Title: "STRICTACME", Section: "1", Source: "strictacme " + buildversion.Get().Version}, args[0])
		},
	}
}
