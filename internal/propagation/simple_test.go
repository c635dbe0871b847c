package propagation

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/internal/resolver"
)

// TestCase_PR02: with a caching resolver configured but the "wait" (or
// "none") strategy chosen, not one DNS packet is sent.
func TestCase_PR02(t *testing.T) {
	r, s := startPlain(t, func(q *dns.Msg, _ int) *dns.Msg { return txt(q, "stale") })
	for _, name := range []string{"wait", "none"} {
		clock := newFakeClock()
		st, err := ByName(name, Config{Resolvers: []resolver.Resolver{r}, Delay: time.Minute, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, clock.Now(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.count(); n != 0 {
		t.Fatalf("%d DNS packets reached the resolver, want 0", n)
	}
}

// TestCase_PR12: the fixed wait is measured from the last write, not from
// the call: 2m after a write 90s ago is 30s more; after 3m, nothing.
func TestCase_PR12(t *testing.T) {
	for _, tc := range []struct {
		ago  time.Duration
		want []time.Duration
	}{
		{0, []time.Duration{2 * time.Minute}},
		{90 * time.Second, []time.Duration{30 * time.Second}},
		{2 * time.Minute, nil},
		{3 * time.Minute, nil},
	} {
		clock := newFakeClock()
		st, err := ByName("wait", Config{Delay: 2 * time.Minute, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		var ev events
		if err := st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, clock.Now().Add(-tc.ago), ev.obs()); err != nil {
			t.Fatal(err)
		}
		if got := clock.sleeps(); !slices.Equal(got, tc.want) {
			t.Errorf("write %v ago: slept %v, want %v (%q)", tc.ago, got, tc.want, ev.all())
		}
	}
}

func TestWait_ContextDeadlineTooShort(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := FixedDelay{Delay: time.Hour}.Wait(ctx, nil, time.Now(), nil)
	if err == nil || !strings.Contains(err.Error(), "the deadline is in") {
		t.Fatalf("error %v, want a deadline explanation", err)
	}
}

func TestNone(t *testing.T) {
	var ev events
	if err := (None{}).Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, time.Now(), ev.obs()); err != nil {
		t.Fatal(err)
	}
	if lines := ev.all(); len(lines) != 1 || !strings.Contains(lines[0], "not checking") {
		t.Errorf("None should say it does not check: %q", lines)
	}
}

func TestZeroWrittenRefused(t *testing.T) {
	for _, st := range []Strategy{FixedDelay{Delay: time.Second}, &Poll{}, &ProviderCheck{}} {
		if err := st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, time.Time{}, nil); err != errNoWrite {
			t.Errorf("%s: error %v, want errNoWrite", st.Name(), err)
		}
	}
}

// The wait strategy never claims the records are visible: its last line
// says it waited and did not look.
func TestWaitSaysItWaitedWithoutLooking(t *testing.T) {
	clock := newFakeClock()
	st, err := ByName("wait", Config{Delay: 2 * time.Minute, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var ev events
	if err := st.Wait(t.Context(), []Record{{FQDN: chal, Value: "v"}}, clock.Now(), ev.obs()); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(ev.all(), "\n")
	if !strings.Contains(all, "waited until 2m0s after the last write; the records were not looked up") || strings.Contains(all, "visible") {
		t.Errorf("events %q: want the wait reported, no visibility claimed", all)
	}
}
