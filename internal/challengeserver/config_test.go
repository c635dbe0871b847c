package challengeserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key into dir.
func writeCert(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"auth.example.org"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// Everything serve would refuse when starting is refused by ParseConfig,
// as one error naming the file, line and key.
func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	tok := filepath.Join(dir, "token")
	if err := os.WriteFile(tok, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(dir, "token-644")
	if err := os.WriteFile(loose, []byte("0123456789abcdef0123\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conn := filepath.Join(dir, "conn")
	if err := os.WriteFile(conn, []byte(filepath.Join(dir, "db.sqlite")), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	q := func(s string) string { return `"` + s + `"` }

	// base is line 1–5; extra goes to [general] (line 4 on), api to [api]
	// (line 7 on).
	src := func(general, api string) string {
		return "[general]\ndomain = \"auth.example.org\"\nlisten = \"127.0.0.1:0\"\n" + general +
			"\n[database]\nconnection = \"db.sqlite\"\n[api]\n" + api + "\n"
	}
	for _, tc := range []struct {
		name, src string
		want      string // "" means valid
	}{
		{"valid", src(`records = ["@ NS ns1", "ns1 A 127.0.0.1", "api AAAA ::1", "_x TXT \"a b\""]`, "listen = \"[::1]:65535\""), ""},
		{"valid token and TLS", src("", "registration = \"token\"\nadmin_token_file = "+q(tok)+"\ntls = \"cert\"\ntls_cert_fullchain = "+q(cert)+"\ntls_cert_privkey = "+q(key)), ""},
		{"domain with a space", "[general]\ndomain = \"auth example.org\"\n[database]\nconnection = \"x\"\n",
			`t.toml:2: general.domain: "auth example.org": invalid character ' ' in label "auth example"`},
		{"domain empty label", "[general]\ndomain = \"auth..example.org\"\n[database]\nconnection = \"x\"\n",
			`t.toml:2: general.domain: "auth..example.org": empty label`},
		{"domain long label", "[general]\ndomain = \"" + strings.Repeat("a", 64) + ".org\"\n[database]\nconnection = \"x\"\n",
			`t.toml:2: general.domain: "` + strings.Repeat("a", 64) + `.org": label`},
		{"DNS port too big", "[general]\ndomain = \"auth.example.org\"\nlisten = \"127.0.0.1:99999\"\n[database]\nconnection = \"x\"\n",
			`t.toml:3: general.listen: "127.0.0.1:99999": port "99999" is not a number from 0 to 65535`},
		{"DNS port by name", "[general]\ndomain = \"auth.example.org\"\nlisten = [\"127.0.0.1:domain\"]\n[database]\nconnection = \"x\"\n",
			`t.toml:3: general.listen: "127.0.0.1:domain": port "domain"`},
		{"minimal", src("", ""), ""},
		{"API port too big", src("", "listen = [\"127.0.0.1:0\", \"127.0.0.1:65536\"]"),
			`t.toml:8: api.listen: "127.0.0.1:65536": port "65536"`},
		{"acme-dns port too big", src("", "ip = \"127.0.0.1\"\nport = 99999"),
			`t.toml:9: api.port: "127.0.0.1:99999": port "99999"`},
		{"API listen not host:port", src("", "listen = \"localhost\""), `t.toml:8: api.listen: "localhost" is not host:port`},
		{"record with a bad address", src(`records = ["ns1 A not-an-ip"]`, ""),
			`t.toml:4: general.records: "ns1 A not-an-ip" is not a zone-file record (bad A A: "not-an-ip")`},
		{"record on its own line", src("records = [\n  \"@ NS ns1\",\n  \"ns1 A 127.0.0.1\",\n  \"ns1 AAAA 127.0.0.1\",\n]", ""),
			`t.toml:7: general.records: "ns1 AAAA 127.0.0.1" is not a zone-file record`},
		{"record without data", src(`records = ["@ NS"]`, ""), `t.toml:4: general.records: "@ NS" has no data`},
		{"record of another zone", src(`records = ["www.example.org. A 192.0.2.1"]`, ""),
			`t.toml:4: general.records: "www.example.org. A 192.0.2.1": owner www.example.org. is outside the zone auth.example.org.`},
		{"SOA record", src(`records = ["@ SOA a b 1 2 3 4 5"]`, ""), `t.toml:4: general.records: "@ SOA a b 1 2 3 4 5": the SOA is built`},
		{"empty record", src(`records = [""]`, ""), `t.toml:4: general.records: "": empty record`},
		{"CNAME beside other data", src(`records = ["www A 192.0.2.1", "www CNAME foo"]`, ""),
			`t.toml:4: general.records: "www CNAME foo": www.auth.example.org. has a CNAME and other records`},
		{"CNAME at the apex", src(`records = ["@ NS ns1", "@ CNAME foo"]`, ""), `t.toml:4: general.records: "@ CNAME foo": auth.example.org. has a CNAME and other records`},
		{"token file missing", src("", "registration = \"token\"\nadmin_token_file = "+q(missing)),
			"t.toml:9: api.admin_token_file: open " + missing + ": no such file or directory"},
		{"token file readable by others", src("", "registration = \"token\"\nadmin_token_file = "+q(loose)),
			"t.toml:9: api.admin_token_file: " + loose + " is readable by others"},
		{"token file is a directory", src("", "registration = \"token\"\nadmin_token_file = "+q(dir)),
			"t.toml:9: api.admin_token_file: " + dir + " is a directory"},
		{"token file missing, registration closed", src("", "admin_token_file = "+q(missing)),
			"t.toml:8: api.admin_token_file: open " + missing},
		{"TLS cert missing", src("", "tls = \"cert\"\ntls_cert_fullchain = "+q(missing)+"\ntls_cert_privkey = "+q(key)),
			"t.toml:9: api.tls_cert_fullchain: open " + missing + ": no such file or directory"},
		{"TLS key missing", src("", "tls = \"cert\"\ntls_cert_fullchain = "+q(cert)+"\ntls_cert_privkey = "+q(missing)),
			"t.toml:10: api.tls_cert_privkey: open " + missing + ": no such file or directory"},
		{"TLS key is not a key", src("", "tls = \"cert\"\ntls_cert_fullchain = "+q(cert)+"\ntls_cert_privkey = "+q(tok)),
			"t.toml:9: api.tls_cert_fullchain: " + cert + " with " + tok + ": tls:"},
		{"connection_file missing", "[general]\ndomain = \"auth.example.org\"\n[database]\nconnection_file = " + q(missing) + "\n",
			"t.toml:4: database.connection_file: open " + missing},
		{"connection_file", "[general]\ndomain = \"auth.example.org\"\n[database]\nconnection_file = " + q(conn) + "\n", ""},
		{"acme_ca_roots missing", src("", "tls = \"acme\"\nacme_accept_tos = true\nacme_ca_roots = "+q(missing)),
			"t.toml:10: api.acme_ca_roots: open " + missing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("t.toml", []byte(tc.src))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("%v\n%s", err, tc.src)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got  %v\nwant %s…\n%s", err, tc.want, tc.src)
			}
			if _, ok := err.(*ConfigError); !ok {
				t.Fatalf("%T, want *ConfigError", err)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"auth.example.org", "auth.example.org.", "_acme-challenge.example.com", "localhost", "A-1.Example.ORG",
		strings.Repeat("a", 63) + ".org", strings.Repeat(strings.Repeat("a", 62)+".", 4) + "a"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "a b.example.org", "a..b", ".a", "-a.org", "a-.org", "*.example.org", "ex/ample.org", "é.org",
		strings.Repeat("a", 64) + ".org", strings.Repeat(strings.Repeat("a", 62)+".", 4) + "ab"} {
		if err := CheckName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Every published key set of acme-dns's config.cfg loads (testdata/acmedns:
// our own files with the keys of each version's sample, v0.1 to the HSTS
// keys added after v2.0.2). Keys without a meaning here are warned about,
// each with its line, never refused.
func TestAcmeDNSConfigVersions(t *testing.T) {
	always := []string{"general.debug", "api.corsorigins"}
	for _, tc := range []struct {
		file         string
		tls          string
		registration string
		ignored      []string // besides always
	}{
		{"config-v0.1.cfg", "acme", "closed", nil},
		{"config-v0.2.cfg", "none", "closed", []string{"api.api_domain"}},
		{"config-v0.3.cfg", "none", "closed", []string{"api.api_domain", "api.autocert_port"}},
		{"config-v0.4.cfg", "none", "open", []string{"api.api_domain", "api.autocert_port"}},
		{"config-v0.5.cfg", "none", "open", []string{"api.api_domain", "api.autocert_port", "api.acme_cache_dir"}},
		{"config-v0.8.cfg", "acme", "open", nil},
		{"config-v1.0.cfg", "acme", "open", nil},
		{"config-v2.0.cfg", "none", "open", []string{"api.acme_cache_dir", "api.notification_email", "logconfig.logfile"}},
		{"config-v2-hsts.cfg", "none", "open", []string{"api.acme_cache_dir", "api.notification_email",
			"api.hsts_enabled", "api.hsts_max_age", "api.hsts_include_subdomains", "api.hsts_preload", "logconfig.logfile"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c, err := LoadConfig(filepath.Join("testdata", "acmedns", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if c.General.Domain != "auth.example.org" || c.Database.Engine != "sqlite" || c.API.TLS != tc.tls || c.API.Registration != tc.registration || len(c.General.Records) != 3 {
				t.Errorf("loaded as zone %q, engine %q, tls %q, registration %q, %d records", c.General.Domain, c.Database.Engine, c.API.TLS, c.API.Registration, len(c.General.Records))
			}
			want := append(slices.Clone(always), tc.ignored...)
			var got []string
			for _, w := range c.Warnings {
				m := regexp.MustCompile(`^testdata/acmedns/` + regexp.QuoteMeta(tc.file) + `:\d+: ([a-z_.]+): ignored \(.+\)$`).FindStringSubmatch(w)
				if m == nil {
					t.Errorf("warning %q: want file:line: key: ignored (why)", w)
					continue
				}
				got = append(got, m[1])
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("warned about %v, want %v", got, want)
			}
		})
	}
}

// TestDefaultACMEStateDirPerOS pins where the API's own ACME account and
// certificate go when the config names no folder: /var/lib on Unix, the
// client's state directory on Windows, never a folder at a drive's root.
func TestDefaultACMEStateDirPerOS(t *testing.T) {
	storeDefault := func() string { return `C:\Windows\system32\config\systemprofile\AppData\Local\strictacme` }
	tests := []struct {
		goos string
		want string
	}{
		{"linux", "/var/lib/strictacme/serve-acme"},
		{"freebsd", "/var/lib/strictacme/serve-acme"},
		{"windows", filepath.Join(storeDefault(), "serve-acme")},
	}
	for _, tt := range tests {
		if got := defaultACMEStateDir(tt.goos, storeDefault); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.goos, got, tt.want)
		}
	}
}

// A file with several values of the wrong type is reported whole, as the
// certificate config is: each value on its own line with its key and what
// to give, beside the other problems of the file (an unknown key, a bad
// value of the right type), and a wrongly typed key is not reported a
// second time as missing.
func TestConfigTypeErrorsAllAtOnce(t *testing.T) {
	src := `[general]
domain = 53
listen = ["127.0.0.1:0", 5353]
negative_ttl = "an hour"
txt_ttl = -1
protocol = "sctp"

[database]
connection = "db.sqlite"
poll_interval = true

[api]
port = true
max_body = "1 MB"
registration = "maybe"
use_header = "yes"
metrics = 1
trusted_proxies = "10.0.0.0/8"
bogus = 1

[txt]
lifetime = "soon"
limit = 1.5

[logconfig]
loglevel = ["info"]

[extra]
x = 1
`
	want := []string{
		`t.toml:2: general.domain: wrong type: want a string, got a whole number`,
		`t.toml:3: general.listen: want a string or an array of strings`,
		`t.toml:4: general.negative_ttl: wrong type: want a whole number, got a string`,
		`t.toml:5: general.txt_ttl: -1 is out of range`,
		`t.toml:6: general.protocol: "sctp": want both, udp or tcp`,
		`t.toml:10: database.poll_interval: wrong type: want a duration such as "90s" or whole seconds, got`,
		`t.toml:13: api.port: want a port number`,
		`t.toml:14: api.max_body: wrong type: want a whole number, got a string`,
		`t.toml:15: api.registration: "maybe": want closed, token or open`,
		`t.toml:16: api.use_header: wrong type: want true or false, got a string`,
		`t.toml:17: api.metrics: wrong type: want true or false, got a whole number`,
		`t.toml:18: api.trusted_proxies: wrong type: want an array of strings, got a string`,
		`t.toml:19: api.bogus: unknown key`,
		`t.toml:22: txt.lifetime: "soon" is not a duration`,
		`t.toml:23: txt.limit: wrong type: want a whole number, got a number`,
		`t.toml:26: logconfig.loglevel: wrong type: want a string, got an array`,
		`t.toml:28: extra: unknown key`,
	}
	_, err := ParseConfig("t.toml", []byte(src))
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d: %q, want %q…", i+1, lines[i:min(i+1, len(lines))], w)
		}
	}
	if strings.Contains(err.Error(), "general.domain: missing") {
		t.Error("the wrongly typed domain is also reported missing")
	}
}

// A question's name may be the root or start with a "*" label; otherwise
// it is a name as configs write it.
func TestQueryNameRootWildcardAndBadLabels(t *testing.T) {
	for name, ok := range map[string]bool{".": true, "*.example.org": true, "_acme-challenge.example.org": true, "*.": false, "*": false, "exa mple.org": false, "a..b": false} {
		if err := CheckQueryName(name); (err == nil) != ok {
			t.Errorf("CheckQueryName(%q) = %v, want ok %v", name, err, ok)
		}
	}
}

// A postgres connection is checked for its shape when the config is read
// (serve --check): another database's URL and a port out of range are
// refused at their key; a password written inline gets a warning pointing
// to connection_file; no message quotes the password.
func TestPostgresConnectionShapeAndInlinePassword(t *testing.T) {
	dir := t.TempDir()
	connFile := filepath.Join(dir, "conn")
	if err := os.WriteFile(connFile, []byte("postgres://acme:dbpassw0rd@db:5432/acme\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badFile := filepath.Join(dir, "conn-bad")
	if err := os.WriteFile(badFile, []byte("host=db port=0 password=dbpassw0rd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, database string
		err, warning   string // pieces; "" none
	}{
		{"a postgres URL", `connection = "postgres://acme@db:5432/acme?sslmode=require"`, "", ""},
		{"a postgresql URL with several hosts", `connection = "postgresql://acme@db1:5432,db2:5433/acme"`, "", ""},
		{"key=value settings", `connection = "host=db port=5432 dbname=acme"`, "", ""},
		{"a mysql URL", `connection = "mysql://dbuser:dbpassw0rd@127.0.0.1/x"`, "database.connection: a mysql:// URL is not a PostgreSQL connection; want postgres://", ""},
		{"a URL port out of range", `connection = "postgres://acme:dbpassw0rd@db:99999/acme"`, "database.connection: not a PostgreSQL connection string: invalid port", ""},
		{"a setting port out of range", `connection = "host=db port=70000 dbname=acme"`, "invalid port (a port is 1 to 65535)", ""},
		{"a file path", `connection = "/var/lib/acme-dns/acme-dns.db"`, "not a PostgreSQL connection string", ""},
		{"a password in the URL", `connection = "postgres://acme:dbpassw0rd@db/acme"`, "", "database.connection: holds a password; put the connection string in a file of its own (mode 0600) named by connection_file"},
		{"a password setting", `connection = "host=db password=dbpassw0rd dbname=acme"`, "", "holds a password"},
		{"a password in connection_file", `connection_file = "` + connFile + `"`, "", ""},
		{"a bad connection_file", `connection_file = "` + badFile + `"`, "database.connection_file: not a PostgreSQL connection string", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := "[general]\ndomain = \"auth.example.org\"\nlisten = \"127.0.0.1:0\"\n[database]\nengine = \"postgres\"\n" + tt.database + "\n[api]\nlisten = \"127.0.0.1:0\"\ntls = \"none\"\n"
			c, err := ParseConfig("serve.toml", []byte(src))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("got %v; want an error holding %q", err, tt.err)
			case err != nil && strings.Contains(err.Error(), "dbpassw0rd"):
				t.Fatalf("the error quotes the password: %v", err)
			case err != nil:
				return
			}
			warnings := strings.Join(c.Warnings, "\n")
			if (tt.warning == "") != (warnings == "") || !strings.Contains(warnings, tt.warning) || strings.Contains(warnings, "dbpassw0rd") {
				t.Errorf("warnings %q; want one holding %q, without the password", warnings, tt.warning)
			}
		})
	}
}

// Durations of the server's config read as the client's do: a duration
// string or whole seconds; other types and negative numbers are refused
// at their key, saying both forms.
func TestDurationsAcceptWholeSeconds(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  time.Duration
		err   string
	}{
		{`3600`, time.Hour, ""},
		{`"90s"`, 90 * time.Second, ""},
		{`"600"`, 10 * time.Minute, ""},
		{`-5`, 0, `txt.lifetime: "-5" is not a duration such as "90s", "1h" or whole seconds`},
		{`[1]`, 0, `txt.lifetime: wrong type: want a duration such as "90s" or whole seconds, got an array`},
		{`1.5`, 0, `txt.lifetime: wrong type: want a duration such as "90s" or whole seconds, got`},
	} {
		t.Run(tt.value, func(t *testing.T) {
			src := "[general]\ndomain = \"auth.example.org\"\nlisten = \"127.0.0.1:0\"\n[database]\nconnection = \"db.sqlite\"\n[api]\nlisten = \"127.0.0.1:0\"\ntls = \"none\"\n[txt]\nlifetime = " + tt.value + "\n"
			c, err := ParseConfig("serve.toml", []byte(src))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil || c.TXT.Lifetime.Duration != tt.want {
				t.Fatalf("got %v, %v; want %v", c, err, tt.want)
			}
		})
	}
}

// A server URL given to the SQLite engine would become a file named after
// it, its password in the name: it is refused at its key without being
// quoted; a path and a file: URI are SQLite's.
func TestSQLiteConnectionThatIsAServerURL(t *testing.T) {
	for _, tt := range []struct{ name, connection, err string }{
		{"a mysql URL", "mysql://root:dbpassw0rd@127.0.0.1:3306/acme", "database.connection: a URL is not a SQLite file path"},
		{"a postgres URL", "postgres://u:dbpassw0rd@db/acme", `set database.engine = "postgres"`},
		{"a path", "/var/lib/strictacme/serve.db", ""},
		{"a file URI", "file:///var/lib/strictacme/serve.db", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := "[general]\ndomain = \"auth.example.org\"\nlisten = \"127.0.0.1:0\"\n[database]\nengine = \"sqlite\"\nconnection = \"" + tt.connection + "\"\n[api]\nlisten = \"127.0.0.1:0\"\ntls = \"none\"\n"
			_, err := ParseConfig("serve.toml", []byte(src))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("got %v; want an error holding %q", err, tt.err)
			case err != nil && strings.Contains(err.Error(), "dbpassw0rd"):
				t.Fatalf("the error quotes the password: %v", err)
			}
		})
	}
}
