package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"
	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
)

func init() { addCommand(newIssueCmd) }

// caPresets maps --server shortcuts to ACME directory URLs.
var caPresets = map[string]string{
	"letsencrypt":         "https://acme-v02.api.letsencrypt.org/directory",
	"letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
	"zerossl":             "https://acme.zerossl.com/v2/DV90",
	"google":              "https://dv.acme-v02.api.pki.goog/directory",
	"google-staging":      "https://dv.acme-v02.test-api.pki.goog/directory",
	"buypass":             "https://api.buypass.com/acme/directory",
	"buypass-staging":     "https://api.test4.buypass.no/acme/directory",
}

// directoryURL resolves a --server value: a preset name or a directory URL.
func directoryURL(server string) (string, error) {
	if u, ok := caPresets[strings.ToLower(strings.TrimSpace(server))]; ok {
		return u, nil
	}
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		switch {
		case u.Scheme == "https":
			return server, nil
		case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
			return server, nil // a local test CA; ACME itself requires HTTPS (RFC 8555 §6.1)
		case u.Scheme == "http":
			return "", usage("--server %q: ACME needs HTTPS (RFC 8555 §6.1); use the https:// directory URL", server)
		}
	}
	return "", usage("--server %q: use letsencrypt, letsencrypt-staging, zerossl, google, google-staging, buypass, buypass-staging or an https:// directory URL", server)
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

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

	// Delegation and propagation fallback (config_wiring.go).
	aliases     []string
	targets     []string
	followCNAME bool
	propTimeout time.Duration
	fallback    string

	// Renewal, CA options and hooks (renew.go, hookflags).
	preferredChain string
	reuseKey       bool
	eabKID         string
	eabHMAC        string
	eabHMACFile    string
	hooks          hookFlags
	pollInterval   time.Duration
}

func defaultPath() string {
	if os.Geteuid() == 0 {
		return "/var/lib/strictacme"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "strictacme")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "strictacme")
	}
	return "strictacme-state"
}

