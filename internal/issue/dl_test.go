package issue

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/challenge"
	"github.com/strictacme/strictacme/internal/testworld"
)

// rrsetProvider replaces the whole TXT RRset at a name on every append, as
// RRset-replace APIs do. single makes it declare providers.SingleValue.
type rrsetProvider struct {
	*testworld.Provider
	w      *testworld.World
	single bool

	mu       sync.Mutex
	maxLive  int // most TXT values seen live at one name after a write
	appends  int
	perWrite []int // records per append call
}

func (p *rrsetProvider) SingleValue() bool { return p.single }

func (p *rrsetProvider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	byName := map[string][]libdns.Record{}
	for _, r := range recs {
		byName[r.RR().Name] = append(byName[r.RR().Name], r)
	}
	existing, err := p.GetRecords(ctx, zone)
	if err != nil {
		return nil, err
	}
	var old []libdns.Record
	for _, r := range existing {
		if rr := r.RR(); rr.Type == "TXT" && byName[rr.Name] != nil {
			old = append(old, r)
		}
	}
	if len(old) > 0 {
		if _, err := p.Provider.DeleteRecords(ctx, zone, old); err != nil {
			return nil, err
		}
	}
	out, err := p.Provider.AppendRecords(ctx, zone, recs)
	p.appends++
	p.perWrite = append(p.perWrite, len(recs))
	for name := range byName {
		p.maxLive = max(p.maxLive, len(txtRRs(p.w, libdns.AbsoluteName(name, zone))))
	}
	return out, err
}

// TestCase_DL03: a provider that keeps one TXT value per name cannot hold
// the apex and the wildcard value at once; the two authorizations are
// validated one after the other, each with its own write, wait and clean-up.
func TestCase_DL03(t *testing.T) {
	w := testworld.Start(t)
	p := &rrsetProvider{Provider: w.Provider(), w: w, single: true}
	// The recording strategy: a caching resolver would keep round 1's
	// value for its TTL, which is the provider's cost, not the flow's.
	f := newFixture(t, w, withProvider(p))
	res, err := f.obtain(t, context.Background(), "example.com", "*.example.com", "www.example.com")
	if err != nil {
		t.Fatalf("Obtain: %v\n%s", err, strings.Join(f.log, "\n"))
	}
	if p.maxLive != 1 {
		t.Errorf("%d values live at one name; want 1", p.maxLive)
	}
	if p.appends != 2 || p.perWrite[0] != 2 || p.perWrite[1] != 1 {
		t.Errorf("writes %v; want [2 1] (apex and www first, the wildcard in round 2)", p.perWrite)
	}
	if !strings.Contains(strings.Join(f.log, "\n"), "round 2: 1 record(s) share a name") {
		t.Errorf("no round 2 in the log:\n%s", strings.Join(f.log, "\n"))
	}
	if len(res.Records) != 3 || challengeTXTs(t, w) != 0 {
		t.Errorf("records %d, left behind %d", len(res.Records), challengeTXTs(t, w))
	}
}

// TestCase_DL04: with an RRset-replace API, parallel writes for one name
// would overwrite each other; the order flow merges every value for a zone
// into one call, so apex and wildcard land together and both validate.
func TestCase_DL04(t *testing.T) {
	w := testworld.Start(t)
	p := &rrsetProvider{Provider: w.Provider(), w: w}
	f := newFixture(t, w, withProvider(p))
	if _, err := f.obtain(t, context.Background(), "example.com", "*.example.com"); err != nil {
		t.Fatalf("Obtain: %v\n%s", err, strings.Join(f.log, "\n"))
	}
	if p.appends != 1 || p.perWrite[0] != 2 || p.maxLive != 2 {
		t.Errorf("appends %d %v, live %d; want one merged write of 2 values", p.appends, p.perWrite, p.maxLive)
	}
}

// TestCase_DL05: two clusters (two accounts) validate the same name at the
// same time: writes are additive and each removes only its own value. The
// clean answer, dns-account-01, gives each account its own record name.
func TestCase_DL05(t *testing.T) {
	w := testworld.Start(t)
	a, b := newFixture(t, w), newFixture(t, w)
	// A foreign value at the name (a third cluster mid-order) must survive.
	const fqdn = "_acme-challenge.shared.example.com."
	if err := w.DNS.Add(fqdn, 16, 60, "third-cluster-value"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, f := range []*fixture{a, b} {
		wg.Go(func() { _, errs[i] = f.obtain(t, context.Background(), "shared.example.com") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("cluster %d: %v", i, err)
		}
	}
	if !hasTXT(w, fqdn, "third-cluster-value") || len(txtRRs(w, fqdn)) != 1 {
		t.Errorf("after both orders: %v; want only the third cluster's value", txtRRs(w, fqdn))
	}
	na := challenge.DNSAccount01Name("shared.example.com", a.is.account.Location)
	nb := challenge.DNSAccount01Name("shared.example.com", b.is.account.Location)
	if na == nb {
		t.Errorf("dns-account-01 names equal for two accounts: %s", na)
	}
}
