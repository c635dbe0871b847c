package migrate

import (
	"bufio"
	"bytes"
	"crypto"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/store"
)

// DefaultCertbotPath is certbot's default --config-dir.
const DefaultCertbotPath = "/etc/letsencrypt"

// certbot's layout (certbot/_internal/account.py, storage.py):
//
//	accounts/<server path>/<id>/private_key.json  account key, JWK
//	accounts/<server path>/<id>/regr.json         {"body": {…}, "uri": account URL}
//	accounts/<server path>/<id>/meta.json         {"creation_dt", "creation_host", …}
//	live/<name>/{cert,chain,fullchain,privkey}.pem symlinks to archive/<name>/*N.pem
//	renewal/<name>.conf                           ConfigObj: paths, then [renewalparams]
//
// <server path> is the directory URL's host and path ("acme-v02.api.letsencrypt.org/directory");
// <id> is the MD5 of the account's public key, hex.

// certbotConf is a renewal configuration file: top-level keys, and
// sections by name ("renewalparams", "webroot_map") with their keys.
type certbotConf struct {
	top      map[string]string
	sections map[string]map[string]string
}

// readConfigObj reads the subset of ConfigObj certbot writes: "key = value"
// lines, "#" comments, [section] and [[subsection]] headers. Subsections
// are keyed by their own name.
func readConfigObj(data []byte) (certbotConf, error) {
	c := certbotConf{top: map[string]string{}, sections: map[string]map[string]string{}}
	cur := c.top
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			name := strings.Trim(line, "[] ")
			cur = map[string]string{}
			c.sections[name] = cur
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return c, fmt.Errorf("line %d: want key = value", n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		cur[strings.TrimSpace(k)] = v
	}
	return c, sc.Err()
}

func readCertbot(root string, o Options) (*Plan, error) {
	p := &Plan{Tool: "certbot", Layout: "certbot", Path: root}
	accounts, err := readCertbotAccounts(root)
	if err != nil {
		return nil, err
	}
	confs, _ := filepath.Glob(filepath.Join(root, "renewal", "*.conf"))
	sort.Strings(confs)
	used := map[string]certbotAccount{} // by certbot account ID, with its CA
	for _, f := range confs {
		name := strings.TrimSuffix(filepath.Base(f), ".conf")
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f, unwrapPath(err))
		}
		conf, err := readConfigObj(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		rp := conf.sections["renewalparams"]
		server := rp["server"]
		if server == "" {
			server = plan.CAPresets["letsencrypt"] // certbot's default
		}
		acct, err := certbotAccountFor(accounts, rp["account"], server, o.Account)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", rel(root, f), err)
		}
		acct.Acc.Directory = server
		if prev, ok := used[acct.ID]; ok && prev.Acc.Directory != server {
			return nil, fmt.Errorf("%s: account %s is used for two CAs (%s, %s)", rel(root, f), acct.ID, prev.Acc.Directory, server)
		}
		used[acct.ID] = acct
		live := filepath.Join(root, "live", name)
		key, err := readFile(live, "privkey.pem")
		if err != nil {
			return nil, err
		}
		full, err := readFile(live, "fullchain.pem")
		if err != nil {
			return nil, err
		}
		in := certInput{source: rel(root, f), keyPEM: key, chainPEM: full, directory: server, account: acct.Acc.URL}
		in.settings.Email = acct.Email()
		mapCertbot(&in, rp, conf)
		c, err := build(in, o)
		if err != nil {
			return nil, err
		}
		// certbot users know their certificates by lineage name.
		if err := renameCert(&c, name); err != nil {
			return nil, fmt.Errorf("%s: %v", rel(root, f), err)
		}
		p.Certificates = append(p.Certificates, c)
	}
	// One account per CA: those the certificates use; with none, all.
	byDir := map[string][]Account{}
	if len(used) == 0 {
		for _, a := range accounts {
			a.Acc.Directory = "https://" + a.serverPath
			byDir[a.Acc.Directory] = append(byDir[a.Acc.Directory], a.Account)
		}
	}
	for _, a := range used {
		byDir[a.Acc.Directory] = append(byDir[a.Acc.Directory], a.Account)
	}
	for _, dir := range sortedKeys(byDir) {
		sort.Slice(byDir[dir], func(i, j int) bool { return byDir[dir][i].ID < byDir[dir][j].ID })
		a, err := pick(byDir[dir], o.Account, dir, "certbot account hash, the name of its folder under accounts/")
		if err != nil {
			return nil, err
		}
		p.Accounts = append(p.Accounts, a)
		for i := range p.Certificates {
			if c := &p.Certificates[i]; c.Cert.Meta.Directory == dir && c.Cert.Meta.Account != a.Acc.URL {
				c.NotCarried = append(c.NotCarried, "account "+c.Cert.Meta.Account+": another account of the same CA is imported; the next order has no ARI replaces")
			}
		}
	}
	return p, nil
}

