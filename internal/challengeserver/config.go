package challengeserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challengeserver/api"
	"github.com/strictacme/strictacme/internal/challengeserver/authlookup"
	"github.com/strictacme/strictacme/internal/envvar"
	"github.com/strictacme/strictacme/internal/resolver"
	statestore "github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/tomlpos"
)

// Config is the serve configuration file (TOML). Its layout is a superset of
// acme-dns's config.cfg (README "Configuration" and config.cfg in
// https://github.com/acme-dns/acme-dns): an acme-dns file loads with the same
// meaning, except that registration is closed unless asked for and
// use_header needs trusted_proxies.
type Config struct {
	General  General  `toml:"general"`
	Database Database `toml:"database"`
	API      APIConf  `toml:"api"`
	TXT      TXTConf  `toml:"txt"`
	Log      LogConf  `toml:"logconfig"`

	// Warnings name the keys the file sets that this server accepts but
	// ignores (acme-dns keys without a meaning here), one
	// "file:line: table.key: ignored (why)" each. serve --check prints them
	// and the server logs them at start.
	Warnings []string `toml:"-"`
}

// General is the [general] table: the zone and its DNS listeners.
type General struct {
	// Listen is one or more "host:port" DNS addresses (a string or an
	// array); default "127.0.0.1:53".
	Listen StringList `toml:"listen"`
	// Protocol is "both" (default), "udp" or "tcp"; acme-dns's both4,
	// both6, udp4, … are accepted and the family suffix ignored (the
	// addresses say the family).
	Protocol string `toml:"protocol"`
	// Domain is the challenge zone apex, e.g. "auth.example.org".
	Domain string `toml:"domain"`
	// NSName is the SOA MNAME; NSAdmin the SOA RNAME (mailbox).
	NSName  string `toml:"nsname"`
	NSAdmin string `toml:"nsadmin"`
	// Records are static records in zone-file syntax (NS, A, AAAA, CAA, …).
	Records []string `toml:"records"`
	// NegativeTTL is the SOA TTL and MINIMUM in seconds (default 60).
	NegativeTTL uint32 `toml:"negative_ttl"`
	// TXTTTL is the TTL of challenge TXT answers in seconds (default 1).
	TXTTTL uint32 `toml:"txt_ttl"`
	// Debug is acme-dns's flag; accepted and ignored.
	Debug bool `toml:"debug"`
}

// Database is the [database] table.
type Database struct {
	// Engine is "sqlite" (default; "sqlite3" accepted) or "postgres".
	Engine string `toml:"engine"`
	// Connection is the SQLite file or the PostgreSQL URL/DSN.
	Connection string `toml:"connection"`
	// ConnectionFile reads Connection from a file (0600), so a PostgreSQL
	// password stays out of the config.
	ConnectionFile string `toml:"connection_file"`
	// PollInterval is how often the memory view asks the store for changes
	// made by other instances (default 250ms for PostgreSQL, 1s for SQLite).
	PollInterval Duration `toml:"poll_interval"`
}

