package renewal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/store/storetest"
)

// A run's tally tells first issues, renewals and failures apart, and a
// failure of a certificate that was never issued (its first order
// failed) is counted as such, not as a failed renewal: "renewed 0,
// failed 2" after two first orders failed read as if two certificates
// were in place.
func TestRunTallyTellsIssuedRenewedAndNeverIssuedApart(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fail := errors.New("order: the CA refused the new order")
	type cert struct {
		stored bool // else ordered from the config, not stored yet
		due    bool
		fails  bool
	}
	type counts struct{ Due, Renewed, Issued, Failed, NotIssued int }
	for _, tt := range []struct {
		name  string
		certs []cert
		want  counts
		text  string
	}{
		{"two first orders fail", []cert{{fails: true}, {fails: true}},
			counts{Due: 2, Failed: 2, NotIssued: 2}, "issued 0, renewed 0, failed 2 (never issued: 2), not due 0"},
		{"a first issue and a renewal", []cert{{}, {stored: true, due: true}, {stored: true}},
			counts{Due: 2, Renewed: 2, Issued: 1}, "issued 1, renewed 1, failed 0, not due 1"},
		{"a failed renewal keeps its certificate", []cert{{stored: true, due: true, fails: true}, {stored: true}},
			counts{Due: 1, Failed: 1}, "issued 0, renewed 0, failed 1, not due 1"},
		{"a failed renewal beside a failed first order", []cert{{stored: true, due: true, fails: true}, {fails: true}, {}},
			counts{Due: 3, Renewed: 1, Issued: 1, Failed: 2, NotIssued: 1}, "issued 1, renewed 0, failed 2 (never issued: 1), not due 0"},
		{"nothing due", []cert{{stored: true}}, counts{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := storetest.Open(t)
			r := &Run{Store: st, NoARI: true, Now: func() time.Time { return now }, Log: func(string) {}, Order: map[string]OrderReason{}}
			fails := map[string]bool{}
			for i, c := range tt.certs {
				name := fmt.Sprintf("c%d.example.com", i)
				fails[name] = c.fails
				switch {
				case !c.stored:
					r.Order[name] = OrderReason{Names: []string{name}, Reason: "in the config file, not stored yet"}
				case c.due:
					storetest.SaveCertificate(t, st, name, now.Add(-85*24*time.Hour), now.Add(5*24*time.Hour), nil)
				default:
					storetest.SaveCertificate(t, st, name, now.Add(-time.Hour), now.Add(90*24*time.Hour), nil)
				}
			}
			r.Issue = func(_ context.Context, c *CertRun, _ string, _ func(string)) (*store.Certificate, error) {
				if fails[c.Name] {
					return nil, fail
				}
				return storetest.SaveCertificate(t, st, c.Name, now, now.Add(90*24*time.Hour), nil), nil
			}
			sum, _ := r.Do(context.Background())
			got := counts{Due: sum.Due, Renewed: sum.Renewed, Issued: sum.Issued, Failed: sum.Failed, NotIssued: sum.NotIssued}
			if got != tt.want {
				t.Errorf("counts %+v, want %+v", got, tt.want)
			}
			if s := sum.Text(); s != tt.text {
				t.Errorf("Text() = %q, want %q", s, tt.text)
			}
			for _, c := range sum.Certificates {
				if c.NotIssued != (c.Status == StatusFailed && r.Order[c.Name].Reason != "") {
					t.Errorf("%s: status %s, not_issued %v", c.Name, c.Status, c.NotIssued)
				}
			}
		})
	}
}

// A config certificate whose first order fails: its folder keeps the
// renewal state alone, list shows it as not issued with the failure, the
// next run counts the attempt on, and the order that then succeeds keeps
// its own duration (the metrics file reads it) while the failures of
// before are forgotten.
func TestFirstOrderThatFailsLeavesItsState(t *testing.T) {
	st := storetest.Open(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var logs []string
	fail := errors.New("order: the CA refused the new order")
	var issue func(*CertRun) (*store.Certificate, error)
	run := func() (*Summary, error) {
		r := &Run{
			Store: st, NoARI: true, Now: func() time.Time { return now }, Log: func(l string) { logs = append(logs, l) },
			Order: map[string]OrderReason{"new": {Names: []string{"example.com"}, Reason: "in the config file, not stored yet"}},
			Issue: func(_ context.Context, c *CertRun, _ string, _ func(string)) (*store.Certificate, error) {
				return issue(c)
			},
		}
		return r.Do(context.Background())
	}

	issue = func(*CertRun) (*store.Certificate, error) { return nil, fail }
	for attempt := 1; attempt <= 2; attempt++ {
		sum, err := run()
		if err == nil || sum.Certificates[0].Status != StatusFailed {
			t.Fatalf("attempt %d: err %v; want the order's failure", attempt, err)
		}
		if got := sum.Certificates[0].State.Errors; got != attempt {
			t.Errorf("attempt %d: errors %d, want %d", attempt, got, attempt)
		}
	}
	for _, l := range logs {
		if strings.Contains(l, "saving the renewal state") {
			t.Errorf("log %q: the state of a first order must be saved", l)
		}
	}
	entries, err := List(st, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !entries[0].NotIssued || entries[0].LastResult != "error" || !strings.Contains(entries[0].LastError, "refused the new order") || !entries[0].LastAttempt.Equal(now) {
		t.Fatalf("list after the failed first order: %+v", entries)
	}

	issue = func(c *CertRun) (*store.Certificate, error) {
		return storetest.SaveCertificate(t, st, c.Name, now, now.Add(90*24*time.Hour), nil), nil
	}
	sum, err := run()
	if err != nil {
		t.Fatal(err)
	}
	c := sum.Certificates[0]
	if c.Status != StatusIssued || c.State.Errors != 0 || c.State.LastDurationSeconds <= 0 || !c.State.LastAttempt.Equal(now) {
		t.Errorf("issued: status %s, state %+v; want a clean history with this attempt's time and duration", c.Status, c.State)
	}
	if entries, _ = List(st, now, nil); len(entries) != 1 || entries[0].NotIssued || entries[0].Serial != "07" {
		t.Errorf("list after the issue: %+v", entries)
	}
}