// certbotAccountFor is the account a renewal configuration names, or,
// where it names none (older certbot wrote "account = None"), the one
// account certbot keeps for server (or want, --account).
func certbotAccountFor(accounts map[string]certbotAccount, id, server, want string) (certbotAccount, error) {
	if id != "" && id != "None" {
		a, ok := accounts[id]
		if !ok {
			return a, fmt.Errorf("account %s is not under accounts/", id)
		}
		return a, nil
	}
	var match []certbotAccount
	for _, a := range accounts {
		if "https://"+a.serverPath == server && (want == "" || a.ID == want) {
			match = append(match, a)
		}
	}
	if len(match) != 1 {
		return certbotAccount{}, fmt.Errorf("names no account and %d accounts are stored for %s; choose one with --account", len(match), server)
	}
	return match[0], nil
}

type certbotAccount struct {
	Account
	serverPath string
}

// readCertbotAccounts reads every account under accounts/, by ID.
func readCertbotAccounts(root string) (map[string]certbotAccount, error) {
	out := map[string]certbotAccount{}
	base := filepath.Join(root, "accounts")
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == base {
				return fs.SkipDir
			}
			return err
		}
		if d.IsDir() || d.Name() != "regr.json" {
			return nil
		}
		dir := filepath.Dir(path)
		a, err := readCertbotAccount(dir)
		if err != nil {
			return err
		}
		a.serverPath = filepath.ToSlash(rel(base, filepath.Dir(dir)))
		a.Source = rel(root, dir)
		out[a.ID] = a
		return nil
	})
	return out, err
}

