package migrate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/store"
)

// lego's layout, as its storage code writes it (lego v4 cmd/accounts_storage.go
// and cmd/certs_storage.go; v5 cmd/internal/storage):
//
//	accounts/<host>/<id>/account.json   v4: {email, registration: {body, uri}}
//	                                    v5: {id, email, keyType, server, registration: {…, accountURL}}
//	accounts/<host>/<id>/keys/<id>.key  v4: account key, PEM
//	accounts/<host>/<id>/<id>.key       v5: account key, PEM
//	certificates/<name>.crt             leaf + intermediates (leaf alone with --no-bundle)
//	certificates/<name>.issuer.crt      the issuer
//	certificates/<name>.key             certificate key, PEM
//	certificates/<name>.json            v4: {domain, certUrl, certStableUrl}
//	                                    v5: {id, domains, keyType, preferredChain, profile, certUrl, certStableUrl}
//	.lego.bck.yaml                      v5: the effective configuration of the last run
//
// <host> is the CA directory URL's host with ":" and "/" made "_"; <id>
// is the account ID (the email by default).

// legoAccountJSON is account.json of both versions.
type legoAccountJSON struct {
	ID           string `json:"id"`
	Email        string `json:"email"`
	Server       string `json:"server"`
	Registration *struct {
		URI        string   `json:"uri"`        // v4
		AccountURL string   `json:"accountURL"` // v5
		Contact    []string `json:"contact"`    // v5
		Body       struct {
			Contact []string `json:"contact"`
		} `json:"body"` // v4
	} `json:"registration"`
}

// legoResource is certificates/<name>.json of both versions.
type legoResource struct {
	Domain         string   `json:"domain"`  // v4
	ID             string   `json:"id"`      // v5
	Domains        []string `json:"domains"` // v5
	PreferredChain string   `json:"preferredChain"`
	Profile        string   `json:"profile"`
	CertURL        string   `json:"certUrl"`
}

// legoConfig is the part of lego v5's configuration (.lego.bck.yaml) that
// maps to settings.
type legoConfig struct {
	Servers  map[string]struct{ URL string } `yaml:"servers"`
	Accounts map[string]struct {
		Server string `yaml:"server"`
		Email  string `yaml:"email"`
	} `yaml:"accounts"`
	Challenges map[string]struct {
		HTTP       any `yaml:"http"`
		TLS        any `yaml:"tls"`
		DNSPersist any `yaml:"dnsPersist"`
		DNS        *struct {
			Provider    string   `yaml:"provider"`
			EnvFile     string   `yaml:"envFile"`
			Resolvers   []string `yaml:"resolvers"`
			Propagation *struct {
				Wait time.Duration `yaml:"wait"`
			} `yaml:"propagation"`
		} `yaml:"dns"`
	} `yaml:"challenges"`
	Certificates map[string]struct {
		Domains        []string `yaml:"domains"`
		Challenge      string   `yaml:"challenge"`
		Account        string   `yaml:"account"`
		PreferredChain string   `yaml:"preferredChain"`
		Profile        string   `yaml:"profile"`
		MustStaple     bool     `yaml:"mustStaple"`
		Renew          *struct {
			ReuseKey bool `yaml:"reuseKey"`
			Days     int  `yaml:"days"`
		} `yaml:"renew"`
	} `yaml:"certificates"`
	Hooks *struct {
		Pre    *struct{ Command string } `yaml:"pre"`
		Deploy *struct{ Command string } `yaml:"deploy"`
		Post   *struct{ Command string } `yaml:"post"`
	} `yaml:"hooks"`
}

// legoConfigFile is where lego v5 keeps the configuration of its last run.
const legoConfigFile = ".lego.bck.yaml"

// legoProviders maps lego's DNS provider codes to strictacme's kinds.
var legoProviders = map[string]string{"exec": "exec", "namecheap": "namecheap", "rfc2136": "rfc2136", "acme-dns": "acmedns", "acmedns": "acmedns"}

