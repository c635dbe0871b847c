package namecheap

import (
	"strings"
	"testing"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

// TestMXRowsOutsideCustomMXAreNotWritten: setHosts keeps MX rows only when
// the zone's EmailType is MX, so a zone with Namecheap-managed mail (or
// none) that holds MX rows is refused before anything is sent, naming the
// rows and the fix; the MX rows stay.
func TestMXRowsOutsideCustomMXAreNotWritten(t *testing.T) {
	for _, et := range []string{"MXE", "FWD", "OX", "GMAIL", "NONE"} {
		t.Run(et, func(t *testing.T) {
			w := newWorld(t, namecheaptest.Options{}, nil)
			w.srv.AddZone("example.com", namecheaptest.ZoneOptions{EmailType: et, Hosts: baseZone()})
			before := zoneKeys(w.srv.Hosts("example.com"))
			for _, op := range []func() error{
				func() error {
					_, err := w.p.AppendRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", "v")})
					return err
				},
				func() error {
					w.srv.AddHosts("example.com", namecheaptest.Host{Name: "_acme-challenge", Type: "TXT", Address: "left", TTL: "60"})
					before = zoneKeys(w.srv.Hosts("example.com"))
					_, err := w.p.DeleteRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", "left")})
					return err
				},
			} {
				err := op()
				if _, ok := errorsAs[*RefusedError](err); !ok {
					t.Fatalf("err = %v, want a refusal", err)
				}
				for _, want := range []string{"EmailType " + et, "@ MX mx1.mail.example.net.", "Custom MX", "CNAME"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error does not say %q: %v", want, err)
					}
				}
				if w.srv.Calls("setHosts") != 0 || !sameKeys(before, zoneKeys(w.srv.Hosts("example.com"))) {
					t.Fatal("zone written")
				}
			}
		})
	}
}

// TestQuotedTXTInZoneIsNotWritten: a stored TXT value wrapped in quotes
// would come back without them after any setHosts (case NC12: values
// must round-trip byte-identical), so the write is refused naming the row.
func TestQuotedTXTInZoneIsNotWritten(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{Hosts: append(baseZone(),
		namecheaptest.Host{Name: "legacy", Type: "TXT", Address: `"v=spf1 -all"`, TTL: "1799"})})
	before := zoneKeys(w.srv.Hosts("example.com"))
	_, err := w.p.AppendRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", "v")})
	if _, ok := errorsAs[*RefusedError](err); !ok || !strings.Contains(err.Error(), `legacy holds "\"v=spf1 -all\""`) || !strings.Contains(err.Error(), "remove the quotes") {
		t.Fatalf("err = %v", err)
	}
	if w.srv.Calls("setHosts") != 0 || !sameKeys(before, zoneKeys(w.srv.Hosts("example.com"))) {
		t.Fatal("zone written")
	}
}

// damageFirst returns a Damage hook applying fn to the first n setHosts.
func damageFirst(n int, fn func([]namecheaptest.Host) []namecheaptest.Host) func(string, []namecheaptest.Host) []namecheaptest.Host {
	return func(_ string, hosts []namecheaptest.Host) []namecheaptest.Host {
		if n == 0 {
			return hosts
		}
		n--
		return fn(hosts)
	}
}

// dropMXAndResetCAATTL drops the MX rows and gives the CAA row the default
// TTL, as an API that rewrites what it does not like would.
func dropMXAndResetCAATTL(hosts []namecheaptest.Host) []namecheaptest.Host {
	var out []namecheaptest.Host
	for _, h := range hosts {
		switch h.Type {
		case "MX":
			continue
		case "CAA":
			h.TTL = "1800"
		}
		out = append(out, h)
	}
	return out
}

// TestWriteDamagedOnceIsRestored: a setHosts that dropped the MX row and
// changed the CAA row's TTL is not taken for another writer's change: one
// more write puts both back, the damage is logged, and the change succeeds
// with every record intact.
func TestWriteDamagedOnceIsRestored(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{Damage: damageFirst(1, dropMXAndResetCAATTL)}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{EmailType: "MX", Hosts: baseZone()})
	before := zoneKeys(w.srv.Hosts("example.com"))
	recs := []libdns.Record{txt("_acme-challenge", "v")}
	if _, err := w.p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if n := w.srv.Calls("setHosts"); n != 2 {
		t.Errorf("setHosts calls = %d, want 2 (the write and its repair)", n)
	}
	if !strings.Contains(w.logs.String(), "damaged") || !strings.Contains(w.logs.String(), "mx1.mail.example.net.") {
		t.Errorf("damage not logged:\n%s", w.logs.String())
	}
	if _, err := w.p.DeleteRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if !sameKeys(before, zoneKeys(w.srv.Hosts("example.com"))) {
		t.Fatal("zone not restored")
	}
}

// TestWriteDamagedForGoodFailsNamingEachLostRecord: when the repairing
// write is damaged the same way, the change fails with a *DamageError that
// names each lost record as it was and what became of it, and nothing
// more is written to the zone: no new cycle starts from the damaged zone.
func TestWriteDamagedForGoodFailsNamingEachLostRecord(t *testing.T) {
	w := newWorld(t, namecheaptest.Options{Damage: damageFirst(-1, dropMXAndResetCAATTL)}, nil)
	w.srv.AddZone("example.com", namecheaptest.ZoneOptions{EmailType: "MX", Hosts: baseZone()})
	_, err := w.p.AppendRecords(ctx, "example.com.", []libdns.Record{txt("_acme-challenge", "v")})
	de, ok := errorsAs[*DamageError](err)
	if !ok {
		t.Fatalf("err = %v, want a *DamageError", err)
	}
	if len(de.Lost) != 2 {
		t.Fatalf("lost = %v, want the MX and the CAA row", de.Lost)
	}
	for _, want := range []string{
		`@ MX "mx1.mail.example.net." (MXPref 20, TTL 1800) is gone`,
		`@ CAA "0 issue \"letsencrypt.org\"" (MXPref 10, TTL 1799) is now @ CAA "0 issue \"letsencrypt.org\"" (MXPref 10, TTL 1800)`,
		"re-create them in the Namecheap dashboard",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if n := w.srv.Calls("setHosts"); n != 2 {
		t.Errorf("setHosts calls = %d, want 2: the write and one repair, nothing after", n)
	}
}