// APIConf is the [api] table.
type APIConf struct {
	// Listen is one or more "host:port" HTTP addresses. When empty, ip and
	// port (acme-dns's keys) are used; default "127.0.0.1:8080".
	Listen StringList  `toml:"listen"`
	IP     string      `toml:"ip"`
	Port   StringOrInt `toml:"port"`
	// TLS is "none" (default), "cert" with TLSCert/TLSKey files, or
	// "acme": the server obtains a certificate for ACMENames by dns-01
	// through its own zone and keeps it in the store (shared by every
	// instance). acme-dns's "letsencrypt" and "letsencryptstaging" mean
	// "acme" with Let's Encrypt's (staging) directory.
	TLS     string `toml:"tls"`
	TLSCert string `toml:"tls_cert_fullchain"`
	TLSKey  string `toml:"tls_cert_privkey"`
	// ACMEDirectory is the CA's directory URL for tls = "acme" (default
	// Let's Encrypt's production directory).
	ACMEDirectory string `toml:"acme_directory"`
	// ACMEEmail is the ACME account contact (acme-dns's notification_email
	// if unset); optional.
	ACMEEmail string `toml:"acme_email"`
	// ACMEAcceptTOS agrees to the CA's terms of service; required for
	// tls = "acme" (implied by acme-dns's "letsencrypt" values).
	ACMEAcceptTOS *bool `toml:"acme_accept_tos"`
	// ACMECARoots is a PEM file of extra roots to trust for the CA's
	// directory (a private CA, tests).
	ACMECARoots string `toml:"acme_ca_roots"`
	// ACMEStateDir holds this instance's ACME account key and a copy of the
	// certificate (mode 0700; default acme-dns's acme_cache_dir, else
	// /var/lib/strictacme/serve-acme; on Windows serve-acme in the state
	// directory, see defaultACMEStateDir).
	ACMEStateDir string `toml:"acme_state_dir"`
	// ACMENames are the API's host names, each the zone apex or a name
	// under it (default acme-dns's api_domain, else the apex).
	ACMENames []string `toml:"acme_names"`
	// ACMEProfile selects a CA certificate profile (draft-ietf-acme-profiles,
	// e.g. Let's Encrypt's "tlsserver" or "shortlived"); "" is the CA's
	// default.
	ACMEProfile string `toml:"acme_profile"`
	// Registration is "closed" (default), "token" or "open".
	Registration string `toml:"registration"`
	// DisableRegistration is acme-dns's switch; true means "closed".
	DisableRegistration *bool `toml:"disable_registration"`
	// AdminTokenFile holds the admin token (mode 0600) for "token" mode.
	AdminTokenFile string `toml:"admin_token_file"`
	// TrustedProxies are CIDRs whose client-IP header is believed.
	TrustedProxies []string `toml:"trusted_proxies"`
	// UseHeader and HeaderName are acme-dns's; use_header = true needs
	// trusted_proxies.
	UseHeader  bool   `toml:"use_header"`
	HeaderName string `toml:"header_name"`
	// MaxBody bounds request bodies in bytes (default 16384).
	MaxBody int64 `toml:"max_body"`
	// Metrics serves /metrics (default true).
	Metrics *bool `toml:"metrics"`
	// Lookup enables POST /lookup (default true), which asks a name's
	// authoritative servers; LookupResolvers find them (resolver specs:
	// "host:port" plain DNS, https:// DoH, tls:// DoT; default: the
	// machine's resolvers from /etc/resolv.conf, see LookupSource).
	Lookup          *bool    `toml:"lookup"`
	LookupResolvers []string `toml:"lookup_resolvers"`
	// RegisterPerHour and AuthFailuresPerMinute are the per-address rate
	// limits (defaults 10 and 10).
	RegisterPerHour       float64 `toml:"register_per_hour"`
	AuthFailuresPerMinute float64 `toml:"auth_failures_per_minute"`
	// LookupsPerMinute limits successful POST /lookup calls per account
	// (default 30; the burst is the same number), since each makes the
	// server send DNS queries.
	LookupsPerMinute float64 `toml:"lookups_per_minute"`
	// CORSOrigins and the HSTS keys are acme-dns's browser settings,
	// accepted and ignored with a warning: the API is for ACME clients,
	// not browsers.
	CORSOrigins           []string `toml:"corsorigins"`
	HSTSEnabled           bool     `toml:"hsts_enabled"`
	HSTSMaxAge            int64    `toml:"hsts_max_age"`
	HSTSIncludeSubdomains bool     `toml:"hsts_include_subdomains"`
	HSTSPreload           bool     `toml:"hsts_preload"`
	// APIDomain, ACMECacheDir and NotificationMail are acme-dns's
	// certificate keys: defaults of acme_names, acme_state_dir and
	// acme_email with tls = "acme", ignored (with a warning) otherwise.
	// AutocertPort (acme-dns before v0.8) is always ignored.
	APIDomain        string `toml:"api_domain"`
	AutocertPort     string `toml:"autocert_port"`
	ACMECacheDir     string `toml:"acme_cache_dir"`
	NotificationMail string `toml:"notification_email"`
}

