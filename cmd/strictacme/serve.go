package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/challengeserver"
	"github.com/strictacme/strictacme/internal/challengeserver/acmeobtain"
	"github.com/strictacme/strictacme/internal/exitcode"
)

func init() { addCommand(newServeCmd) }

func newServeCmd() *cobra.Command {
	var (
		configPath   string
		checkOnly    bool
		importSource string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run an acme-dns compatible challenge server (authoritative DNS + HTTP API)",
		Long: `Run the challenge server: authoritative DNS for one challenge zone (UDP and TCP,
several addresses) and an HTTP API compatible with acme-dns, so lego, acme.sh,
certbot-dns-acmedns, acme-dns-client and strictacme's acmedns provider work
unchanged. Accounts live in SQLite (default) or PostgreSQL (several instances
behind one NS set); DNS is answered from memory.

The config file is TOML; an acme-dns config.cfg loads as it is (registration
stays closed unless the file says otherwise). See
internal/challengeserver/README.md for every key.`,
		Example: `  strictacme serve --config /etc/strictacme/serve.toml
  strictacme serve --config serve.toml --check
  strictacme serve --config serve.toml --import-acmedns sqlite3:/var/lib/acme-dns/acme-dns.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := challengeserver.LoadConfig(configPath)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return usage("--config %s: no such file", configPath)
				}
				return exitcode.With(exitcode.Usage, err)
			}
			if checkOnly {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (zone %s, %s store, registration %s, tls %s)\n", configPath, cfg.General.Domain, cfg.Database.Engine, cfg.API.Registration, cfg.API.TLS)
				fmt.Fprintln(cmd.OutOrStdout(), cfg.LookupSource())
				for _, w := range cfg.Warnings {
					fmt.Fprintln(cmd.ErrOrStderr(), "warning: "+w)
				}
				return nil
			}
			log := cfg.Log.Logger(os.Stderr)
			slog.SetDefault(log)
			if importSource != "" {
				return importAcmeDNS(cmd, cfg, importSource)
			}
			opts := challengeserver.Options{Log: log}
			if a := cfg.API; a.TLS == "acme" {
				ob := acmeobtain.Config{Directory: a.ACMEDirectory, Email: a.ACMEEmail, AcceptTOS: *a.ACMEAcceptTOS,
					CARootsFile: a.ACMECARoots, StateDir: a.ACMEStateDir, Profile: a.ACMEProfile,
					Log: func(line string) { log.Info("API certificate: " + line) }}
				opts.Obtain = ob.Obtain
			}
			srv, err := challengeserver.New(cmd.Context(), cfg, opts)
			if err != nil {
				return err
			}
			return srv.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&configPath, "config", "c", "/etc/strictacme/serve.toml", "config file (TOML; acme-dns's config.cfg is accepted)")
	fl.BoolVar(&checkOnly, "check", false, "check the config file and exit")
	fl.StringVar(&importSource, "import-acmedns", "", "import the accounts of an acme-dns database, ENGINE:CONNECTION (sqlite3:/path/acme-dns.db or postgres:postgres://…), then exit")
	return withEnv(cmd)
}

func importAcmeDNS(cmd *cobra.Command, cfg *challengeserver.Config, source string) error {
	res, err := cfg.ImportAcmeDNS(cmd.Context(), source, time.Now())
	if errors.Is(err, challengeserver.ErrImportSource) {
		return usage("--import-acmedns %v", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "imported %d accounts (%d already present) and %d live TXT values\n", res.Accounts, res.Skipped, res.Values)
	return nil
}