func (f *issueFlags) register(cmd *cobra.Command, withDNS bool) {
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.domains, "domain", "d", nil, "name for the certificate: apex, subdomain, *.wildcard or Unicode IDN (repeatable)")
	fl.StringVar(&f.email, "email", "", "contact e-mail for the ACME account")
	fl.StringVar(&f.path, "path", defaultPath(), "state directory: accounts, certificates, journal")
	fl.StringVar(&f.keyType, "key-type", "ec256", "certificate key: ec256, ec384, rsa2048, rsa3072, rsa4096")
	fl.BoolVar(&f.json, "json", false, "print one JSON object with the result on stdout")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up the whole order after this long")
	fl.StringSliceVar(&f.challenges, "challenge", []string{"dns-01"}, "challenge types in order of preference: dns-01, dns-account-01, dns-persist-01")
	fl.StringVar(&f.profile, "profile", "", "CA certificate profile (e.g. shortlived, tlsserver)")
	fl.StringVar(&f.name, "cert-name", "", "name of the certificate in the store (default: the first domain)")
	fl.BoolVar(&f.lockWait, "wait", false, "wait for another run on the same --path instead of failing")
	fl.BoolVar(&f.reuseKey, "reuse-key", false, "keep the private key of the stored certificate of the same name (also on renewals)")
	f.hooks.register(cmd)
	fl.DurationVar(&f.pollInterval, "poll-interval", 0, "longest wait between two polls when the CA sends no Retry-After (0 = 2s)")
	_ = fl.MarkHidden("poll-interval")
	if !withDNS {
		return
	}
	fl.StringVar(&f.preferredChain, "preferred-chain", "", "issuer common name of the alternate chain to prefer (e.g. \"ISRG Root X1\")")
	fl.StringVar(&f.eabKID, "eab-kid", "", "external account binding key ID from your CA account (ZeroSSL, Google, ...)")
	fl.StringVar(&f.eabHMAC, "eab-hmac-key", "", "external account binding HMAC key, base64url; prefer the environment variable or --eab-hmac-key-file")
	fl.StringVar(&f.eabHMACFile, "eab-hmac-key-file", "", "file holding the external account binding HMAC key")
	fl.StringVar(&f.server, "server", "letsencrypt", "CA: letsencrypt, letsencrypt-staging, zerossl, google, google-staging, buypass, or a directory URL")
	fl.StringArrayVar(&f.caCerts, "ca-cert", nil, "PEM file of extra trust roots for the CA and DoH servers (repeatable)")
	fl.StringVar(&f.dns, "dns", "", "DNS provider: exec, namecheap, acmedns")
	fl.StringVar(&f.propagation, "propagation", "doh", "how to know the CA can see the records: doh, resolver, authoritative, auto, provider, relay, wait, none")
	fl.StringArrayVar(&f.resolvers, "resolver", nil, "recursive resolver to check with: https:// (DoH), tls:// (DoT), udp:// (repeatable; default: Quad9, Cloudflare, Google over DoH by IP address)")
	fl.DurationVar(&f.wait, "propagation-wait", 2*time.Minute, "fixed delay for --propagation wait (measured from the last write); settle delay for provider")
	fl.IntVar(&f.quorum, "quorum", 0, "resolvers that must see the records for doh/resolver (0 = a majority of those that answer, at least 1)")
	fl.BoolVar(&f.allowPort53, "allow-port53", false, "let --propagation auto probe and use port 53 to the authoritative servers (authoritative and resolver imply it)")
	fl.DurationVar(&f.reqTimeout, "request-timeout", 5*time.Second, "timeout of one DNS question to one resolver")
	fl.BoolVar(&f.ipv4Only, "ipv4-only", false, "use IPv4 only for every connection")
	fl.BoolVar(&f.acceptTOS, "accept-tos", false, "agree to the CA's terms of service when creating the account")
	f.provValues = map[string]*string{}
	registerProviderFlags(fl, f.provValues)
	f.registerDelegation(cmd)
}

