package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/jsonout"
	"github.com/strictacme/strictacme/internal/persist"
	"github.com/strictacme/strictacme/internal/plan"
)

func init() { addCommand(newPersistCmd) }

// persistFlags are the flags of "strictacme persist".
type persistFlags struct {
	domains      []string
	email        string
	server       string
	caCerts      []string
	path         string
	acceptTOS    bool
	dns          string
	resolvers    []string
	reqTimeout   time.Duration
	ipv4Only     bool
	timeout      time.Duration
	wildcard     bool
	persistUntil string
	issuer       string
	issuerSource string
	ttl          time.Duration
	apply        bool
	check        bool
	json         bool
	config       string
}

func newPersistCmd() *cobra.Command {
	var f persistFlags
	cmd := &cobra.Command{
		Use:   "persist -d NAME [-d NAME...] [--apply --dns PROVIDER] [--check]",
		Short: "Print, publish once or check the dns-persist-01 record of each name",
		Long: `Print, publish once or check the dns-persist-01 record of each name.

A dns-persist-01 record (draft-ietf-acme-dns-persist) names the CA and the
ACME account allowed to issue for a name. Published once, it lets
"strictacme issue --challenge dns-persist-01" obtain certificates with no DNS
write at all.

The issuer domain name comes from the CA: its directory's caaIdentities when
it lists any, otherwise the dns-persist-01 challenge of a new order whose
authorizations are then deactivated (--issuer-source chooses). The account is
the stored one for --server and --path (created with --accept-tos if none).

Without --apply or --check the records are printed as zone-file lines.
--apply creates each record once through --dns (an identical record is left
alone; nothing is removed later). --check asks every --resolver (DoH by
default) and says whether what it sees authorizes this account: exit 6 when
a record is absent or does not authorize it, 3 when the CA does not offer
dns-persist-01.`,
		Example: `  strictacme persist --server letsencrypt-staging --accept-tos -d example.com -d '*.example.com'
  EXEC_PATH=./dns-hook.sh strictacme persist --dns exec --apply -d example.com --wildcard
  strictacme persist --check --json -d example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.config != "" { // the file's names, CA, account and resolvers for flags not given
				cf, err := loadConfig(f.config)
				if err != nil {
					return err
				}
				if err := given.Defaults(cf.PersistSettings()); err != nil {
					return err
				}
			}
			return f.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "take the names, CA, account and resolvers from this config file (its certificates that list dns-persist-01, else all)")
	fl.StringSliceVarP(&f.domains, "domain", "d", nil, "name the record is for: apex, subdomain, *.wildcard or Unicode IDN (repeatable, or a comma list)")
	fl.StringVarP(&f.email, "email", "m", "", "contact e-mail when the ACME account is created")
	fl.StringVar(&f.server, "server", plan.DefaultServer, serverUsage)
	fl.StringArrayVar(&f.caCerts, "ca-cert", nil, "PEM file of extra trust roots for the CA and DoH servers (repeatable)")
	fl.StringVar(&f.path, "path", defaultPath(), "state directory holding the account")
	fl.BoolVar(&f.acceptTOS, "accept-tos", false, "agree to the CA's terms of service when creating the account")
	fl.StringVar(&f.dns, "dns", "", "DNS provider for --apply: exec, namecheap, acmedns")
	fl.StringArrayVar(&f.resolvers, "resolver", nil, "resolver for --check: https:// (DoH), tls:// (DoT), udp:// (repeatable; default: Quad9, Cloudflare, Google over DoH)")
	fl.DurationVar(&f.reqTimeout, "request-timeout", plan.DefaultRequestTimeout, "timeout of one DNS question to one resolver")
	fl.BoolVar(&f.ipv4Only, "ipv4-only", false, "use IPv4 only for every connection")
	fl.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up after this long")
	fl.BoolVar(&f.wildcard, "wildcard", false, "add policy=wildcard: the record also authorizes *.NAME and subdomains (implied for a *. name)")
	fl.StringVar(&f.persistUntil, "persist-until", "", "the record stops authorizing at TIME: RFC 3339 (2027-01-01T00:00:00Z), a date (2027-01-01, UTC) or UNIX seconds")
	fl.StringVar(&f.issuer, "issuer", "", "issuer domain name to write, skipping discovery (must be one the CA accepts)")
	fl.StringVar(&f.issuerSource, "issuer-source", "auto", "where to learn the issuer domain name: auto (directory, else challenge), directory, challenge")
	fl.DurationVar(&f.ttl, "ttl", persist.DefaultTTL, "TTL of the records created by --apply")
	fl.BoolVar(&f.apply, "apply", false, "create each record through --dns unless an identical one exists")
	fl.BoolVar(&f.check, "check", false, "check each record through the resolvers and say whether it authorizes this account")
	fl.BoolVar(&f.json, "json", false, "print one JSON object on stdout")
	return withEnv(cmd)
}

func (f *persistFlags) run(ctx context.Context, stdout, stderr io.Writer) error {
	logf := func(l string) { fmt.Fprintln(stderr, l) }
	defer useProviderLog(logf)()
	out := persist.Report{}
	err := flagError(plan.Persist(ctx, plan.PersistOptions{
		Reach: plan.Reach{Server: f.server, CACerts: f.caCerts, IPv4Only: f.ipv4Only, Resolvers: f.resolvers, RequestTimeout: f.reqTimeout},
		Path:  f.path, Email: f.email, AcceptTOS: f.acceptTOS, Provider: f.dns, Logger: providerLogger(),
		Names: f.domains, PersistUntil: f.persistUntil, IssuerSource: f.issuerSource, Apply: f.apply, Timeout: f.timeout,
		Run: persist.RunOptions{Issuer: f.issuer, Options: persist.Options{Wildcard: f.wildcard}, TTL: f.ttl, Check: f.check, Log: logf},
	}, &out))
	out.Finish(err)
	if f.json {
		_ = jsonout.Write(stdout, out)
		return err
	}
	out.WriteText(stdout)
	return err
}
