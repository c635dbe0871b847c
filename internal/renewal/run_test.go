package renewal

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/store/storetest"
)

func TestSummaryTally(t *testing.T) {
	tests := []struct {
		name           string
		statuses       []string
		issued, notDue int
	}{
		{"nothing stored", nil, 0, 0},
		{"a first issue is told apart from renewals", []string{StatusIssued, StatusRenewed, StatusRenewed}, 1, 0},
		{"deferred by the CA counts as not due", []string{StatusNotDue, StatusDeferred, StatusFailed}, 0, 2},
		{"a failed hook is neither", []string{StatusHookFailed}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Summary{}
			for _, st := range tt.statuses {
				s.Certificates = append(s.Certificates, &CertRun{Status: st})
			}
			if issued, notDue := s.Tally(); issued != tt.issued || notDue != tt.notDue {
				t.Errorf("Tally = %d, %d; want %d, %d", issued, notDue, tt.issued, tt.notDue)
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