func newIssueCmd() *cobra.Command {
	var f issueFlags
	cmd := &cobra.Command{
		Use:   "issue -d NAME [-d NAME...] --dns PROVIDER",
		Short: "Obtain one certificate by DNS validation",
		Long: `Obtain one certificate by DNS validation.

All challenge records are written first (one provider call per zone), one
propagation check waits for all of them, every challenge is initiated
together, and the records are removed whatever happens. No DNS packet is sent
unless --propagation resolver/authoritative asks for it: the default checks
over DNS-over-HTTPS.

Exit codes: 0 ok, 2 usage or config, 3 CA refused, 4 DNS provider or DNS
failure, 5 timeout, 6 required record missing, 7 another run holds the lock,
130 interrupted.`,
		Example: `  EXEC_PATH=./dns-hook.sh strictacme issue --server letsencrypt-staging \
    --accept-tos --email ops@example.com --dns exec -d example.com -d '*.example.com'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.waitSet = cmd.Flags().Changed("propagation-wait")
			f.lookup = providerLookup(cmd.Flags(), f.provValues)
			plan, err := f.plan(cmd.Context())
			if err != nil {
				return err
			}
			return runPlan(cmd.Context(), plan, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd, true)
	return withEnv(cmd)
}

// plan is everything one issuance needs, built from flags (issue) or from the
// test world (sandbox): both then run exactly the same code.
type plan struct {
	directory   string
	httpClient  *http.Client
	rootCAs     *x509.CertPool
	caCertFiles []string // the --ca-cert files behind rootCAs
	identifiers []names.Identifier
	keyType     issue.KeyType
	challenges  []challenge.Type
	profile     string
	certName    string
	path        string
	email       string
	acceptTOS   bool
	json        bool
	timeout     time.Duration
	lockWait    bool
	providers   *providers.Set
	strategy    propagation.Strategy
	persist     issue.PersistChecker
	lookup      func(string) (string, bool) // provider settings; nil means the environment
	delegate    issue.Delegator
	pollEvery   time.Duration

	// Renewal, CA options and hooks.
	preferredChain string
	reuseKey       bool
	eab            *acme.EAB
	hooks          hookFlags
	replaces       string                 // ARI ID of the certificate being renewed
	renewed        bool                   // the order renews a stored certificate
	settings       *store.RenewalSettings // kept in the metadata for renew
}

func usage(format string, a ...any) error {
	return exitcode.With(exitcode.Usage, fmt.Errorf(format, a...))
}

// common validates the flags shared by every issuing command.
func (f *issueFlags) common() (*plan, error) {
	ids, err := names.ParseAll(f.domains)
	if err != nil {
		return nil, exitcode.With(exitcode.Usage, err)
	}
	kt, err := issue.ParseKeyType(f.keyType)
	if err != nil {
		return nil, usage("--key-type: %v", err)
	}
	chals, err := challenge.ParseTypes(f.challenges)
	if err != nil {
		return nil, usage("--challenge: %v", err)
	}
	if f.timeout <= 0 {
		return nil, usage("--timeout must be positive, e.g. 10m")
	}
	if f.path == "" {
		return nil, usage("--path is empty; give a state directory")
	}
	if f.name != "" {
		if err := store.CheckCertName(f.name); err != nil {
			return nil, usage("--cert-name: %v", err)
		}
	}
	if e := strings.TrimSpace(f.email); e != "" && (strings.ContainsAny(e, " \t,;<>") || strings.Count(e, "@") != 1 || strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@")) {
		return nil, usage("--email %q: give one address such as ops@example.com", f.email)
	}
	if f.wait < 0 {
		return nil, usage("--propagation-wait %s: must not be negative", f.wait)
	}
	if (f.hooks.pre != "" || f.hooks.deployCmd != "" || f.hooks.post != "") && f.hooks.timeout <= 0 {
		return nil, usage("--hook-timeout %s: must be positive, e.g. 5m", f.hooks.timeout)
	}
	return &plan{
		identifiers: ids, keyType: kt, challenges: chals, profile: f.profile, certName: f.name,
		path: f.path, email: f.email, acceptTOS: f.acceptTOS, json: f.json, timeout: f.timeout, lockWait: f.lockWait,
		reuseKey: f.reuseKey, hooks: f.hooks, pollEvery: f.pollInterval,
	}, nil
}

func (f *issueFlags) plan(ctx context.Context) (*plan, error) {
	p, err := f.common()
	if err != nil {
		return nil, err
	}
	if p.directory, err = directoryURL(f.server); err != nil {
		return nil, err
	}
	p.lookup = f.lookup
	p.rootCAs, err = loadRoots(f.caCerts)
	p.caCertFiles = f.caCerts
	if err != nil {
		return nil, err
	}
	p.httpClient = httpClient(p.rootCAs, f.ipv4Only)
	if f.dns == "" && !onlyPersist(p.challenges) {
		return nil, usage("--dns is required: exec, namecheap or acmedns (see --help)")
	}
	if f.dns != "" {
		entry, err := providerFromEnv(ctx, f.dns, p)
		if err != nil {
			return nil, err
		}
		if p.providers, err = providers.NewSet(entry); err != nil {
			return nil, exitcode.With(exitcode.Usage, err)
		}
	}
	p.strategy, p.persist, err = f.propagationFor(p)
	if err != nil {
		return nil, err
	}
	if err := f.wireDelegation(p); err != nil {
		return nil, err
	}
	p.preferredChain = f.preferredChain
	if p.eab, err = f.externalAccountBinding(); err != nil {
		return nil, err
	}
	p.settings = f.renewalSettings()
	return p, nil
}

func onlyPersist(ts []challenge.Type) bool {
	return len(ts) == 1 && ts[0] == challenge.DNSPersist01
}

func loadRoots(files []string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, usage("--ca-cert %s: %v", f, errors.Unwrap(err))
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, usage("--ca-cert %s: no PEM certificate found; give a PEM file", f)
		}
	}
	return pool, nil
}

func httpClient(roots *x509.CertPool, ipv4Only bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if ipv4Only {
		d := tr.DialContext
		tr.DialContext = func(ctx context.Context, _, addr string) (net.Conn, error) { return d(ctx, "tcp4", addr) }
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// result is the --json output.
type result struct {
	OK          bool           `json:"ok"`
	ExitCode    int            `json:"exit_code"`
	Error       string         `json:"error,omitempty"`
	Names       []string       `json:"names"`
	Directory   string         `json:"ca_directory"`
	Certificate *certFiles     `json:"certificate,omitempty"`
	Records     []issue.Record `json:"records,omitempty"`
	Stats       *issue.Stats   `json:"stats,omitempty"`
	DurationMS  int64          `json:"duration_ms"`
}

type certFiles struct {
	Dir       string    `json:"dir"`
	Privkey   string    `json:"privkey"`
	Cert      string    `json:"cert"`
	Chain     string    `json:"chain"`
	Fullchain string    `json:"fullchain"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Issuer    string    `json:"issuer"`
	ARICertID string    `json:"ari_cert_id,omitempty"`
}

// runPlan runs one issuance and prints the result.
func runPlan(ctx context.Context, p *plan, stdout, stderr io.Writer) error {
	start := time.Now()
	logf := func(line string) { fmt.Fprintln(stderr, line) }
	res, err := p.hooks.around(ctx, stderr, []string{certDirName(p)}, func() (*issue.Result, error) {
		res, err := obtain(ctx, p, logf)
		if err == nil && res != nil && res.Certificate != nil && !p.renewed {
			// A new certificate starts with a clean renewal history.
			_ = os.Remove(filepath.Join((&store.Store{Root: p.path}).CertDir(res.Certificate.Name), renewal.StateFile))
		}
		if err == nil && res != nil && res.Certificate != nil {
			err = p.hooks.deploy(ctx, stderr, p.path, res.Certificate, p.renewed)
		}
		return res, err
	})
	out := result{OK: err == nil, ExitCode: exitcode.Of(err), Directory: p.directory, DurationMS: time.Since(start).Milliseconds()}
	for _, id := range p.identifiers {
		out.Names = append(out.Names, id.ASCII)
	}
	if err != nil {
		out.Error = err.Error()
	}
	if res != nil {
		out.Records, out.Stats = res.Records, &res.Stats
		if c := res.Certificate; c != nil {
			st := &store.Store{Root: p.path}
			dir := st.CertDir(c.Name)
			out.Certificate = &certFiles{
				Dir: dir, Privkey: filepath.Join(dir, store.PrivkeyFile), Cert: filepath.Join(dir, store.CertFile),
				Chain: filepath.Join(dir, store.ChainFile), Fullchain: filepath.Join(dir, store.FullchainFile),
				Serial: c.Meta.Serial, NotBefore: c.Meta.NotBefore, NotAfter: c.Meta.NotAfter, Issuer: c.Meta.Issuer, ARICertID: c.Meta.ARICertID,
			}
		}
	}
	if p.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else if out.Certificate != nil {
		fmt.Fprintf(stdout, "certificate for %s in %s (not after %s)\n", strings.Join(out.Names, ", "), out.Certificate.Dir, out.Certificate.NotAfter.Format(time.RFC3339))
	}
	return err
}

// obtain is the shared path of issue and sandbox: lock, sweep leftovers,
// account, order.
func obtain(ctx context.Context, p *plan, logf func(string)) (*issue.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	st, unlock, err := openLocked(ctx, p.path, p.lockWait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return obtainLocked(ctx, st, p, logf)
}

// lockStore takes the run lock of st (exit code Busy when another run holds
// it and wait is false).
func lockStore(ctx context.Context, st *store.Store, wait bool) (func(), error) {
	unlock, err := st.Lock(ctx, wait)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, exitcode.With(exitcode.Busy, err)
		}
		return nil, err
	}
	return unlock, nil
}