// TXTConf is the [txt] table.
type TXTConf struct {
	// Lifetime of a value after its last update (default "1h").
	Lifetime Duration `toml:"lifetime"`
	// Limit is the most values one subdomain holds and serves, the newest
	// (default api.DefaultTXTLimit, 4); raise it when more than two names
	// (a name and its wildcard) share one subdomain.
	Limit int `toml:"limit"`
}

// LogConf is [logconfig] (acme-dns's table name).
type LogConf struct {
	Level  string `toml:"loglevel"`  // error, warning, info (default), debug
	Format string `toml:"logformat"` // text (default) or json
	Type   string `toml:"logtype"`   // acme-dns's; logs always go to standard error
	File   string `toml:"logfile"`   // acme-dns's; ignored with a warning
}

// Logger returns the logger [logconfig] describes, writing to w: slog's
// text handler, or its JSON handler for logformat "json" (any case), at
// loglevel error, warning (or warn), debug, or else info.
func (c LogConf) Logger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(c.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warning", "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// ignoredKeys are acme-dns config.cfg keys (every version's, see
// testdata/acmedns) that this server accepts without using them; a file
// setting one gets a warning with the reason. when, if set, limits the
// warning to configurations where the key has no effect.
var ignoredKeys = []struct {
	key, why string
	when     func(c *Config) bool
}{
	{key: "general.debug", why: "acme-dns's debug switch; use logconfig.loglevel = \"debug\""},
	{key: "api.corsorigins", why: "no CORS: the API serves ACME clients, not browsers"},
	{key: "api.hsts_enabled", why: "no HSTS header: the API serves ACME clients, not browsers"},
	{key: "api.hsts_max_age", why: "no HSTS header: the API serves ACME clients, not browsers"},
	{key: "api.hsts_include_subdomains", why: "no HSTS header: the API serves ACME clients, not browsers"},
	{key: "api.hsts_preload", why: "no HSTS header: the API serves ACME clients, not browsers"},
	{key: "api.autocert_port", why: "tls = \"acme\" validates by dns-01 through this server's own zone; no HTTP port is needed"},
	{key: "api.api_domain", why: "only used with tls = \"acme\" (as acme_names)", when: notACME},
	{key: "api.acme_cache_dir", why: "only used with tls = \"acme\" (as acme_state_dir)", when: notACME},
	{key: "api.notification_email", why: "only used with tls = \"acme\" (as acme_email)", when: notACME},
	{key: "logconfig.logtype", why: "logs always go to standard error (journald, docker logs)", when: func(c *Config) bool { return !strings.EqualFold(c.Log.Type, "stdout") }},
	{key: "logconfig.logfile", why: "logs always go to standard error (journald, docker logs)"},
}

func notACME(c *Config) bool { return c.API.TLS != "acme" }

// Duration is a time.Duration written as "90s", "1h" or whole seconds
// (3600), as the client's config file reads durations (envvar.ParseDuration,
// which plan.ParseDuration uses too). acme-dns has no such keys, so no
// compatibility rule stands against it.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := envvar.ParseDuration(string(b), true)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"90s\", \"1h\" or whole seconds", b)
	}
	d.Duration = v
	return nil
}

// UnmarshalTOML implements toml.Unmarshaler: a string (UnmarshalText) or
// a whole number of seconds.
func (d *Duration) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		return d.UnmarshalText([]byte(x))
	case int64:
		return d.UnmarshalText([]byte(strconv.FormatInt(x, 10)))
	}
	return fmt.Errorf("wrong type: want %s, got %s", wantOf(reflect.TypeOf(Duration{})), kindOf(v))
}

// StringList is a string or an array of strings.
type StringList []string

// UnmarshalTOML implements toml.Unmarshaler.
func (l *StringList) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		*l = []string{x}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("want a string or an array of strings, got %s in the array", kindOf(e))
			}
			*l = append(*l, s)
		}
	default:
		return fmt.Errorf("want a string or an array of strings, got %s", kindOf(v))
	}
	return nil
}

// StringOrInt accepts acme-dns's port = "443" and port = 443.
type StringOrInt string

