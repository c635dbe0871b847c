package namecheap

import (
	"context"
	"encoding/base64"
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

// TestPropertyPresentCleanUpRestoresZone: over thousands of random zones
// (every record type, each EmailType, CAA with quotes, URL redirects, TXT
// values with + & " ; = < > and non-ASCII, 2048-bit DKIM keys, up to 140
// rows) and random sets of certificate names, present + clean-up leaves
// the zone equal to the original (every other row as read, exact-value
// deletion, several values per name) and
// EmailType unchanged.
func TestPropertyPresentCleanUpRestoresZone(t *testing.T) {
	iterations := 2000
	if testing.Short() {
		iterations = 200
	}
	w := newWorld(t, namecheaptest.Options{RateLimit: -1}, nil)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(20260301, 7))
	for i := range iterations {
		domain := fmt.Sprintf("prop%d.%s", i%40, suffixes[r.IntN(len(suffixes))])
		emailType := emailTypesAll[r.IntN(len(emailTypesAll))]
		w.srv.AddZone(domain, namecheaptest.ZoneOptions{EmailType: emailType, Hosts: randZone(r)})
		before := zoneKeys(w.srv.Hosts(domain))

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
		setHostsBefore := w.srv.Calls("setHosts")
		if _, err := w.p.AppendRecords(ctx, zone, recs); err != nil {
			t.Fatalf("iteration %d (%d rows, EmailType %s): present: %v", i, len(before), emailType, err)
		}
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
		// Clean up in a different order, with other TTLs: matching is by
		// name and value only.
		r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		for k, rec := range recs {
			t := rec.(libdns.TXT)
			t.TTL = 0
			recs[k] = t
		}
		if _, err := w.p.DeleteRecords(ctx, zone, recs); err != nil {
			t.Fatalf("iteration %d: clean-up: %v", i, err)
		}
		after := zoneKeys(w.srv.Hosts(domain))
		if len(before) == 0 {
			// An empty host list is never sent (Namecheap does not
			// document its effect): the challenge
			// records of an empty zone stay, and nothing else is there.
			if len(after) != len(recs) || w.srv.Calls("setHosts") != setHostsBefore+1 {
				t.Fatalf("iteration %d: empty zone after clean-up: %q", i, after)
			}
			after = nil
		}
		if !sameKeys(before, after) {
			t.Fatalf("iteration %d: zone %s not restored:\nbefore %q\nafter  %q", i, domain, before, after)
		}
		if got := w.srv.EmailType(domain); got != emailType {
			t.Fatalf("iteration %d: EmailType %q, want %q", i, got, emailType)
		}
		w.srv.RemoveZone(domain)
	}
}
