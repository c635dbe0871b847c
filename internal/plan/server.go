package plan

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/strictacme/strictacme/internal/apiclient"
)

// CAPresets maps each CA's own short name to its ACME directory URL. It
// is, with CAAliases, the one table that decides what --server and a
// config's server key mean; help texts list it through CANames.
// Sources: the CAs' ACME documentation as collected in lego's CA codes
// (github.com/go-acme/lego, lego/zz_gen_ca.go).
var CAPresets = map[string]string{
	"letsencrypt":         "https://acme-v02.api.letsencrypt.org/directory",
	"letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
	"zerossl":             "https://acme.zerossl.com/v2/DV90",
	"google":              "https://dv.acme-v02.api.pki.goog/directory",
	"google-staging":      "https://dv.acme-v02.test-api.pki.goog/directory",
	"buypass":             "https://api.buypass.com/acme/directory",
	"buypass-staging":     "https://api.test4.buypass.no/acme/directory",
	"actalis":             "https://acme-api.actalis.com/acme/directory",
	"digicert":            "https://one.digicert.com/mpki/api/v1/acme/v2/directory",
	"freessl":             "https://acmepro.freessl.cn/v2/DV",
	"globalsign":          "https://emea.acme.atlas.globalsign.com/directory",
	"litessl":             "https://acme.litessl.com/acme/v2/directory",
	"peeringhub":          "https://stica.peeringhub.io/acme",
	"sectigo":             "https://acme.sectigo.com/v2/DV",
	"sectigoev":           "https://acme.sectigo.com/v2/EV",
	"sectigoov":           "https://acme.sectigo.com/v2/OV",
	"sslcomecc":           "https://acme.ssl.com/sslcom-dv-ecc",
	"sslcomrsa":           "https://acme.ssl.com/sslcom-dv-rsa",
}

// CAAliases maps other clients' names for a CA (lego's --server codes) to
// the CAPresets name they mean. CAName shows the preset name.
var CAAliases = map[string]string{
	"googletrust":         "google",
	"googletrust-staging": "google-staging",
}

// CAStaging maps a CAPresets name to the preset of that CA's staging CA:
// the test CA its operator runs with the same protocol and looser rate
// limits, whose certificates nothing trusts. A dry run (--dry-run) orders
// there. A staging preset maps to itself; a CA not listed (a preset
// without a public staging CA, a directory URL) has none, and a dry run
// orders from the CA itself. Source: the CAs' ACME documentation as
// collected in lego's CA codes, which list each staging CA beside its CA.
var CAStaging = map[string]string{
	"letsencrypt":         "letsencrypt-staging",
	"letsencrypt-staging": "letsencrypt-staging",
	"google":              "google-staging",
	"google-staging":      "google-staging",
	"buypass":             "buypass-staging",
	"buypass-staging":     "buypass-staging",
}

// DryRunDirectory returns the directory URL a dry run of the CA at dir (a
// resolved directory URL, as DirectoryURL returns) orders from: the
// staging CA of dir's preset (CAStaging), else dir itself. same reports
// the latter: the CA is the configured one, so its external account
// binding applies.
func DryRunDirectory(dir string) (url string, same bool) {
	for name, u := range CAPresets {
		if u != dir {
			continue
		}
		if staging, ok := CAStaging[name]; ok {
			url := CAPresets[staging]
			return url, url == dir
		}
	}
	return dir, true
}

// CANames are the names --server and the config's server accept besides
// a directory URL, sorted: CAPresets' and CAAliases'.
func CANames() []string {
	names := make([]string, 0, len(CAPresets)+len(CAAliases))
	for n := range CAPresets {
		names = append(names, n)
	}
	for n := range CAAliases {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DirectoryURL resolves a server setting: a preset name, an alias, or a
// directory URL. ACME needs HTTPS (RFC 8555 §6.1); plain http is accepted
// only for a CA on loopback (a local test CA). The error says what to give
// instead, without naming a flag or key (callers add theirs).
func DirectoryURL(server string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(server))
	if p, ok := CAAliases[name]; ok {
		name = p
	}
	if u, ok := CAPresets[name]; ok {
		return u, nil
	}
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		switch {
		case u.Scheme == "https":
			return server, nil
		case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
			return server, nil
		case u.Scheme == "http":
			return "", fmt.Errorf("%q: ACME needs HTTPS (RFC 8555 §6.1); use the https:// directory URL", server)
		}
	}
	return "", fmt.Errorf("%q: use %s or an https:// directory URL", server, strings.Join(CANames(), ", "))
}

// IsLoopbackHost reports whether h is localhost or a loopback address,
// the hosts plain http may reach (test servers).
func IsLoopbackHost(h string) bool { return apiclient.IsLoopbackHost(h) }

// CAName shortens a directory URL for display: the preset name whose URL
// it is, else the URL's host, else dir unchanged.
func CAName(dir string) string {
	for name, u := range CAPresets {
		if u == dir {
			return name
		}
	}
	if u, err := url.Parse(dir); err == nil && u.Host != "" {
		return u.Host
	}
	return dir
}