// UnmarshalTOML implements toml.Unmarshaler.
func (s *StringOrInt) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		*s = StringOrInt(x)
	case int64:
		*s = StringOrInt(fmt.Sprint(x))
	default:
		return fmt.Errorf("want a port number, got %s", kindOf(v))
	}
	return nil
}

// ConfigError is a problem in the config file; Key is "table.key", Line is
// 1-based (0 when unknown).
type ConfigError struct {
	File string
	Key  string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string {
	loc := tomlpos.Where(e.File, e.Line)
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// ConfigErrors are the problems of a file with more than one, in line
// order; Error is one line each.
type ConfigErrors []*ConfigError

func (es ConfigErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each problem, for errors.As.
func (es ConfigErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// LoadConfig reads and checks the config file at path. A file with one
// problem gives a *ConfigError naming the key and line, with several a
// ConfigErrors listing every one.
func LoadConfig(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, src)
}

var lineRE = regexp.MustCompile(`line (\d+)`)
var lastKeyRE = regexp.MustCompile(`last key "([^"]+)"`)

// ParseConfig parses src (named name in errors) and applies defaults.
func ParseConfig(name string, src []byte) (*Config, error) {
	var c Config
	pos := tomlpos.Locate(src)
	typeErrs, bad, err := decodeConfig(name, src, pos, &c)
	if err != nil {
		ce := &ConfigError{File: name, Msg: err.Error()}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			ce.Line = pe.Position.Line
			ce.Key = pe.LastKey
			ce.Msg = pe.Message
		} else {
			if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
				fmt.Sscan(m[1], &ce.Line)
			}
			if m := lastKeyRE.FindStringSubmatch(err.Error()); m != nil {
				ce.Key = m[1]
				if ce.Line == 0 {
					ce.Line = pos.Line(m[1])
				}
			}
		}
		return nil, ce
	}
	// Every problem is reported at once; a check whose input is already
	// reported wrong is left out rather than repeat it.
	errs := typeErrs
	add := func(e *ConfigError) error {
		if !bad[e.Key] {
			errs = append(errs, e)
		}
		return e
	}
	passwordInline := false
	fail := func(key, format string, args ...any) error {
		return add(&ConfigError{File: name, Key: key, Line: pos.Line(key), Msg: fmt.Sprintf(format, args...)})
	}
	g := &c.General
	domainOK := false
	if g.Domain == "" {
		fail("general.domain", "missing: the challenge zone, e.g. domain = \"auth.example.org\"")
	} else if err := CheckName(g.Domain); err != nil {
		fail("general.domain", "%v", err)
	} else {
		domainOK = true
	}
	if len(g.Listen) == 0 {
		g.Listen = StringList{"127.0.0.1:53"}
	}
	for _, a := range g.Listen {
		if err := checkHostPort(a); err != nil {
			fail("general.listen", "%v (IPv6 as \"[::1]:53\")", err)
		}
	}
	owners := map[string]string{} // owner → "CNAME" or "other", for RFC 1034 §3.6.2
	for _, r := range g.Records {
		if !domainOK {
			break // records are relative to the domain
		}
		if err := checkRecord(g.Domain, r); err != nil {
			add(&ConfigError{File: name, Key: "general.records", Line: pos.ValueLine(r, "general.records"), Msg: err.Error()})
			continue
		}
		rr, _ := dns.NewRR("$ORIGIN " + dns.Fqdn(strings.ToLower(g.Domain)) + "\n" + r)
		owner, kind := strings.ToLower(rr.Header().Name), "other"
		if rr.Header().Rrtype == dns.TypeCNAME {
			kind = "CNAME"
		}
		if prev, ok := owners[owner]; ok && (prev == "CNAME" || kind == "CNAME") {
			add(&ConfigError{File: name, Key: "general.records", Line: pos.ValueLine(r, "general.records"),
				Msg: fmt.Sprintf("%q: %s has a CNAME and other records; a CNAME must stand alone (RFC 1034 §3.6.2)", r, owner)})
		}
		owners[owner] = kind
	}
	switch strings.TrimRight(strings.ToLower(g.Protocol), "46") {
	case "", "both":
		g.Protocol = "both"
	case "udp", "tcp":
		g.Protocol = strings.TrimRight(strings.ToLower(g.Protocol), "46")
	default:
		fail("general.protocol", "%q: want both, udp or tcp", g.Protocol)
	}
	d := &c.Database
	switch strings.ToLower(d.Engine) {
	case "", "sqlite", "sqlite3":
		d.Engine = "sqlite"
	case "postgres", "postgresql":
		d.Engine = "postgres"
	default:
		fail("database.engine", "%q: want sqlite or postgres", d.Engine)
	}
	connFileBad := false
	if d.ConnectionFile != "" {
		b, err := readFile(d.ConnectionFile)
		if err != nil {
			fail("database.connection_file", "%v", err)
			connFileBad = true
		}
		d.Connection = strings.TrimSpace(string(b))
	}
	connKey := "database.connection"
	if d.ConnectionFile != "" {
		connKey = "database.connection_file"
	}
	if d.Connection == "" && !connFileBad {
		fail("database.connection", "missing: a SQLite file path or a postgres:// URL")
	} else if d.Engine == "postgres" && d.Connection != "" {
		if err := CheckPostgresConnection(d.Connection); err != nil {
			fail(connKey, "%v", err)
		} else if d.ConnectionFile == "" && inlinePassword(d.Connection) {
			passwordInline = true
		}
	} else if d.Connection != "" && strings.Contains(d.Connection, "://") && !strings.HasPrefix(d.Connection, "file:") {
		// A server URL under the SQLite engine would become a file of
		// that name, its password in the name; the URL is not quoted.
		fail(connKey, "a URL is not a SQLite file path; give the database file's path, or set database.engine = \"postgres\" for a PostgreSQL URL")
	}
	if d.PollInterval.Duration == 0 {
		d.PollInterval.Duration = time.Second
		if d.Engine == "postgres" {
			d.PollInterval.Duration = 250 * time.Millisecond
		}
	}
	a := &c.API
	listenKey := "api.listen"
	if len(a.Listen) == 0 {
		ip, port := a.IP, string(a.Port)
		if ip == "" {
			ip = "127.0.0.1"
		}
		if port == "" {
			port = "8080"
		}
		a.Listen = StringList{net.JoinHostPort(ip, port)}
		listenKey = "api.port"
		if a.Port == "" {
			listenKey = "api.ip"
		}
	}
	for _, l := range a.Listen {
		if err := checkHostPort(l); err != nil {
			fail(listenKey, "%v", err)
		}
	}
	switch strings.ToLower(a.TLS) {
	case "", "none":
		a.TLS = "none"
	case "cert":
		a.TLS = "cert"
		if a.TLSCert == "" || a.TLSKey == "" {
			fail("api.tls", "tls = \"cert\" needs tls_cert_fullchain and tls_cert_privkey")
			break
		}
		_, certErr := readFile(a.TLSCert)
		if certErr != nil {
			fail("api.tls_cert_fullchain", "%v", certErr)
		}
		_, keyErr := readFile(a.TLSKey)
		if keyErr != nil {
			fail("api.tls_cert_privkey", "%v", keyErr)
		}
		if certErr != nil || keyErr != nil {
			break
		}
		if _, err := tls.LoadX509KeyPair(a.TLSCert, a.TLSKey); err != nil {
			fail("api.tls_cert_fullchain", "%s with %s: %v", a.TLSCert, a.TLSKey, err)
		}
	case "acme", "letsencrypt", "letsencryptstaging":
		_ = a.acmeDefaults(fail, g.Domain) // its problem, if any, is reported
	default:
		fail("api.tls", "%q: want none, cert or acme", a.TLS)
	}
	switch strings.ToLower(a.Registration) {
	case "":
		a.Registration = "closed"
		if a.DisableRegistration != nil && !*a.DisableRegistration {
			// acme-dns's explicit "open"; keep it open as the operator asked.
			a.Registration = "open"
		}
	case "closed", "token", "open":
		a.Registration = strings.ToLower(a.Registration)
	default:
		fail("api.registration", "%q: want closed, token or open", a.Registration)
	}
	if a.Registration == "token" && a.AdminTokenFile == "" {
		fail("api.registration", "registration = \"token\" needs admin_token_file")
	}
	if a.AdminTokenFile != "" {
		if _, err := readFile(a.AdminTokenFile); err != nil {
			fail("api.admin_token_file", "%v", err)
		} else if a.Registration == "token" {
			if _, err := readSecret(a.AdminTokenFile); err != nil {
				fail("api.admin_token_file", "%v", err)
			}
		}
	}
	for _, p := range a.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			fail("api.trusted_proxies", "%q is not a CIDR", p)
		}
	}
	if a.UseHeader && len(a.TrustedProxies) == 0 {
		fail("api.use_header", "use_header = true needs trusted_proxies (the proxies whose %s is believed); otherwise any client can spoof its address", a.headerName())
	}
	if a.MaxBody == 0 {
		a.MaxBody = 16 << 10
	}
	if a.RegisterPerHour < 0 || a.AuthFailuresPerMinute < 0 {
		fail("api.register_per_hour", "rate limits must be positive")
	}
	if a.LookupsPerMinute < 0 {
		fail("api.lookups_per_minute", "rate limits must be positive")
	}
	for _, r := range a.LookupResolvers {
		if _, err := resolver.New(r, resolver.Options{}); err != nil {
			fail("api.lookup_resolvers", "%v", err)
		}
	}
	if c.TXT.Lifetime.Duration == 0 {
		c.TXT.Lifetime.Duration = time.Hour
	}
	if c.TXT.Lifetime.Duration < time.Minute {
		fail("txt.lifetime", "%s is too short for an ACME validation; use at least 1m", c.TXT.Lifetime.Duration)
	}
	if c.TXT.Limit == 0 {
		c.TXT.Limit = api.DefaultTXTLimit
	}
	if c.TXT.Limit < 2 {
		fail("txt.limit", "%d: at least 2 (apex and wildcard share one name)", c.TXT.Limit)
	}
	switch strings.ToLower(c.Log.Level) {
	case "", "info", "error", "warning", "warn", "debug":
	default:
		fail("logconfig.loglevel", "%q: want error, warning, info or debug", c.Log.Level)
	}
	switch strings.ToLower(c.Log.Format) {
	case "", "text", "json":
	default:
		fail("logconfig.logformat", "%q: want text or json", c.Log.Format)
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	if len(errs) > 1 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	if passwordInline {
		c.Warnings = append(c.Warnings, (&ConfigError{File: name, Key: "database.connection", Line: pos.Line("database.connection"),
			Msg: "holds a password; put the connection string in a file of its own (mode 0600) named by connection_file, so the config can be read and shared without it"}).Error())
	}
	for _, ig := range ignoredKeys {
		if pos.Line(ig.key) == 0 || (ig.when != nil && !ig.when(&c)) {
			continue
		}
		c.Warnings = append(c.Warnings, (&ConfigError{File: name, Key: ig.key, Line: pos.Line(ig.key), Msg: "ignored (" + ig.why + ")"}).Error())
	}
	return &c, nil
}