// sanitizeHost is lego's folder name for a CA: the directory URL's host
// with ":" and "/" replaced by "_".
func sanitizeHost(dir string) string {
	u, err := url.Parse(dir)
	if err != nil {
		return ""
	}
	return strings.NewReplacer(":", "_", "/", "_", `\`, "_").Replace(u.Host)
}

func readLego(root string, o Options) (*Plan, error) {
	p := &Plan{Tool: "lego", Layout: "lego v4", Path: root}
	var cfg legoConfig
	if b, err := os.ReadFile(filepath.Join(root, legoConfigFile)); err == nil {
		if err := yaml.Unmarshal(b, &cfg); err != nil {
			return nil, fmt.Errorf("%s: %v", filepath.Join(root, legoConfigFile), err)
		}
		p.Layout = "lego v5"
	}
	// Accounts, by CA directory.
	byDir := map[string][]Account{}
	files, _ := filepath.Glob(filepath.Join(root, "accounts", "*", "*", "account.json"))
	sort.Strings(files)
	for _, f := range files {
		a, v5, err := readLegoAccount(f, o)
		if err != nil {
			return nil, err
		}
		if v5 {
			p.Layout = "lego v5"
		}
		byDir[a.Acc.Directory] = append(byDir[a.Acc.Directory], a)
	}
	for _, dir := range sortedKeys(byDir) {
		a, err := pick(byDir[dir], o.Account, dir, "lego account ID")
		if err != nil {
			return nil, err
		}
		p.Accounts = append(p.Accounts, a)
	}
	// Certificates: lego writes NAME.json beside every NAME.crt; a
	// certificate without it would be skipped in silence.
	res, _ := filepath.Glob(filepath.Join(root, "certificates", "*.json"))
	sort.Strings(res)
	crts, _ := filepath.Glob(filepath.Join(root, "certificates", "*.crt"))
	sort.Strings(crts)
	for _, c := range crts {
		base := strings.TrimSuffix(c, ".crt")
		if strings.HasSuffix(base, ".issuer") {
			continue
		}
		if _, err := os.Stat(base + ".json"); err != nil {
			return nil, exitcode.With(exitcode.Usage, fmt.Errorf("%s has no %s beside it (lego writes one for every certificate, with its names and account); copy it from the lego tree, or issue this certificate anew with strictacme issue", rel(root, c), filepath.Base(base)+".json"))
		}
	}
	for _, f := range res {
		base := strings.TrimSuffix(f, ".json")
		var r legoResource
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f, unwrapPath(err))
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		if r.ID != "" || len(r.Domains) > 0 {
			p.Layout = "lego v5"
		}
		crt, err := os.ReadFile(base + ".crt")
		if err != nil {
			return nil, fmt.Errorf("%s: %v", base+".crt", unwrapPath(err))
		}
		key, err := os.ReadFile(base + ".key")
		if err != nil {
			return nil, fmt.Errorf("%s: %v; lego keeps no key for a certificate ordered with --csr, so strictacme cannot renew it as it is: issue it anew", base+".key", unwrapPath(err))
		}
		issuer, _ := os.ReadFile(base + ".issuer.crt")
		in := certInput{source: rel(root, base+".crt"), keyPEM: key, chainPEM: crt, issuerPEM: issuer, names: r.Domains}
		acct, err := legoCertAccount(p.Accounts, r.CertURL)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", rel(root, f), err)
		}
		in.directory, in.account = acct.Acc.Directory, acct.Acc.URL
		in.settings.Email = acct.Email()
		in.settings.PreferredChain, in.settings.Profile = r.PreferredChain, r.Profile
		id := r.ID
		if id == "" {
			id = r.Domain
		}
		mapLegoConfig(&in, cfg, id, o)
		for ext, flag := range map[string]string{".pem": "--pem: set --install-pem", ".pfx": "--pfx: set --install-pkcs12 and its password"} {
			if _, err := os.Stat(base + ext); err == nil {
				in.notes = append(in.notes, fmt.Sprintf("%s (lego %s to the path your service reads)", rel(root, base+ext), flag))
			}
		}
		c, err := build(in, o)
		if err != nil {
			return nil, err
		}
		p.Certificates = append(p.Certificates, c)
	}
	return p, nil
}

func readLegoAccount(file string, o Options) (a Account, v5 bool, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return a, false, fmt.Errorf("%s: %v", file, unwrapPath(err))
	}
	var j legoAccountJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return a, false, fmt.Errorf("%s: %v", file, err)
	}
	dir := filepath.Dir(file)
	id := filepath.Base(dir)
	host := filepath.Base(filepath.Dir(dir))
	v5 = j.Server != "" || j.ID != ""
	if j.Registration == nil || (j.Registration.URI == "" && j.Registration.AccountURL == "") {
		return a, v5, fmt.Errorf("%s: no registration URL: lego never registered this account (or lost it); recover it with lego first, or let strictacme create a new account", file)
	}
	a.Acc.URL = j.Registration.URI + j.Registration.AccountURL
	a.Acc.Contact = j.Registration.Body.Contact
	if len(j.Registration.Contact) > 0 {
		a.Acc.Contact = j.Registration.Contact
	}
	if len(a.Acc.Contact) == 0 && j.Email != "" {
		a.Acc.Contact = []string{"mailto:" + j.Email}
	}
	for i, c := range a.Acc.Contact {
		if !strings.Contains(c, ":") {
			a.Acc.Contact[i] = "mailto:" + c
		}
	}
	a.Acc.Directory, err = legoDirectory(j.Server, host, o)
	if err != nil {
		return a, v5, fmt.Errorf("%s: %v", file, err)
	}
	keyFile := filepath.Join(dir, id+".key")
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		keyFile = filepath.Join(dir, "keys", id+".key")
		if kb, err = os.ReadFile(keyFile); err != nil {
			return a, v5, fmt.Errorf("%s: no account key (%s.key or keys/%s.key)", dir, id, id)
		}
	}
	if a.Acc.Key, err = store.ParsePrivateKey(kb); err != nil {
		return a, v5, fmt.Errorf("%s: %v", keyFile, err)
	}
	a.ID, a.Source = id, filepath.Join("accounts", host, id)
	a.Acc.Created = time.Now().UTC()
	return a, v5, nil
}

// legoDirectory is the CA directory of a lego account: the server its
// account.json records (v5), else the one of --server or the CA presets
// whose host is the account's folder.
func legoDirectory(server, host string, o Options) (string, error) {
	if server != "" {
		return server, nil
	}
	if o.Server != "" {
		d, err := plan.DirectoryURL(o.Server)
		if err != nil {
			return "", fmt.Errorf("--server %v", err)
		}
		if sanitizeHost(d) == host {
			return d, nil
		}
	}
	// Several presets can share a host (sectigo, sectigoev, sectigoov):
	// then the host alone does not say which directory it was.
	var names []string
	for _, name := range sortedKeys(plan.CAPresets) {
		if sanitizeHost(plan.CAPresets[name]) == host {
			names = append(names, name)
		}
	}
	switch len(names) {
	case 1:
		return plan.CAPresets[names[0]], nil
	case 0:
		return "", fmt.Errorf("lego records only the CA's host (%s); pass --server with its ACME directory URL", host)
	}
	return "", fmt.Errorf("lego records only the CA's host (%s), which serves %s; pass --server with the one the account is for", host, strings.Join(names, ", "))
}

// legoCertAccount is the account a lego certificate belongs to: lego
// records no CA with a certificate, so the account whose CA served its
// certUrl, or the only account.
func legoCertAccount(accts []Account, certURL string) (Account, error) {
	if u, err := url.Parse(certURL); err == nil && u.Host != "" {
		for _, a := range accts {
			if d, err := url.Parse(a.Acc.Directory); err == nil && d.Host == u.Host {
				return a, nil
			}
		}
	}
	if len(accts) == 1 {
		return accts[0], nil
	}
	if len(accts) == 0 {
		return Account{}, fmt.Errorf("no lego account found under accounts/; strictacme needs the account that ordered the certificate to renew it with ARI")
	}
	return Account{}, fmt.Errorf("cannot tell which CA issued it (certUrl %q); import the tree once per CA with --account", certURL)
}

// mapLegoConfig applies what lego v5's configuration says about
// certificate id.
func mapLegoConfig(in *certInput, cfg legoConfig, id string, o Options) {
	c, ok := cfg.Certificates[id]
	if !ok {
		in.notes = append(in.notes, "renewal settings: lego keeps none in this tree (pass --dns, and set hooks in a config file)")
		return
	}
	if c.PreferredChain != "" {
		in.settings.PreferredChain = c.PreferredChain
		in.mapped = append(in.mapped, "preferred chain "+c.PreferredChain)
	}
	if c.Profile != "" {
		in.settings.Profile = c.Profile
		in.mapped = append(in.mapped, "profile "+c.Profile)
	}
	if c.Renew != nil && c.Renew.ReuseKey {
		in.settings.ReuseKey = true
		in.mapped = append(in.mapped, "reuse key")
	}
	if c.Renew != nil && c.Renew.Days > 0 {
		in.notes = append(in.notes, fmt.Sprintf("renew.days %d: strictacme renews in the CA's ARI window, else at a third of the lifetime left", c.Renew.Days))
	}
	if c.MustStaple {
		in.notes = append(in.notes, "mustStaple: not requested (Let's Encrypt ended OCSP)")
	}
	if ch, ok := cfg.Challenges[c.Challenge]; ok {
		switch {
		case ch.DNS != nil:
			mapLegoDNS(in, ch.DNS.Provider, ch.DNS.EnvFile)
			if ch.DNS.Propagation != nil && ch.DNS.Propagation.Wait > 0 && o.Propagation == "" {
				in.settings.Propagation = "wait"
				in.settings.PropagationWait = plan.Duration(ch.DNS.Propagation.Wait)
				in.mapped = append(in.mapped, "propagation wait "+ch.DNS.Propagation.Wait.String())
			}
			if len(ch.DNS.Resolvers) > 0 {
				in.notes = append(in.notes, "resolvers "+strings.Join(ch.DNS.Resolvers, ",")+": port 53 resolvers; strictacme asks over DNS-over-HTTPS (set resolvers to https:// URLs if needed)")
			}
		case ch.DNSPersist != nil:
			in.settings.Challenges = []string{"dns-persist-01"}
			in.mapped = append(in.mapped, "challenge dns-persist-01")
		default:
			in.notes = append(in.notes, fmt.Sprintf("challenge %s: HTTP-01/TLS-ALPN-01; strictacme validates by DNS only: pass --dns", c.Challenge))
		}
	}
	if h := cfg.Hooks; h != nil {
		if h.Pre != nil && h.Pre.Command != "" {
			in.settings.PreHook = h.Pre.Command
			in.mapped = append(in.mapped, "pre hook")
		}
		if h.Deploy != nil && h.Deploy.Command != "" {
			in.settings.DeployHook = h.Deploy.Command
			in.mapped = append(in.mapped, "deploy hook (gets LEGO_HOOK_CERT_* as before)")
		}
		if h.Post != nil && h.Post.Command != "" {
			in.settings.PostHook = h.Post.Command
			in.mapped = append(in.mapped, "post hook")
		}
	}
}

// mapLegoDNS maps lego's DNS provider code and its environment file.
// Plain settings of the file become the provider's config values; secrets
// are not copied: renew reads them from its environment, as lego did.
func mapLegoDNS(in *certInput, code, envFile string) {
	kindName, ok := legoProviders[code]
	k, known := plan.LookupProvider(kindName)
	if !ok || !known {
		in.notes = append(in.notes, fmt.Sprintf("DNS provider %s: strictacme has no such provider; pass --dns with one of %s", code, strings.Join(plan.ProviderNames(), ", ")))
		return
	}
	ref := plan.EnvProvider(k.Name, nil)
	if envFile != "" {
		env, err := readEnvFile(envFile)
		if err != nil {
			in.notes = append(in.notes, fmt.Sprintf("envFile %s: %v; set the %s settings in renew's environment", envFile, err, k.Name))
		}
		for _, key := range k.Keys {
			v, ok := env[key.Env]
			switch {
			case !ok:
			case key.Secret:
				in.notes = append(in.notes, fmt.Sprintf("%s (a secret in %s): not copied; give renew %s or %s_FILE", key.Env, envFile, key.Env, key.Env))
			default:
				if ref.Values == nil {
					ref.Values = map[string]string{}
				}
				ref.Values[key.Name] = v
			}
		}
	}
	in.settings.Provider = k.Name
	in.settings.Providers = []plan.ProviderRef{ref}
	in.mapped = append(in.mapped, "DNS provider "+k.Name)
}

// readEnvFile reads a dotenv file as lego reads --dns.env-file: KEY=VALUE
// lines, "#" comments, optional "export " and quotes.
func readEnvFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(k)] = v
	}
	return out, sc.Err()
}

// pick returns the one account of a CA: the only one, or the one named by
// want (--account).
func pick(accts []Account, want, dir, what string) (Account, error) {
	if want != "" {
		for _, a := range accts {
			if a.ID == want {
				return a, nil
			}
		}
	}
	if len(accts) == 1 && want == "" {
		return accts[0], nil
	}
	ids := make([]string, len(accts))
	for i, a := range accts {
		ids[i] = a.ID
	}
	if want != "" {
		return Account{}, fmt.Errorf("--account %s: no such account for %s; there are %s", want, dir, strings.Join(ids, ", "))
	}
	return Account{}, fmt.Errorf("%d accounts for %s (%s); strictacme keeps one per CA: choose with --account (the %s)", len(accts), dir, strings.Join(ids, ", "), what)
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}
