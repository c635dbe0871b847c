package plan

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
)

// CAPresets maps server shortcuts to ACME directory URLs.
var CAPresets = map[string]string{
	"letsencrypt":         "https://acme-v02.api.letsencrypt.org/directory",
	"letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
	"zerossl":             "https://acme.zerossl.com/v2/DV90",
	"google":              "https://dv.acme-v02.api.pki.goog/directory",
	"google-staging":      "https://dv.acme-v02.test-api.pki.goog/directory",
	"buypass":             "https://api.buypass.com/acme/directory",
	"buypass-staging":     "https://api.test4.buypass.no/acme/directory",
}

// DirectoryURL resolves a server setting: a preset name or a directory URL.
// ACME needs HTTPS (RFC 8555 §6.1); plain http is accepted only for a CA on
// loopback (a local test CA). The error says what to give instead, without
// naming a flag or key (callers add theirs).
func DirectoryURL(server string) (string, error) {
	if u, ok := CAPresets[strings.ToLower(strings.TrimSpace(server))]; ok {
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

// CANames are the short names of CAPresets, sorted: what --server and the
// config's server accept besides a directory URL.
func CANames() []string {
	names := make([]string, 0, len(CAPresets))
	for n := range CAPresets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IsLoopbackHost reports whether h is localhost or a loopback address.
func IsLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

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