// LookupSource says where POST /lookup finds zones and name servers, for
// serve --check and the start-up log: the configured api.lookup_resolvers,
// or the machine's resolvers (authlookup.ResolvConf) when none are set,
// or that /lookup is off.
func (c *Config) LookupSource() string {
	a := c.API
	switch {
	case a.Lookup != nil && !*a.Lookup:
		return "/lookup is off (api.lookup = false)"
	case len(a.LookupResolvers) > 0:
		return "/lookup finds zones through api.lookup_resolvers: " + strings.Join(a.LookupResolvers, ", ")
	}
	rs, err := authlookup.SystemResolvers()
	if err != nil {
		return "/lookup finds zones through this machine's resolvers, but " + err.Error() + "; set api.lookup_resolvers"
	}
	return fmt.Sprintf("/lookup finds zones through this machine's resolvers (%s: %s); set api.lookup_resolvers to choose others", authlookup.ResolvConf, strings.Join(rs, ", "))
}

// Let's Encrypt's directories, the defaults of tls = "acme" and acme-dns's
// "letsencrypt" / "letsencryptstaging".
const (
	LetsEncrypt        = "https://acme-v02.api.letsencrypt.org/directory"
	LetsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory"
)

// acmeDefaults checks and completes the tls = "acme" keys; zone is
// general.domain.
func (a *APIConf) acmeDefaults(fail func(key, format string, args ...any) error, zone string) error {
	mode := strings.ToLower(a.TLS)
	a.TLS = "acme"
	if a.ACMEDirectory == "" {
		a.ACMEDirectory = LetsEncrypt
		if mode == "letsencryptstaging" {
			a.ACMEDirectory = LetsEncryptStaging
		}
	}
	if u, err := url.Parse(a.ACMEDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
		return fail("api.acme_directory", "%q is not an https:// URL", a.ACMEDirectory)
	}
	if a.ACMEAcceptTOS == nil {
		accept := mode != "acme" // acme-dns agreed implicitly
		a.ACMEAcceptTOS = &accept
	}
	if !*a.ACMEAcceptTOS {
		return fail("api.tls", "tls = \"acme\" needs acme_accept_tos = true (you agree to the CA's terms of service)")
	}
	if a.ACMEEmail == "" {
		a.ACMEEmail = a.NotificationMail
	}
	if a.ACMEStateDir == "" {
		a.ACMEStateDir = a.ACMECacheDir
	}
	if a.ACMEStateDir == "" {
		a.ACMEStateDir = defaultACMEStateDir(runtime.GOOS, statestore.DefaultPath)
	}
	if a.ACMECARoots != "" {
		if _, err := readFile(a.ACMECARoots); err != nil {
			return fail("api.acme_ca_roots", "%v", err)
		}
	}
	if len(a.ACMENames) == 0 {
		a.ACMENames = []string{zone}
		if a.APIDomain != "" {
			a.ACMENames = []string{a.APIDomain}
		}
	}
	apex := dns.Fqdn(strings.ToLower(zone))
	for i, n := range a.ACMENames {
		fq := dns.Fqdn(strings.ToLower(strings.TrimSpace(n)))
		if _, ok := dns.IsDomainName(fq); !ok || strings.Contains(fq, "*") || !dns.IsSubDomain(apex, fq) {
			return fail("api.acme_names", "%q must be the zone apex %s or a name under it (its dns-01 record is served by this server)", n, strings.TrimSuffix(apex, "."))
		}
		a.ACMENames[i] = strings.TrimSuffix(fq, ".")
	}
	return nil
}

