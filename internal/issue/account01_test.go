package issue

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/testworld"
)

// touchLog is a provider that records the absolute names it writes and
// deletes, then passes the call on.
type touchLog struct {
	*testworld.Provider
	mu      sync.Mutex
	written []string
	deleted []string
}

func (p *touchLog) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	p.note(&p.written, zone, recs)
	return p.Provider.AppendRecords(ctx, zone, recs)
}

func (p *touchLog) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	p.note(&p.deleted, zone, recs)
	return p.Provider.DeleteRecords(ctx, zone, recs)
}

func (p *touchLog) note(list *[]string, zone string, recs []libdns.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range recs {
		*list = append(*list, libdns.AbsoluteName(r.RR().Name, zone))
	}
}

var accountOnly = []challenge.Type{challenge.DNSAccount01}

// TestAccount01TwoAccountsSameNameConcurrently: two issuers with their own
// accounts and stores validate the same names at the same time with
// dns-account-01. Both succeed, and each wrote and removed only records
// under its own account label.
func TestAccount01TwoAccountsSameNameConcurrently(t *testing.T) {
	w := testworld.Start(t)
	logs := []*touchLog{{Provider: w.Provider()}, {Provider: w.Provider()}}
	fs := []*fixture{newFixture(t, w, withProvider(logs[0])), newFixture(t, w, withProvider(logs[1]))}
	labels := []string{challenge.AccountLabel(fs[0].is.account.Location), challenge.AccountLabel(fs[1].is.account.Location)}
	if labels[0] == labels[1] {
		t.Fatalf("two accounts share the label %s", labels[0])
	}
	names := []string{"shared.example.com", "*.shared.example.com", "shared.example.net"}
	errs := make([]error, 2)
	results := make([]*Result, 2)
	var wg sync.WaitGroup
	for i := range fs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], errs[i] = fs[i].is.Obtain(context.Background(), Request{Identifiers: ids(t, names...), KeyType: EC256, Challenges: accountOnly})
		}(i)
	}
	wg.Wait()
	for i := range fs {
		if errs[i] != nil {
			t.Fatalf("account %d: %v\nlog:\n%s", i+1, errs[i], strings.Join(fs[i].log, "\n"))
		}
		if results[i].Stats.ProviderWrites != 2 { // two zones, one write each
			t.Errorf("account %d: provider writes = %d, want 2 (one per zone)", i+1, results[i].Stats.ProviderWrites)
		}
		for _, r := range results[i].Records {
			if r.Type != challenge.DNSAccount01 || !strings.HasPrefix(r.FQDN, labels[i]+"._acme-challenge.") {
				t.Errorf("account %d: record %+v", i+1, r)
			}
		}
		l := logs[i]
		if len(l.written) != 3 || len(l.deleted) != 3 {
			t.Errorf("account %d wrote %v and deleted %v, want 3 each", i+1, l.written, l.deleted)
		}
		for _, n := range append(append([]string(nil), l.written...), l.deleted...) {
			if !strings.HasPrefix(n, labels[i]+"._acme-challenge.") {
				t.Errorf("account %d touched %s, outside its label %s", i+1, n, labels[i])
			}
		}
	}
	if n := challengeTXTs(t, w); n != 0 {
		t.Errorf("%d challenge records left", n)
	}
}

// staticDelegator maps one validation name to another (a CNAME alias).
type staticDelegator map[string]string

func (d staticDelegator) Delegate(_ context.Context, fqdn string) (string, error) {
	if t, ok := d[fqdn]; ok {
		return t, nil
	}
	return fqdn, nil
}

// TestAccount01Delegated: the account-labelled name is CNAMEd into another
// zone; the record is written and removed there, and the CA follows the
// alias.
func TestAccount01Delegated(t *testing.T) {
	w := testworld.Start(t)
	var del staticDelegator = map[string]string{}
	f := newFixture(t, w, func(_ *fixture, c *Config) { c.Delegate = del })
	from := challenge.DNSAccount01Name("alias.example.com", f.is.account.Location)
	to := "alias-example-com.challenges.example.net."
	del[from] = to
	if err := w.DNS.Add(from, dns.TypeCNAME, 60, to); err != nil {
		t.Fatal(err)
	}
	res, err := f.obtainWith(t, accountOnly, "alias.example.com")
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, strings.Join(f.log, "\n"))
	}
	r := res.Records[0]
	if r.FQDN != from || r.Target != to || r.Zone != "example.net." {
		t.Errorf("record = %+v", r)
	}
	if len(txtRRs(w, to)) != 0 {
		t.Error("delegated record not cleaned up")
	}
}
