package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strictacme/strictacme/internal/delegation"
	"github.com/strictacme/strictacme/internal/deploy"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/job"
	"github.com/strictacme/strictacme/internal/jsonout"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/store"
)

func init() { addCommand(newIssueCmd) }

// issueFlags are the flags shared by issue, sandbox and (later) renew/run.
type issueFlags struct {
	domains     []string
	email       string
	server      string
	caCerts     []string
	keyType     string
	path        string
	dns         string
	propagation string
	resolvers   []string
	timeout     time.Duration
	acceptTOS   bool
	json        bool
	challenges  []string
	profile     string
	wait        time.Duration
	quorum      int
	reqTimeout  time.Duration
	ipv4Only    bool
	name        string
	lockWait    bool
	waitSet     bool // --propagation-wait given explicitly
	allowPort53 bool // --allow-port53: auto may ask the authoritative servers
	provValues  map[string]*string
	lookup      func(string) (string, bool) // provider settings: flags, then environment
	provGiven   map[string]string           // provider flags given, by variable

	// Delegation and propagation fallback (config_wiring.go).
	aliases     []string
	targets     []string
	followCNAME bool
	sequential  bool
	propTimeout time.Duration
	fallback    string

	// Renewal, CA options and hooks (renew.go, renew_hooks.go).
	preferredChain string
	reuseKey       bool
	csr            string
	flags          *pflag.FlagSet // to tell a given --key-type from its default
	eabKID         string
	eabHMAC        string
	eabHMACFile    string
	hooks          job.Hooks
	outputs        deploy.Outputs // deploy_flags.go
}

// defaultPath is the state directory when --path is not given.
var defaultPath = store.DefaultPath

func (f *issueFlags) register(cmd *cobra.Command, withDNS bool) {
	fl := cmd.Flags()
	fl.StringSliceVarP(&f.domains, "domain", "d", nil, "name for the certificate: apex, subdomain, *.wildcard or Unicode IDN (repeatable, or a comma list)")
	fl.StringVarP(&f.email, "email", "m", "", "contact e-mail for the ACME account")
	fl.StringVar(&f.path, "path", defaultPath(), "state directory: accounts, certificates, journal")
	fl.StringVar(&f.keyType, "key-type", plan.DefaultKeyType, "certificate key: "+issue.KeyTypeChoices())
	fl.BoolVar(&f.json, "json", false, "print one JSON object with the result on stdout")
	fl.DurationVar(&f.timeout, "timeout", plan.DefaultOrderTimeout, "give up the whole order after this long")
	fl.StringSliceVar(&f.challenges, "challenge", []string{plan.DefaultChallenge}, "challenge types in order of preference: dns-01, dns-account-01, dns-persist-01")
	fl.StringVar(&f.profile, "profile", "", "CA certificate profile (e.g. shortlived, tlsserver)")
	fl.StringVar(&f.name, "cert-name", "", "name of the certificate in the store (default: the stored one with exactly these names, in any order, else the first domain)")
	fl.BoolVar(&f.lockWait, "wait", false, "wait for another run on the same --path instead of failing")
	fl.BoolVar(&f.reuseKey, "reuse-key", false, "keep the private key of the stored certificate of the same name (also on renewals)")
	fl.StringVar(&f.csr, "csr", "", "order for this certificate signing request (PEM or DER): its names, its key (never seen or stored); renewals reuse it")
	f.flags = fl
	registerHookFlags(cmd, &f.hooks)
	registerDeployFlags(cmd, &f.outputs)
	if !withDNS {
		return
	}
	fl.StringVar(&f.preferredChain, "preferred-chain", "", "issuer common name of the alternate chain to prefer (e.g. \"ISRG Root X1\")")
	fl.StringVar(&f.eabKID, "eab-kid", "", "external account binding key ID from your CA account (ZeroSSL, Google, ...)")
	fl.StringVar(&f.eabHMAC, "eab-hmac-key", "", "external account binding HMAC key, base64url; prefer the environment variable or --eab-hmac-key-file")
	fl.StringVar(&f.eabHMACFile, "eab-hmac-key-file", "", "file holding the external account binding HMAC key")
	fl.StringVar(&f.server, "server", plan.DefaultServer, serverUsage)
	fl.StringArrayVar(&f.caCerts, "ca-cert", nil, "PEM file of extra trust roots for the CA and DoH servers (repeatable)")
	fl.StringVar(&f.dns, "dns", "", "DNS provider: "+strings.Join(plan.ProviderNames(), ", "))
	fl.StringVar(&f.propagation, "propagation", plan.DefaultPropagation, "how to know the CA can see the records: "+strings.Join(plan.StrategyNames(), ", "))
	fl.StringArrayVar(&f.resolvers, "resolver", nil, "recursive resolver to check with: https:// (DoH), tls:// (DoT), udp:// (repeatable; default: Quad9, Cloudflare, Google over DoH by IP address)")
	fl.DurationVar(&f.wait, "propagation-wait", plan.DefaultPropagateWait, "fixed delay for --propagation wait (measured from the last write); settle delay for provider")
	fl.BoolVar(&f.allowPort53, "allow-port53", false, "let --propagation auto probe and use port 53 to the authoritative servers (authoritative and resolver imply it)")
	fl.IntVar(&f.quorum, "quorum", 0, "resolvers that must see the records for doh/resolver (0 = a majority of those that answer, at least 1)")
	fl.DurationVar(&f.reqTimeout, "request-timeout", plan.DefaultRequestTimeout, "timeout of one DNS question to one resolver")
	fl.BoolVar(&f.ipv4Only, "ipv4-only", false, "use IPv4 only for every connection")
	fl.BoolVar(&f.acceptTOS, "accept-tos", false, "agree to the CA's terms of service when creating the account")
	f.provValues = map[string]*string{}
	registerProviderFlags(fl, f.provValues)
	f.registerDelegation(cmd)
}