func (a *APIConf) headerName() string {
	if a.HeaderName == "" {
		return "X-Forwarded-For"
	}
	return a.HeaderName
}

// readFile reads a file the config refers to; a directory is refused.
func readFile(path string) ([]byte, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a file", path)
	}
	return os.ReadFile(path)
}

// checkHostPort accepts "host:port" with a numeric port 0–65535 (0 picks a
// free port).
func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port != strconv.FormatUint(n, 10) {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

// CheckQueryName validates the name of a DNS question as given on the
// command line: "." (the root), a name CheckName accepts, or one with a
// leading "*" label.
func CheckQueryName(name string) error {
	if name == "." {
		return nil
	}
	if rest, ok := strings.CutPrefix(name, "*."); ok && rest != "" && rest != "." {
		name = rest
	}
	return CheckName(name)
}

// CheckName validates a DNS name as written in configs and on the command
// line: letters, digits, hyphens and underscores (for _acme-challenge
// names), labels of 1–63 characters, at most 253 characters in all; one
// trailing dot is allowed.
func CheckName(name string) error {
	s := strings.TrimSuffix(name, ".")
	if s == "" {
		return fmt.Errorf("%q: empty name; give a DNS name such as example.org", name)
	}
	if len(s) > 253 {
		return fmt.Errorf("%q: longer than 253 characters", name)
	}
	for _, l := range strings.Split(s, ".") {
		switch {
		case l == "":
			return fmt.Errorf("%q: empty label; remove the doubled or leading dot", name)
		case len(l) > 63:
			return fmt.Errorf("%q: label %q is longer than 63 characters", name, l)
		case l[0] == '-' || l[len(l)-1] == '-':
			return fmt.Errorf("%q: label %q starts or ends with a hyphen", name, l)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("%q: invalid character %q in label %q; use letters, digits, hyphens and underscores", name, r, l)
			}
		}
	}
	return nil
}