func readCertbotAccount(dir string) (certbotAccount, error) {
	var a certbotAccount
	a.ID = filepath.Base(dir)
	b, err := readFile(dir, "regr.json")
	if err != nil {
		return a, err
	}
	var regr struct {
		URI  string `json:"uri"`
		Body struct {
			Contact []string `json:"contact"`
		} `json:"body"`
	}
	if err := json.Unmarshal(b, &regr); err != nil {
		return a, fmt.Errorf("%s: %v", filepath.Join(dir, "regr.json"), err)
	}
	if regr.URI == "" {
		return a, fmt.Errorf("%s: no account URL (uri)", filepath.Join(dir, "regr.json"))
	}
	a.Acc.URL, a.Acc.Contact = regr.URI, regr.Body.Contact
	if b, err = readFile(dir, "private_key.json"); err != nil {
		return a, err
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(b); err != nil {
		return a, fmt.Errorf("%s: %v", filepath.Join(dir, "private_key.json"), err)
	}
	signer, ok := jwk.Key.(crypto.Signer)
	if !ok || !jwk.Valid() || jwk.IsPublic() {
		return a, fmt.Errorf("%s: not a private key", filepath.Join(dir, "private_key.json"))
	}
	a.Acc.Key = signer
	a.Acc.Created = time.Now().UTC()
	if b, err := os.ReadFile(filepath.Join(dir, "meta.json")); err == nil {
		var meta struct {
			Created time.Time `json:"creation_dt"`
		}
		if json.Unmarshal(b, &meta) == nil && !meta.Created.IsZero() {
			a.Acc.Created = meta.Created.UTC()
		}
	}
	return a, nil
}

// certbotDNSPlugins maps certbot authenticators to strictacme provider
// kinds: the third-party namecheap plugins, and the acme-dns plugin.
var certbotDNSPlugins = map[string]string{"dns-namecheap": "namecheap", "certbot-dns-namecheap:dns-namecheap": "namecheap", "dns-rfc2136": "rfc2136", "dns-acmedns": "acmedns", "certbot-dns-acmedns:dns-acmedns": "acmedns"}

// mapCertbot maps [renewalparams] of a renewal configuration.
func mapCertbot(in *certInput, rp map[string]string, conf certbotConf) {
	auth := rp["authenticator"]
	switch kind, ok := certbotDNSPlugins[auth]; {
	case ok:
		ref := plan.EnvProvider(kind, nil)
		prefix := strings.ReplaceAll(strings.TrimPrefix(auth[strings.LastIndex(auth, ":")+1:], "dns-"), "-", "_")
		if creds := rp["dns_"+prefix+"_credentials"]; creds != "" {
			ref.Values = certbotCredentials(in, kind, prefix, creds)
		}
		in.settings.Provider = kind
		in.settings.Providers = []plan.ProviderRef{ref}
		in.mapped = append(in.mapped, "authenticator "+auth+" → DNS provider "+kind)
		if v := rp["dns_"+prefix+"_propagation_seconds"]; v != "" {
			in.notes = append(in.notes, "propagation_seconds "+v+": strictacme checks over DNS-over-HTTPS instead of sleeping (--propagation wait --propagation-wait "+v+"s sleeps as before)")
		}
	case auth == "manual" && strings.Contains(rp["manual_auth_hook"], "acme-dns"):
		in.notes = append(in.notes, "authenticator manual with the acme-dns hook: pass --dns acmedns (register names with strictacme register)")
	case auth == "manual" && rp["manual_auth_hook"] != "":
		in.notes = append(in.notes, fmt.Sprintf("authenticator manual (hook %s): wrap it as --dns exec with EXEC_PATH (called PROGRAM present|cleanup FQDN VALUE)", rp["manual_auth_hook"]))
	case strings.HasPrefix(auth, "dns-"):
		in.notes = append(in.notes, fmt.Sprintf("authenticator %s: strictacme has no such provider; pass --dns with one of %s", auth, strings.Join(plan.ProviderNames(), ", ")))
	case auth != "":
		in.notes = append(in.notes, fmt.Sprintf("authenticator %s: validates over HTTP/TLS; strictacme validates by DNS only: pass --dns", auth))
	}
	if _, ok := conf.sections["webroot_map"]; ok {
		in.notes = append(in.notes, "webroot_map: not used by DNS validation")
	}
	if inst := rp["installer"]; inst != "" && inst != "None" && inst != "null" {
		in.notes = append(in.notes, fmt.Sprintf("installer %s: point it at the store's fullchain.pem and privkey.pem and set a deploy hook that reloads it", inst))
	}
	hooks := []struct {
		key, what string
		set       *string
	}{
		{"pre_hook", "pre hook", &in.settings.PreHook},
		{"post_hook", "post hook", &in.settings.PostHook},
		{"deploy_hook", "deploy hook (gets RENEWED_LINEAGE, RENEWED_DOMAINS as before)", &in.settings.DeployHook},
		{"renew_hook", "deploy hook (gets RENEWED_LINEAGE, RENEWED_DOMAINS as before)", &in.settings.DeployHook},
	}
	for _, h := range hooks {
		if v := rp[h.key]; v != "" && v != "None" && *h.set == "" {
			*h.set = v
			in.mapped = append(in.mapped, h.what)
		}
	}
	if strings.EqualFold(rp["reuse_key"], "True") {
		in.settings.ReuseKey = true
		in.mapped = append(in.mapped, "reuse key")
	}
	if v := rp["preferred_chain"]; v != "" && v != "None" {
		in.settings.PreferredChain = v
		in.mapped = append(in.mapped, "preferred chain "+v)
	}
	for _, k := range []string{"required_profile", "preferred_profile"} {
		if v := rp[k]; v != "" && v != "None" && in.settings.Profile == "" {
			in.settings.Profile = v
			in.mapped = append(in.mapped, "profile "+v)
		}
	}
	if v := rp["eab_kid"]; v != "" && v != "None" {
		in.settings.EABKeyID = v
		in.notes = append(in.notes, "EAB HMAC key: not stored by certbot; the account exists, so none is needed unless it is recreated")
	}
	if v := rp["renew_before_expiry"]; v != "" {
		in.notes = append(in.notes, "renew_before_expiry "+v+": strictacme renews in the CA's ARI window, else at a third of the lifetime left")
	}
	if v := conf.top["renew_before_expiry"]; v != "" {
		in.notes = append(in.notes, "renew_before_expiry "+v+": strictacme renews in the CA's ARI window, else at a third of the lifetime left")
	}
	if strings.EqualFold(rp["must_staple"], "True") {
		in.notes = append(in.notes, "must_staple: not requested (Let's Encrypt ended OCSP)")
	}
}

// renameCert stores c under name instead of the default of its first name.
func renameCert(c *Certificate, name string) error {
	if err := store.CheckCertName(name); err != nil {
		return err
	}
	c.Cert.Name = name
	c.Settings.Name = name
	raw, err := c.Settings.Encode()
	if err != nil {
		return err
	}
	c.Cert.Meta.Settings = raw
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// certbotCredentialKeys map a DNS plugin's credentials INI keys (after
// "dns_<plugin>_") to the provider's config keys; the secret ones are
// never copied.
var certbotCredentialKeys = map[string]map[string]string{
	"rfc2136":   {"server": "nameserver", "name": "tsig_key", "algorithm": "tsig_algorithm", "secret": "tsig_secret"},
	"namecheap": {"username": "api_user", "api_key": "api_key"},
}

// certbotCredentials reads a DNS plugin's credentials INI (certbot's
// --dns-<plugin>-credentials) into the provider's plain config values.
// Secrets are named in the mapping, not copied: renew reads them from the
// provider's variables.
func certbotCredentials(in *certInput, kind, prefix, file string) map[string]string {
	b, err := os.ReadFile(file)
	if err != nil {
		in.notes = append(in.notes, fmt.Sprintf("credentials %s: %v; give the %s settings to renew as variables", file, unwrapPath(err), kind))
		return nil
	}
	ini, err := readConfigObj(b)
	if err != nil {
		in.notes = append(in.notes, fmt.Sprintf("credentials %s: %v", file, err))
		return nil
	}
	k, _ := plan.LookupProvider(kind)
	vals := map[string]string{}
	port := ini.top["dns_"+prefix+"_port"]
	for iniKey, name := range certbotCredentialKeys[kind] {
		v, ok := ini.top["dns_"+prefix+"_"+iniKey]
		if !ok || k == nil {
			continue
		}
		key, known := k.Key(name)
		switch {
		case !known:
		case key.Secret:
			in.notes = append(in.notes, fmt.Sprintf("%s (a secret in %s): not copied; give renew %s or %s_FILE", "dns_"+prefix+"_"+iniKey, file, key.Env, key.Env))
		case name == "nameserver" && port != "" && port != "53":
			vals[name] = v + ":" + port
		case name == "tsig_algorithm":
			vals[name] = strings.ToLower(strings.TrimSuffix(v, "."))
		default:
			vals[name] = v
		}
	}
	if len(vals) == 0 {
		return nil
	}
	return vals
}