func newIssueCmd() *cobra.Command {
	var f issueFlags
	var force, dryRun bool
	cmd := &cobra.Command{
		Use:   "issue -d NAME [-d NAME...] --dns PROVIDER",
		Short: "Obtain one certificate by DNS validation",
		Long: `Obtain one certificate by DNS validation.

All challenge records are written first (one provider call per zone), one
propagation check waits for all of them, every challenge is initiated
together, and the records are removed whatever happens. No DNS packet is sent
unless --propagation resolver/authoritative asks for it: the default checks
over DNS-over-HTTPS.`,
		Example: `  EXEC_PATH=./dns-hook.sh strictacme issue --server letsencrypt-staging \
    --accept-tos --email ops@example.com --dns exec -d example.com -d '*.example.com'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.waitSet = cmd.Flags().Changed("propagation-wait")
			f.provGiven = providerFlagsGiven(cmd.Flags(), f.provValues)
			f.lookup = providerLookup(f.provGiven)
			j, err := f.plan()
			if err != nil {
				return err
			}
			if dryRun {
				j.SetDryRun()
			}
			if !force {
				out, done, err := j.NotDue(now())
				if err != nil {
					return err
				}
				if done {
					return printResult(out, f.json, cmd.OutOrStdout(), cmd.ErrOrStderr())
				}
			}
			out, err := j.Run(cmd.Context(), cmd.ErrOrStderr())
			_ = printResult(out, f.json, cmd.OutOrStdout(), cmd.ErrOrStderr())
			return err
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&force, "force", false, "order even when a certificate of this name, names and key type is stored and not due")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, dryRunUsage)
	return withEnv(cmd)
}

func usage(format string, a ...any) error {
	return exitcode.With(exitcode.Usage, fmt.Errorf(format, a...))
}

// settings are the certificate's settings as the flags give them.
func (f *issueFlags) settings() (plan.Settings, error) {
	if len(f.domains) == 0 && f.csr == "" {
		return plan.Settings{}, usage("no domain given; add -d example.com (repeatable) or --csr FILE")
	}
	s := plan.Settings{
		Name: f.name, Names: f.domains, Server: f.server, Email: f.email, AcceptTOS: f.acceptTOS,
		KeyType: f.keyType, Profile: f.profile, Challenges: f.challenges, CACerts: f.caCerts, IPv4Only: f.ipv4Only,
		Propagation: f.propagation, Fallback: f.fallback, Resolvers: f.resolvers, Quorum: f.quorum,
		RequestTimeout: plan.Duration(f.reqTimeout), PropagationTimeout: plan.Duration(f.propTimeout), FollowCNAME: f.followCNAME,
		AllowPort53: f.allowPort53,
		PreHook:     f.hooks.Pre, DeployHook: f.hooks.Deploy, PostHook: f.hooks.Post, HookTimeout: plan.Duration(f.hooks.Timeout),
		EABKeyID: f.eabKID, EABKeyFile: f.eabHMACFile, PreferredChain: f.preferredChain, ReuseKey: f.reuseKey,
		Timeout: plan.Duration(f.timeout), Outputs: f.outputs, CSR: f.csr,
	}
	if f.csr != "" && !f.flags.Changed("key-type") {
		s.KeyType = "" // the CSR's
	}
	if f.waitSet {
		s.PropagationWait = plan.Duration(f.wait)
	}
	var err error
	if s.ChallengeAliases, s.ChallengeAlias, err = delegation.ParseSpecs("--challenge-alias", f.aliases, true); err != nil {
		return s, usage("%v", err)
	}
	if s.ChallengeTargets, _, err = delegation.ParseSpecs("--challenge-target", f.targets, false); err != nil {
		return s, usage("%v", err)
	}
	if f.dns != "" {
		ref := plan.EnvProvider(f.dns, f.provGiven)
		ref.SingleValue = f.sequential
		s.Provider, s.Providers = f.dns, []plan.ProviderRef{ref}
	}
	return s, nil
}

// given reports whether the command line (or its variable) gave the
// settings key, even as "": the keys asked about (key_type and the hooks)
// are their flags' names with dashes.
func (f *issueFlags) given(key string) bool {
	return f.flags.Changed(strings.ReplaceAll(key, "_", "-"))
}

// plan builds the flags' certificate.
func (f *issueFlags) plan() (*job.Job, error) {
	s, err := f.settings()
	if err != nil {
		return nil, err
	}
	j, err := job.New(s, job.Options{Path: f.path, EABKey: f.eabHMAC, Lookup: f.lookup, Log: func(l string) { fmt.Fprintln(logOut, l) },
		PollEvery: pollInterval, BeforeOrder: beforeOrder, CommandLine: true, Given: f.given})
	if err != nil {
		return nil, flagError(err)
	}
	j.Hooks.Env = f.hooks.Env // --hook-env is not a stored setting
	j.LockWait = f.lockWait
	return j, nil
}

// pollInterval is the longest wait between two polls when the CA sends no
// Retry-After; 0 means the order flow's default (tests shorten it).
var pollInterval time.Duration

// beforeOrder, when set, sees every job before its order (the test
// binary's crash tests).
var beforeOrder func(j *job.Job, logf func(string))

// printResult prints what issue or sandbox did: the JSON document, else a
// line on stdout, or on stderr when nothing was ordered (job.Job.NotDue).
func printResult(out *job.Result, asJSON bool, stdout, stderr io.Writer) error {
	switch {
	case asJSON:
		return jsonout.Write(stdout, out)
	case out.NotDue != "":
		fmt.Fprintln(stderr, out.NotDue)
	default:
		out.WriteText(stdout)
	}
	return nil
}