// openLocked opens the state directory and takes its run lock: one
// issue/renew/revoke/account at a time per --path (exit 7 when busy
// without --wait).
func openLocked(ctx context.Context, path string, wait bool) (*store.Store, func(), error) {
	st, err := store.Open(path)
	if err != nil {
		return nil, nil, exitcode.With(exitcode.Usage, fmt.Errorf("--path: %w", err))
	}
	return lockOpened(ctx, st, wait)
}

// openExistingLocked is openLocked for commands that only work on state
// that exists (renew, revoke, account): a missing --path is an error.
func openExistingLocked(ctx context.Context, path string, wait bool) (*store.Store, func(), error) {
	st, err := store.OpenExisting(path)
	if err != nil {
		return nil, nil, exitcode.With(exitcode.Usage, err)
	}
	return lockOpened(ctx, st, wait)
}

func lockOpened(ctx context.Context, st *store.Store, wait bool) (*store.Store, func(), error) {
	unlock, err := lockStore(ctx, st, wait)
	if err != nil {
		if exitcode.Of(err) == exitcode.Failure { // not "busy": e.g. a read-only directory
			err = exitcode.With(exitcode.Usage, fmt.Errorf("--path %s: %w", st.Root, err))
		}
		return nil, nil, err
	}
	return st, unlock, nil
}

