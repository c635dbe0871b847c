package namecheap

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

var (
	emailTypesAll = []string{"MX", "MXE", "FWD", "OX", "GMAIL", "NONE"}
	suffixes      = []string{"com", "org", "co.uk", "com.au", "net", "website", "site"}
	hostLabels    = []string{"@", "www", "*", "mail", "shop", "sub.dept", "a.b.c", "_dmarc", "_acme-challenge", "_acme-challenge.www", "selector1._domainkey", "Legacy-Host", "xn--bcher-kva", "_sip._tls"}
	txtPool       = []string{
		"v=spf1 include:_spf.google.com include:spf.efwd.registrar-servers.com ~all",
		"v=DMARC1; p=quarantine; rua=mailto:dmarc+reports@example.org; pct=100",
		`a+b=c&d=e; "quoted" <angle> 'single'`,
		"google-site-verification=3Zq+/aB9==",
		"Grüße aus Köln — ünïcödé ✓ 日本語",
		"semi;colons;and = equals & ampersands + pluses",
		`back\slash and "inner quotes" here`,
		"<script>alert('x')</script>",
		"trailing space ",
		"  leading spaces",
		"%41%42 not decoded",
	}
	caaPool = []string{`0 issue "letsencrypt.org"`, `0 issuewild ";"`, `0 iodef "mailto:security@example.org"`, `128 issue "pki.goog; cansignhttpexchanges=yes"`}
	urlPool = []string{"http://www.example.org/", "https://example.net/path?a=1&b=two+three", "http://example.com/ü?q=\"x\""}
)

// dkimValue is a TXT value shaped like a 2048-bit RSA DKIM key (392 base64
// characters of key material).
func dkimValue(r *rand.Rand) string {
	key := make([]byte, 294)
	for i := range key {
		key[i] = byte(r.UintN(256))
	}
	return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(key)
}

