package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/config"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/provider/exec"
	"github.com/strictacme/strictacme/provider/namecheap"
)

func init() { addCommand(newRunCmd) }

// providerEnv is what a config provider is built with besides its table:
// the state directory and the trust roots.
type providerEnv struct {
	path  string
	roots *x509.CertPool
}

// configProviderTypes builds a provider of a config type; tests add types.
var configProviderTypes = map[string]func(p *config.Provider, env providerEnv) (providers.Provider, error){
	"exec": func(p *config.Provider, _ providerEnv) (providers.Provider, error) {
		return exec.New(exec.Config{Program: p.Program})
	},
	"namecheap": func(p *config.Provider, env providerEnv) (providers.Provider, error) {
		return namecheap.New(namecheap.Config{
			APIUser: p.User.Reveal(), APIKey: p.Key.Reveal(), ClientIP: p.ClientIP, Endpoint: p.Endpoint, Sandbox: p.Sandbox,
			RootCAs: env.roots, LockDir: os.Getenv(namecheap.EnvLockDir), // "" is the machine-wide default
			Logger: providerLogger(),
		})
	},
}

func newRunCmd() *cobra.Command {
	var file string
	var jsonOut, force bool
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Issue what a config file lists and is not stored; renew what is due",
		Long: `Issue every certificate of a config file that is not stored yet, and renew
the stored ones that are due, as "strictacme renew" decides (docs/config.md,
docs/renewal.md). The whole file is checked first: any problem is printed as
one line with its line number and nothing is issued (exit 2).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := loadConfig(file)
			if err != nil {
				return err
			}
			var errs []error
			present := map[string][]*plan{} // by state directory
			for _, c := range f.Certificates {
				p, err := planFor(cmd, f, c)
				if err != nil {
					return err
				}
				p.json = jsonOut
				st := &store.Store{Root: p.path}
				if _, err := st.LoadCertificate(c.Name); err == nil {
					present[p.path] = append(present[p.path], p)
					continue
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "certificate %q: issuing %v\n", c.Name, c.Names)
				if err := runPlan(cmd.Context(), p, cmd.OutOrStdout(), cmd.ErrOrStderr()); err != nil {
					errs = append(errs, fmt.Errorf("certificate %q: %w", c.Name, err))
				}
			}
			// Stored certificates are renewed when due, exactly as renew
			// decides (ARI window, else lifetime), with the config's plan.
			for path, plans := range present {
				rf := &renewFlags{path: path, json: jsonOut, force: force, timeout: 10 * time.Minute, plans: map[string]*plan{}}
				for _, p := range plans {
					rf.names = append(rf.names, p.certName)
					rf.plans[p.certName] = p
					rf.timeout = p.timeout
					rf.caCerts = p.caCertFiles
				}
				if err := runRenew(cmd.Context(), rf, cmd.OutOrStdout(), cmd.ErrOrStderr()); err != nil {
					errs = append(errs, err)
				}
			}
			if len(errs) > 0 {
				return exitcode.With(exitcode.Of(errs[0]), errors.Join(errs...))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "config", "strictacme.toml", "configuration file (TOML, see docs/config.md)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON object per certificate on stdout")
	cmd.Flags().BoolVar(&force, "force", false, "renew every stored certificate of the file now, due or not")
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

// planFor turns one certificate of f into the flags issue would have been
// given, then builds its plan with the config's providers.
func planFor(cmd *cobra.Command, f *config.File, c *config.Certificate) (*plan, error) {
	d := f.Defaults
	fl := issueFlags{
		domains: c.Names, email: d.Email, server: d.Server, caCerts: d.CACerts, keyType: firstOf(c.KeyType, d.KeyType, "ec256"),
		path: firstOf(d.Path, defaultPath()), challenges: c.Challenges, profile: c.Profile, name: c.Name, acceptTOS: d.AcceptTOS,
		timeout: durOr(d.Timeout.Duration, 10*time.Minute), ipv4Only: d.IPv4Only,
		propagation: firstOf(c.Strategy, d.Strategy, "doh"), resolvers: c.Resolvers, quorum: c.Quorum,
		wait: durOr(c.Wait.Duration, d.Wait.Duration), reqTimeout: durOr(c.RequestTimeout.Duration, d.RequestTimeout.Duration, 5*time.Second),
		propTimeout: durOr(c.Propagation.Timeout.Duration, d.Propagation.Timeout.Duration), fallback: firstOf(c.Fallback, d.Fallback),
		followCNAME: d.FollowCNAME, targets: specs(c.ChallengeTargets),
	}
	fl.waitSet = fl.wait != 0
	// check's --allow-port53 adds to the file's allow_port53.
	allow53, _ := cmd.Flags().GetBool("allow-port53")
	fl.allowPort53 = d.AllowPort53 || allow53
	if fl.wait == 0 {
		fl.wait = 2 * time.Minute
	}
	if len(fl.challenges) == 0 {
		fl.challenges = firstList(d.Challenges, []string{"dns-01"})
	}
	if len(fl.resolvers) == 0 {
		fl.resolvers = d.Resolvers
	}
	if fl.quorum == 0 {
		fl.quorum = d.Quorum
	}
	if c.FollowCNAME != nil {
		fl.followCNAME = *c.FollowCNAME
	}
	fl.aliases = specs(c.ChallengeAliases)
	if c.ChallengeAlias != "" {
		fl.aliases = append(fl.aliases, c.ChallengeAlias)
	}
	if fl.server == "" {
		fl.server = "letsencrypt"
	}
	p, err := fl.common()
	if err != nil {
		return nil, fmt.Errorf("%s:%d: certificate %q: %w", f.Path, c.Line, c.Name, err)
	}
	if p.directory, err = directoryURL(fl.server); err != nil {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("%s:%d: certificate %q: server: %v", f.Path, c.Line, c.Name, errors.Unwrap(err)))
	}
	p.caCertFiles = fl.caCerts
	if p.rootCAs, err = loadRoots(fl.caCerts); err != nil {
		return nil, err
	}
	p.httpClient = httpClient(p.rootCAs, fl.ipv4Only)
	if p.providers, err = providerSet(f, c, providerEnv{path: p.path, roots: p.rootCAs}); err != nil {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("%s:%d: certificate %q: %w", f.Path, c.Line, c.Name, err))
	}
	if p.strategy, p.persist, err = fl.propagationFor(p); err != nil {
		return nil, err
	}
	logOut = cmd.ErrOrStderr()
	if err := fl.wireDelegation(p); err != nil {
		return nil, err
	}
	return p, nil
}

// providerSet builds the certificate's providers: every provider with
// zones, the certificate's zone map, and its default provider for the rest.
func providerSet(f *config.File, c *config.Certificate, env providerEnv) (*providers.Set, error) {
	built := map[string]providers.Provider{}
	get := func(name string) (providers.Provider, error) {
		if p, ok := built[name]; ok {
			return p, nil
		}
		cp := f.Providers[name]
		mk := configProviderTypes[cp.Type]
		if mk == nil {
			return nil, fmt.Errorf("provider %q: type %q cannot be built here", name, cp.Type)
		}
		p, err := mk(cp, env)
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", name, err)
		}
		if cp.SingleValue {
			p = singleValue{p}
		}
		built[name] = p
		return p, nil
	}
	var entries []providers.Entry
	seen := map[string]bool{}
	addEntry := func(name, zone string) error {
		p, err := get(name)
		if err != nil {
			return err
		}
		if !seen[zone] {
			seen[zone] = true
			entries = append(entries, providers.Entry{Name: name, Suffix: zone, Provider: p})
		}
		return nil
	}
	for zone, name := range c.ZoneProviders {
		if err := addEntry(name, zone); err != nil {
			return nil, err
		}
	}
	for name, cp := range f.Providers {
		for _, z := range cp.Zones {
			if err := addEntry(name, z); err != nil {
				return nil, err
			}
		}
	}
	if c.Provider != "" {
		if err := addEntry(c.Provider, ""); err != nil {
			return nil, err
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	return providers.NewSet(entries...)
}

// singleValue marks a configured provider as keeping one TXT per name.
type singleValue struct{ providers.Provider }

func (singleValue) SingleValue() bool { return true }

func specs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstList(vs ...[]string) []string {
	for _, v := range vs {
		if len(v) > 0 {
			return v
		}
	}
	return nil
}

func durOr(ds ...time.Duration) time.Duration {
	for _, d := range ds {
		if d != 0 {
			return d
		}
	}
	return 0
}