// checkRecord parses one general.records entry the way the DNS handler does
// (relative names are under zone) and checks that it belongs in the zone.
func checkRecord(zone, line string) error {
	apex := dns.Fqdn(strings.ToLower(zone))
	rr, err := dns.NewRR("$ORIGIN " + apex + "\n" + line)
	if err != nil {
		msg := err.Error()
		var pe *dns.ParseError
		if errors.As(err, &pe) {
			msg = strings.TrimPrefix(pe.Error(), "dns: ")
			if i := strings.Index(msg, ` at line:`); i >= 0 {
				msg = msg[:i]
			}
		}
		return fmt.Errorf("%q is not a zone-file record (%s)", line, msg)
	}
	if rr == nil {
		return fmt.Errorf("%q: empty record; write e.g. \"ns1 A 192.0.2.1\"", line)
	}
	if strings.HasSuffix(rr.String(), "\t") { // NewRR allows empty RDATA (dynamic updates)
		return fmt.Errorf("%q has no data after the type", line)
	}
	owner := strings.ToLower(rr.Header().Name)
	if !dns.IsSubDomain(apex, owner) {
		return fmt.Errorf("%q: owner %s is outside the zone %s", line, owner, apex)
	}
	if rr.Header().Rrtype == dns.TypeSOA {
		return fmt.Errorf("%q: the SOA is built from nsname, nsadmin and negative_ttl; remove this record", line)
	}
	return nil
}

