package main

import (
	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/config"
	"github.com/strictacme/strictacme/internal/plan"
)

func init() { addCommand(newRunCmd) }

func newRunCmd() *cobra.Command {
	var file string
	var f renewFlags
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Issue what a config file lists and is not stored or has changed; renew what is due",
		Long: `Issue every certificate of a config file that is not stored yet or whose
names, key type or profile changed in the file, and renew the stored ones that
are due, in one run with the same hooks, metrics and output as
"strictacme renew" (docs/config.md, docs/renewal.md). Each certificate is
stored with its settings, so "strictacme renew" renews it later without the
file.

The whole file is checked first: every problem is printed as one line with
its line number, and nothing is sent to any CA (exit 2).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cf, err := loadConfig(file)
			if err != nil {
				return err
			}
			f.path = cf.PathOr(f.path, cmd.Flags().Changed("path"))
			logOut = cmd.ErrOrStderr()
			if err := f.fromConfig(cf, cmd.Flags().Changed("timeout")); err != nil {
				return err
			}
			return runRenew(cmd.Context(), &f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&file, "config", "strictacme.toml", "configuration file (TOML, see docs/config.md)")
	f.register(cmd)
	cmd.Flags().Lookup("force").Usage = "renew every certificate of the file now, due or not"
	cmd.Flags().Lookup("cert-name").Usage = "only this certificate of the file (repeatable; default: all)"
	return withEnv(cmd)
}

// loadConfig reads and checks the file; problems exit 2.
var loadConfig = config.LoadCertificates

// fromConfig makes the run the file's (config.File.Configure): its
// certificates with their settings, each built once now so that every
// problem is known before any request; those not stored or changed are
// ordered.
func (f *renewFlags) fromConfig(cf *config.File, timeoutFlag bool) error {
	conf, err := cf.Configure(f.names, f.timeout, timeoutFlag, plan.BuildOptions{Path: f.path, Logger: providerLogger()})
	if err != nil {
		return err
	}
	f.conf, f.names = conf, conf.Names
	return nil
}