func randIPv4(r *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(222), r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

func randHost(r *rand.Rand) namecheaptest.Host {
	ttls := []string{"60", "300", "1799", "1800", "3600", "60000", fmt.Sprint(60 + r.IntN(59941))}
	h := namecheaptest.Host{
		Name:     hostLabels[r.IntN(len(hostLabels))],
		MXPref:   "10",
		TTL:      ttls[r.IntN(len(ttls))],
		IsActive: true,
	}
	if r.IntN(8) == 0 {
		h.MXPref = fmt.Sprint(r.IntN(100))
	}
	switch r.IntN(12) {
	case 0:
		h.Type, h.Address = "A", randIPv4(r)
	case 1:
		h.Type, h.Address = "AAAA", fmt.Sprintf("2001:db8:%x::%x", r.IntN(65536), r.IntN(65536))
	case 2:
		h.Type, h.Address = "ALIAS", "target.example.net."
	case 3:
		h.Type, h.Address = "CAA", caaPool[r.IntN(len(caaPool))]
	case 4:
		h.Type, h.Address = "CNAME", "parkingpage.namecheap.com."
		if r.IntN(2) == 0 {
			h.Address = "no-trailing-dot.example.net"
		}
	case 5:
		h.Type, h.Address, h.MXPref = "MX", fmt.Sprintf("mx%d.mail.example.net.", r.IntN(5)), fmt.Sprint(r.IntN(50))
	case 6:
		h.Type, h.Address = "MXE", randIPv4(r)
		if r.IntN(3) == 0 {
			h.AssociatedAppTitle, h.FriendlyName = "MXE", "MXE1"
		}
	case 7:
		h.Type, h.Address = "NS", "ns1.other-dns.example."
	case 8, 9:
		h.Type = "TXT"
		switch r.IntN(4) {
		case 0:
			h.Address = dkimValue(r)
		case 1:
			h.Address = fmt.Sprintf("token-%d+%d&%d", r.Int64(), r.IntN(10), r.IntN(10))
		default:
			h.Address = txtPool[r.IntN(len(txtPool))]
		}
	case 10:
		h.Type, h.Address = []string{"URL", "URL301"}[r.IntN(2)], urlPool[r.IntN(len(urlPool))]
	case 11:
		h.Type, h.Address = "FRAME", urlPool[r.IntN(len(urlPool))]
	}
	return h
}

func randZone(r *rand.Rand) []namecheaptest.Host {
	// Most real zones are small; one in four is drawn up to the 140 rows
	// that leave room for ten challenge records under the 150 limit.
	n := r.IntN(40)
	switch r.IntN(10) {
	case 0:
		n = 0
	case 1, 2:
		n = r.IntN(141)
	case 3:
		n = 130 + r.IntN(11)
	}
	hosts := make([]namecheaptest.Host, 0, n)
	for range n {
		if len(hosts) > 0 && r.IntN(40) == 0 {
			hosts = append(hosts, hosts[r.IntN(len(hosts))]) // an exact duplicate row
			continue
		}
		hosts = append(hosts, randHost(r))
	}
	return hosts
}

// randCertNames returns 1–10 certificate names under domain (apex and
// wildcard often together, several labels, at most 10 names).
func randCertNames(r *rand.Rand, domain string) []string {
	pool := []string{domain, "*." + domain, "www." + domain, "api." + domain, "a.b.c." + domain,
		"*.dev." + domain, "dev." + domain, "cluster." + domain, "x-1.y-2." + domain, "mail." + domain, "*.www." + domain}
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	return pool[:1+r.IntN(10)]
}

func challengeValue(r *rand.Rand) string {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Kinds of damage the fake API does to a setHosts in the property test,
// besides what the real one is known to do (MX rows dropped unless
// EmailType is MX, surrounding TXT quotes stripped).
const (
	damageNone   = iota
	damageDrop   // a row is not stored
	damageTTL    // a row's TTL is reset to the default
	damageMXPref // a row's MXPref is reset
	damageKinds
)

// randomDamage returns a Damage hook that hits one random row of each of
// the first calls setHosts (calls < 0: every setHosts) with kind.
func randomDamage(seed uint64, kind, calls int) func(string, []namecheaptest.Host) []namecheaptest.Host {
	r := rand.New(rand.NewPCG(seed, 11))
	return func(_ string, hosts []namecheaptest.Host) []namecheaptest.Host {
		if calls == 0 || len(hosts) == 0 || kind == damageNone {
			return hosts
		}
		calls--
		i := r.IntN(len(hosts))
		switch kind {
		case damageDrop:
			return append(hosts[:i], hosts[i+1:]...)
		case damageTTL:
			hosts[i].TTL = map[bool]string{true: "1800", false: "1799"}[hosts[i].TTL == "1799"]
		case damageMXPref:
			hosts[i].MXPref = map[bool]string{true: "0", false: "10"}[hosts[i].MXPref == "10"]
		}
		return hosts
	}
}

// unnamedLost returns the rows of before missing from after that err
// does not name (as Row.String() prints them).
func unnamedLost(before, after []namecheaptest.Host, err error) []string {
	left := map[string]int{}
	for _, h := range after {
		left[h.Key()]++
	}
	var out []string
	for _, h := range before {
		if left[h.Key()] > 0 {
			left[h.Key()]--
			continue
		}
		row := Row{Name: h.Name, Type: h.Type, Address: h.Address, MXPref: h.MXPref, TTL: h.TTL}.String()
		if err == nil || !strings.Contains(err.Error(), row) {
			out = append(out, row)
		}
	}
	return out
}

// TestPropertyPresentCleanUpRestoresZone: over thousands of random zones
// (every record type, each EmailType, CAA with quotes, URL redirects, TXT
// values with + & " ; = < > and non-ASCII, some wrapped in quotes, 2048-bit
// DKIM keys, up to 140 rows), random sets of certificate names and random
// damage by the API (a row dropped, or its TTL or MXPref reset, on the
// first one or two setHosts or on every one; MX rows dropped unless
// EmailType is MX; quotes stripped), a run (present, then clean-up) either
// leaves every record of the zone as it was, EmailType included, and
// succeeds, or fails naming each record that is not intact. It never
// succeeds with a changed zone. Without damage, a zone that can round-trip
// is always restored exactly.
func TestPropertyPresentCleanUpRestoresZone(t *testing.T) {
	iterations := 2000
	if testing.Short() {
		iterations = 200
	}
	w := newWorld(t, namecheaptest.Options{RateLimit: -1}, nil)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(20260301, 7))
	outcomes := map[string]int{}
	for i := range iterations {
		domain := fmt.Sprintf("prop%d.%s", i%40, suffixes[r.IntN(len(suffixes))])
		emailType := emailTypesAll[r.IntN(len(emailTypesAll))]
		hosts := randZone(r)
		if len(hosts) > 0 && r.IntN(10) == 0 {
			hosts[r.IntN(len(hosts))] = namecheaptest.Host{Name: "@", Type: "TXT", Address: `"wrapped in quotes"`, TTL: "1799", IsActive: true}
		}
		for _, h := range hosts {
			if h.Type == "MX" && r.IntN(4) > 0 {
				emailType = "MX" // most zones with MX rows have custom MX
			}
		}
		w.srv.AddZone(domain, namecheaptest.ZoneOptions{EmailType: emailType, Hosts: hosts})
		beforeHosts := w.srv.Hosts(domain)
		before := zoneKeys(beforeHosts)
		kind, calls := r.IntN(damageKinds), []int{1, 2, -1}[r.IntN(3)]
		if r.IntN(3) == 0 {
			kind = damageNone
		}
		w.srv.SetDamage(randomDamage(r.Uint64(), kind, calls))
		canRoundTrip := len(before) > 0
		for _, h := range beforeHosts {
			if (h.Type == "MX" && emailType != "MX") || (h.Type == "TXT" && unquote(h.Address) != h.Address) {
				canRoundTrip = false
			}
		}

		names := randCertNames(r, domain)
		var recs []libdns.Record
		zone := ""
		for _, n := range names {
			fqdn := "_acme-challenge." + strings.TrimPrefix(n, "*.") + "."
			z, err := w.p.ZoneFor(ctx, fqdn)
			if err != nil {
				t.Fatalf("iteration %d: ZoneFor(%s): %v", i, fqdn, err)
			}
			zone = z
			host, err := HostName(fqdn, z)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, libdns.TXT{Name: host, Text: challengeValue(r)})
		}
		if zone != domain+"." {
			t.Fatalf("iteration %d: zone %q for %s", i, zone, domain)
		}
		_, perr := w.p.AppendRecords(ctx, zone, recs)
		if perr == nil && kind == damageNone {
			mid := w.srv.Hosts(domain)
			for _, rec := range recs {
				rr := rec.RR()
				if hasTXT(mid, rr.Name, rr.Data) != 1 {
					t.Fatalf("iteration %d: %s %q missing after present", i, rr.Name, rr.Data)
				}
			}
			if len(mid) != len(before)+len(recs) {
				t.Fatalf("iteration %d: %d rows after present, want %d", i, len(mid), len(before)+len(recs))
			}
		}
		// Clean up in a different order, with other TTLs: matching is by
		// name and value only. A run cleans up whether or not present
		// succeeded.
		r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		for k, rec := range recs {
			t := rec.(libdns.TXT)
			t.TTL = 0
			recs[k] = t
		}
		_, cerr := w.p.DeleteRecords(ctx, zone, recs)
		err := errors.Join(perr, cerr)
		afterHosts := w.srv.Hosts(domain)
		after := zoneKeys(afterHosts)
		switch {
		case err == nil && (!sameKeys(before, after) || w.srv.EmailType(domain) != emailType):
			t.Fatalf("iteration %d: run succeeded but zone %s changed (damage %d×%d):\nbefore %q\nafter  %q", i, domain, kind, calls, before, after)
		case err != nil:
			if missing := unnamedLost(beforeHosts, afterHosts, err); len(missing) > 0 {
				t.Fatalf("iteration %d: run failed without naming lost record(s) %q (damage %d×%d): %v", i, missing, kind, calls, err)
			}
		}
		if kind == damageNone && canRoundTrip && err != nil {
			t.Fatalf("iteration %d: run without damage failed: %v", i, err)
		}
		switch {
		case err == nil:
			outcomes["intact"]++
		case errorAs[*DamageError](err):
			outcomes["damage reported"]++
		case errorAs[*RefusedError](err):
			outcomes["refused"]++
		default:
			outcomes["other failure"]++
			t.Logf("iteration %d: %v", i, err)
		}
		w.srv.SetDamage(nil)
		w.srv.RemoveZone(domain)
	}
	t.Logf("outcomes: %v", outcomes)
}

func errorAs[T error](err error) bool {
	_, ok := errorsAs[T](err)
	return ok
}