// defaultACMEStateDir is api.acme_state_dir when neither it nor
// acme_cache_dir is set: /var/lib/strictacme/serve-acme, and on Windows,
// which has no /var/lib, serve-acme under the client's default state
// directory (storeDefault, %LOCALAPPDATA%\strictacme): a folder made at the
// root of a drive would inherit read access for every local user, and the
// account key is kept there.
func defaultACMEStateDir(goos string, storeDefault func() string) string {
	if goos == "windows" {
		return filepath.Join(storeDefault(), "serve-acme")
	}
	return "/var/lib/strictacme/serve-acme"
}

// CheckPostgresConnection refuses a connection string PostgreSQL's driver
// (pgx, pgconn.ParseConfig) would refuse, or one of another database: a
// URL must be postgres:// or postgresql://, a port 1–65535; anything
// else must be key=value settings (libpq's form). The error never quotes
// the string (it may hold a password).
func CheckPostgresConnection(conn string) error {
	const want = "want postgres://HOST:5432/DB or key=value settings such as host=db dbname=acmedns"
	// A scheme with a space or "=" is key=value settings holding a URL
	// (sslrootcert=…): the driver judges those.
	if scheme, _, ok := strings.Cut(conn, "://"); ok && scheme != "postgres" && scheme != "postgresql" && !strings.ContainsAny(scheme, " =") {
		return fmt.Errorf("a %s:// URL is not a PostgreSQL connection; %s", scheme, want)
	}
	if _, err := pgconn.ParseConfig(conn); err != nil {
		// pgconn's message quotes the string (password masked) before
		// the reason; only the reason is kept.
		reason := err.Error()
		if i := strings.LastIndex(reason, "`: "); i >= 0 {
			reason = reason[i+3:]
		}
		if strings.Contains(reason, "port") {
			reason += " (a port is 1 to 65535)"
		}
		return fmt.Errorf("not a PostgreSQL connection string: %s; %s", reason, want)
	}
	return nil
}

// inlinePassword reports whether the connection string conn carries a
// password: in a URL's userinfo or query, or as a password= setting.
func inlinePassword(conn string) bool {
	if strings.Contains(conn, "://") {
		u, err := url.Parse(conn)
		if err != nil {
			return false
		}
		_, ok := u.User.Password()
		return ok || u.Query().Has("password")
	}
	return passwordSetting.MatchString(conn)
}

// passwordSetting is a libpq key=value password setting.
var passwordSetting = regexp.MustCompile(`(^|\s)password\s*=`)
