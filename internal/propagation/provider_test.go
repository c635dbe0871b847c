package propagation

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// zoneGetter is an in-memory libdns.RecordGetter whose records appear after
// a number of reads, as with a provider API that applies writes lazily.
type zoneGetter struct {
	mu     sync.Mutex
	reads  map[string]int
	after  int // reads before records show
	recs   map[string][]libdns.Record
	errFor int // the first errFor reads fail
}

func (g *zoneGetter) GetRecords(_ context.Context, zone string) ([]libdns.Record, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reads[zone]++
	if g.reads[zone] <= g.errFor {
		return nil, errors.New("HTTP 502 from the provider")
	}
	if g.reads[zone] <= g.after {
		return nil, nil
	}
	return g.recs[zone], nil
}

func zoneOf(fqdn string) (string, error) {
	switch {
	case strings.HasSuffix(fqdn, "a.example."):
		return "a.example.", nil
	case strings.HasSuffix(fqdn, "b.example."):
		return "b.example.", nil
	}
	return "", errors.New("no zone for " + fqdn)
}

func TestProvider_RecordsAppearThenSettle(t *testing.T) {
	g := &zoneGetter{reads: map[string]int{}, after: 2, errFor: 1, recs: map[string][]libdns.Record{
		"a.example.": {
			libdns.TXT{Name: "_acme-challenge", Text: "apex"},
			libdns.TXT{Name: "_acme-challenge", Text: "wild"},
			libdns.RR{Name: "www", Type: "A", Data: "192.0.2.1"},
		},
		// Some APIs return absolute names without the trailing dot.
		"b.example.": {libdns.RR{Name: "_acme-challenge.b.example", Type: "txt", Data: "b"}},
	}}
	clock := newFakeClock()
	st, err := ByName("provider", Config{Getter: g, ZoneOf: zoneOf, Delay: 30 * time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	written := clock.Now()
	var ev events
	recs := []Record{
		{FQDN: "_acme-challenge.a.example.", Value: "apex"},
		{FQDN: "_acme-challenge.a.example.", Value: "wild"},
		{FQDN: "_acme-challenge.b.example.", Value: "b"},
	}
	if err := st.Wait(t.Context(), recs, written, ev.obs()); err != nil {
		t.Fatal(err)
	}
	// Polls at 0s, 1s, 3s (third read shows records); the settle delay
	// is 30s from the write, so 27s remain.
	if got, want := clock.sleeps(), []time.Duration{time.Second, 2 * time.Second, 27 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("pauses %v, want %v", got, want)
	}
	if lines := ev.all(); contains(lines, "HTTP 502 from the provider") != 2 {
		t.Errorf("read errors not reported per zone: %q", lines)
	}
}

func TestProvider_TimeoutListsMissing(t *testing.T) {
	g := &zoneGetter{reads: map[string]int{}, recs: map[string][]libdns.Record{
		"a.example.": {libdns.TXT{Name: "_acme-challenge", Text: "old"}},
	}}
	clock := newFakeClock()
	st, err := ByName("provider", Config{Getter: g, ZoneOf: zoneOf, Clock: clock, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Wait(t.Context(), []Record{{FQDN: "_acme-challenge.a.example.", Value: "new"}}, clock.Now(), nil)
	want := `propagation provider: timed out after 1m0s: zone a.example.: _acme-challenge.a.example. TXT "new" missing`
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant  %s", err, want)
	}
}

func TestProvider_UnknownZoneFailsAtOnce(t *testing.T) {
	st, err := ByName("provider", Config{Getter: &zoneGetter{reads: map[string]int{}}, ZoneOf: zoneOf, Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Wait(t.Context(), []Record{{FQDN: "_acme-challenge.c.example.", Value: "v"}}, time.Now(), nil)
	if err == nil || !strings.Contains(err.Error(), "no zone for _acme-challenge.c.example.") {
		t.Fatalf("error %v", err)
	}
}
