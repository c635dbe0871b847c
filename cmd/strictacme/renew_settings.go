package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/keyshape"
	"github.com/strictacme/strictacme/internal/store"
)

// renewalSettings are the flags of this order that renew needs again,
// stored in the certificate's metadata. No secrets: provider credentials and
// the EAB key are read from the environment or files at every run.
func (f *issueFlags) renewalSettings() *store.RenewalSettings {
	s := &store.RenewalSettings{
		Challenges: f.challenges, Provider: f.dns, Propagation: f.propagation, Resolvers: f.resolvers,
		Quorum: f.quorum, RequestTimeout: f.reqTimeout, IPv4Only: f.ipv4Only,
		PreferredChain: f.preferredChain, ReuseKey: f.reuseKey, Email: f.email,
		ChallengeAliases: f.aliases, ChallengeTargets: f.targets, FollowCNAME: f.followCNAME,
		PropagationTimeout: f.propTimeout, PropagationFallback: f.fallback, AllowPort53: f.allowPort53,
	}
	if f.waitSet {
		s.PropagationWait = f.wait
	}
	for _, c := range f.caCerts {
		if abs, err := filepath.Abs(c); err == nil {
			c = abs
		}
		s.CACerts = append(s.CACerts, c)
	}
	return s
}

// externalAccountBinding reads --eab-kid with --eab-hmac-key or
// --eab-hmac-key-file (RFC 8555 §7.3.4); nil when neither is given. The key
// never appears in an error.
func (f *issueFlags) externalAccountBinding() (*acme.EAB, error) {
	key := strings.TrimSpace(f.eabHMAC)
	if f.eabHMACFile != "" {
		if key != "" {
			return nil, usage("give the EAB HMAC key once: --eab-hmac-key (or %s) or --eab-hmac-key-file", envName("eab-hmac-key"))
		}
		data, err := os.ReadFile(f.eabHMACFile)
		if err != nil && keyshape.LooksLikeKey(f.eabHMACFile) {
			return nil, usage("--eab-hmac-key-file: that looks like a key, not a path; write the key to a file (mode 0600) and pass its path, or set %s", envName("eab-hmac-key"))
		}
		if err != nil {
			return nil, usage("--eab-hmac-key-file: cannot read %s", f.eabHMACFile)
		}
		key = strings.TrimSpace(string(data))
	}
	switch {
	case f.eabKID == "" && key == "":
		return nil, nil
	case f.eabKID == "":
		return nil, usage("an EAB HMAC key needs its key ID: add --eab-kid")
	case key == "":
		return nil, usage("--eab-kid needs the HMAC key: --eab-hmac-key-file FILE or %s", envName("eab-hmac-key"))
	}
	return &acme.EAB{KeyID: f.eabKID, MACKey: key}, nil
}
