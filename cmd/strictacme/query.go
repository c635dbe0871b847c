package main

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/challengeserver"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/resolver"
)

func init() { addCommand(newQueryCmd) }

func newQueryCmd() *cobra.Command {
	var resolvers, caCerts []string
	var ipv4 bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "query NAME [TYPE]",
		Short: "Ask a DNS question through the configured transport (DoH by default)",
		Long: `Ask one DNS question (TYPE defaults to TXT) through each configured resolver and
print what each one answered: the way to see, from a locked-down machine, what
the public DNS says without sending anything to port 53.`,
		Example: `  strictacme query _acme-challenge.example.com
  strictacme query --resolver tls://1.1.1.1 example.com CAA`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := challengeserver.CheckQueryName(args[0]); err != nil {
				return usage("NAME %v", err)
			}
			qtype, err := resolver.ParseType(strings.Join(args[1:], "")) // TYPE, "" when not given
			if err != nil {
				return usage("%v", err)
			}
			r, err := plan.Reach{CACerts: caCerts, IPv4Only: ipv4, Resolvers: resolvers, RequestTimeout: timeout}.Open(true)
			if err != nil {
				return flagError(err)
			}
			return resolver.AskEach(cmd.Context(), r.Resolvers, args[0], qtype, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringArrayVar(&resolvers, "resolver", nil, "resolver: https:// (DoH), tls:// (DoT), udp:// or tcp:// (repeatable; default: Quad9, Cloudflare, Google over DoH)")
	cmd.Flags().StringArrayVar(&caCerts, "ca-cert", nil, "PEM file of extra trust roots for DoH/DoT servers (repeatable)")
	cmd.Flags().BoolVar(&ipv4, "ipv4-only", false, "use IPv4 only")
	cmd.Flags().DurationVar(&timeout, "request-timeout", 5*time.Second, "timeout of one question")
	return withEnv(cmd)
}
