package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/provider/acmedns"
)

func init() { addCommand(newRegisterCmd) }

func newRegisterCmd() *cobra.Command {
	var (
		server, credentials, tokenFile string
		domains, allow, resolvers      []string
		caCerts                        []string
		noCheck, ipv4                  bool
		timeout                        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "register --server URL --domain NAME...",
		Short: "Create acme-dns accounts and print the CNAME records to add",
		Long: `Create an account on an acme-dns compatible challenge server (acme-dns or
strictacme serve) for each domain that has none in the credentials file, save
it there (the goacmedns JSON format lego, acme-dns-client and cert-manager read;
mode 0600), and print the CNAME each domain needs:

  _acme-challenge.example.com. CNAME <uuid>.auth.example.org.

Then check that the CNAME is in place: through the server's /lookup (which asks
the authoritative servers directly, over HTTPS) when it is a strictacme serve,
else through the DNS resolvers (DoH by default). Exits 6 when a CNAME is
missing, so a script can stop until it is added. "*.example.com" shares the
account of "example.com".`,
		Example: `  strictacme register --server https://auth.example.org -d example.com -d '*.example.com'
  strictacme register --server https://auth.example.org --admin-token-file /etc/strictacme/admin-token -d example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(domains) == 0 {
				return usage("--domain is required (repeatable)")
			}
			if server == "" {
				return usage("--server is required: the challenge server's API URL, e.g. https://auth.example.org")
			}
			g, err := plan.Registration{Reach: plan.Reach{CACerts: caCerts, IPv4Only: ipv4, Resolvers: resolvers, RequestTimeout: timeout},
				Server: server, CredentialsFile: credentials, Domains: domains, AllowFrom: allow, AdminTokenFile: tokenFile, Check: !noCheck}.Open()
			if err != nil {
				return flagError(err)
			}
			needs, err := g.Ensure(cmd.Context())
			if err != nil {
				return flagError(err)
			}
			for _, n := range needs {
				if n.Registered {
					fmt.Fprintf(cmd.ErrOrStderr(), "registered %s at %s (saved in %s)\n", n.Domain, acmedns.Key(n.Account.FullDomain), credentials)
				}
				fmt.Fprintln(cmd.OutOrStdout(), n.Account.CNAME(n.Domain))
			}
			if noCheck {
				return nil
			}
			if err := g.Unplaced(cmd.Context(), needs); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "every CNAME is in place")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&server, "server", "", "challenge server API URL (acme-dns or strictacme serve)")
	fl.StringSliceVarP(&domains, "domain", "d", nil, "domain to register (repeatable, or a comma list; *.example.com shares example.com's account)")
	fl.StringVar(&credentials, "credentials", filepath.Join(defaultPath(), "acmedns.json"), "credentials file (goacmedns JSON format, mode 0600)")
	fl.StringSliceVar(&allow, "allowfrom", nil, "CIDR allowed to update the new accounts (repeatable; default any)")
	fl.StringVar(&tokenFile, "admin-token-file", "", "file holding the server's admin token, when its registration needs one")
	fl.BoolVar(&noCheck, "no-check", false, "do not check that the CNAME records are in place")
	fl.StringArrayVar(&resolvers, "resolver", nil, "resolver for the CNAME check when the server has no /lookup (default: DoH)")
	fl.StringArrayVar(&caCerts, "ca-cert", nil, "PEM file of extra trust roots for the server and DoH (repeatable)")
	fl.BoolVar(&ipv4, "ipv4-only", false, "use IPv4 only")
	fl.DurationVar(&timeout, "request-timeout", plan.DefaultRequestTimeout, "timeout of one DNS question for the resolver check")
	return withEnv(cmd)
}