// journalDamaged returns err with exit code State if it says that
// journal.json was damaged, else nil: a run stops there, before the CA is
// asked for anything, so that the user looks at the damaged file.
func journalDamaged(err error) error {
	var de *store.JournalDamagedError
	if errors.As(err, &de) {
		return exitcode.With(exitcode.State, err)
	}
	return nil
}

// obtainLocked runs one order with the run lock already held (renew holds it
// for all its certificates): sweep leftovers, account, profile check, order.
func obtainLocked(ctx context.Context, st *store.Store, p *plan, logf func(string)) (*issue.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	defer useProviderLog(logf)()
	armKillSwitch(p, logf)
	is, err := issue.New(issue.Config{
		Directory: p.directory, HTTPClient: p.httpClient, Store: st, Providers: p.providers,
		Propagation: p.strategy, Persist: p.persist, Delegate: p.delegate, Log: logf, PollInterval: p.pollEvery,
		UserAgent: version,
	})
	if err != nil {
		return nil, err
	}
	if n, err := is.Sweep(ctx); journalDamaged(err) != nil {
		return nil, journalDamaged(err)
	} else if err != nil {
		logf(fmt.Sprintf("journal: %v", err))
	} else if n > 0 {
		logf(fmt.Sprintf("journal: removed %d leftover record(s)", n))
	}
	acct, created, err := is.Account(ctx, issue.AccountOptions{Email: p.email, AcceptTOS: p.acceptTOS, EAB: p.eab})
	if err != nil {
		return nil, err
	}
	if created {
		logf("account created: " + acct.Location)
	} else {
		logf("account: " + acct.Location)
	}
	if err := is.CheckProfile(ctx, p.profile); err != nil {
		return nil, err
	}
	var key []byte
	if p.reuseKey {
		if old, err := st.LoadCertificate(certDirName(p)); err == nil {
			if old.Meta.KeyType != "" && old.Meta.KeyType != string(p.keyType) {
				return nil, usage("--reuse-key: the stored key of %s is %s, not --key-type %s; drop one of the two flags", certDirName(p), old.Meta.KeyType, p.keyType)
			}
			key = old.KeyPEM
			logf("reusing the private key of the stored certificate")
		}
	}
	return is.Obtain(ctx, issue.Request{
		Identifiers: p.identifiers, KeyType: p.keyType, Challenges: p.challenges, Profile: p.profile, Name: p.certName,
		Replaces: p.replaces, PreferredChain: p.preferredChain, Key: key, Renewal: p.settings,
	})
}
