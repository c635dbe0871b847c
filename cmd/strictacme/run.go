package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/config"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
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
			if !cmd.Flags().Changed("path") && cf.StatePath != "" {
				f.path = cf.StatePath
			}
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
func loadConfig(file string) (*config.File, error) {
	f, err := config.Load(file, config.Options{})
	if err != nil {
		return nil, exitcode.With(exitcode.Usage, err)
	}
	if len(f.Certificates) == 0 {
		return nil, usage("%s: no [[certificate]] table; add one (see docs/config.md)", file)
	}
	return f, nil
}

// fromConfig makes the run the file's: its certificates with their
// settings, each built once now so that every problem is known before any
// request; those not stored or changed are ordered.
func (f *renewFlags) fromConfig(cf *config.File, timeoutFlag bool) error {
	only := f.names
	f.config = map[string]plan.Settings{}
	f.order = map[string]renewal.OrderReason{}
	f.names = nil
	st := &store.Store{Root: f.path}
	var problems []string
	for _, n := range only {
		if !slices.ContainsFunc(cf.Certificates, func(c *config.Certificate) bool { return c.Name == n }) {
			problems = append(problems, fmt.Sprintf("--cert-name %q: no [[certificate]] of that name in %s", n, cf.Path))
		}
	}
	for _, c := range cf.Certificates {
		if len(only) > 0 && !slices.Contains(only, c.Name) {
			continue
		}
		s := c.Settings
		if timeoutFlag || s.Timeout == 0 {
			s.Timeout = plan.Duration(f.timeout)
		}
		if _, err := plan.Build(s, plan.BuildOptions{Path: f.path, Logger: providerLogger()}); err != nil {
			problems = append(problems, configProblems(cf, c, err)...)
			continue
		}
		f.config[s.Name] = s
		f.names = append(f.names, s.Name)
		if f.configPre == "" {
			f.configPre, f.configPost = s.PreHook, s.PostHook
		}
		old, err := st.LoadCertificate(s.Name)
		switch {
		case err != nil:
			f.order[s.Name] = renewal.OrderReason{Names: s.Names, Reason: "in the config file, not stored yet"}
		default:
			if diff := s.Differs(old.Meta); len(diff) > 0 {
				f.order[s.Name] = renewal.OrderReason{Names: s.Names, Reason: "the config file changed it: " + strings.Join(diff, "; ")}
			}
		}
	}
	if len(problems) > 0 {
		return exitcode.With(exitcode.Usage, errors.New(strings.Join(problems, "\n")))
	}
	return nil
}

// configProblems says a build error of certificate c in the file's words.
func configProblems(cf *config.File, c *config.Certificate, err error) []string {
	var pe *plan.ProblemsError
	var be *plan.BuildError
	switch {
	case errors.As(err, &pe):
		var out []string
		for _, p := range pe.Problems {
			out = append(out, cf.Problem(c, p.Provider, p.Key, p.Msg))
		}
		return out
	case errors.As(err, &be):
		return []string{cf.Problem(c, be.Provider, be.Key, be.Err.Error())}
	}
	return []string{fmt.Sprintf("%s:%d: certificate %q: %v", cf.Path, c.Line, c.Name, err)}
}
