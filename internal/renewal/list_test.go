package renewal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/store/storetest"
)

func TestList(t *testing.T) {
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	notBefore := now.Add(-30 * 24 * time.Hour)
	notAfter := notBefore.Add(90 * 24 * time.Hour)
	window := &ARI{CertID: "aki.07", WindowStart: notAfter.Add(-20 * 24 * time.Hour), WindowEnd: notAfter.Add(-18 * 24 * time.Hour), SelectedTime: notAfter.Add(-19 * 24 * time.Hour), Fetched: now, RecheckAfter: now.Add(time.Hour)}
	neverRenewed := func(store.Metadata) (Decision, bool) { return Decision{Source: "sandbox"}, true }
	tests := []struct {
		name  string
		state func(dir string) // writes the certificate's renewal state
		skip  func(store.Metadata) (Decision, bool)
		want  Entry
	}{
		{
			name: "without ARI it is renewed with a third of its lifetime left",
			want: Entry{DaysLeft: 60, NextRenewal: notAfter.Add(-30 * 24 * time.Hour), DecidedBy: string(SourceLifetime)},
		},
		{
			name:  "the stored ARI window of this certificate decides and is shown",
			state: func(dir string) { save(t, dir, &State{ARI: window, LastResult: "ok", LastAttempt: notBefore}) },
			want:  Entry{DaysLeft: 60, ARIStart: window.WindowStart, ARIEnd: window.WindowEnd, NextRenewal: window.SelectedTime, DecidedBy: string(SourceARI), LastResult: "ok", LastAttempt: notBefore},
		},
		{
			name: "the window of the certificate it replaced is not shown",
			state: func(dir string) {
				old := *window
				old.CertID = "aki.06"
				save(t, dir, &State{ARI: &old})
			},
			want: Entry{DaysLeft: 60, NextRenewal: notAfter.Add(-30 * 24 * time.Hour), DecidedBy: string(SourceLifetime)},
		},
		{
			name: "a rate-limited attempt shows when to retry",
			state: func(dir string) {
				save(t, dir, &State{LastResult: "rate-limited", LastError: "too many orders", RetryAfter: now.Add(3 * time.Hour)})
			},
			want: Entry{DaysLeft: 60, NextRenewal: notAfter.Add(-30 * 24 * time.Hour), DecidedBy: string(SourceLifetime), LastResult: "rate-limited", LastError: "too many orders", RetryAfter: now.Add(3 * time.Hour)},
		},
		{
			name: "a certificate that is never renewed has no next renewal",
			skip: neverRenewed,
			want: Entry{DaysLeft: 60, DecidedBy: "sandbox"},
		},
		{
			name: "a damaged state is listed with its error",
			state: func(dir string) {
				if err := os.WriteFile(filepath.Join(dir, StateFile), []byte("{"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: Entry{DaysLeft: 60, NextRenewal: notAfter.Add(-30 * 24 * time.Hour), DecidedBy: string(SourceLifetime), Error: "is damaged"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := storetest.Open(t)
			storetest.SaveCertificate(t, st, "web", notBefore, notAfter, nil)
			if tt.state != nil {
				tt.state(st.CertDir("web"))
			}
			got, err := List(st, now, tt.skip)
			if err != nil || len(got) != 1 {
				t.Fatalf("List = %+v, %v; want one entry", got, err)
			}
			e, want := got[0], tt.want
			if !strings.Contains(e.Error, want.Error) || (want.Error == "") != (e.Error == "") {
				t.Errorf("Error = %q, want it to say %q", e.Error, want.Error)
			}
			e.Error = want.Error
			want.Name, want.Names, want.NotAfter, want.Serial, want.CA = "web", []string{"example.com"}, notAfter, "07", "https://ca.example/dir"
			if e.Names == nil || e.Names[0] != "example.com" {
				t.Errorf("Names = %v", e.Names)
			}
			e.Names = want.Names
			if !equalEntry(e, want) {
				t.Errorf("got  %+v\nwant %+v", e, want)
			}
		})
	}
}

func TestListEmptyStore(t *testing.T) {
	got, err := List(storetest.Open(t), time.Now(), nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("List of an empty store = %v, %v", got, err)
	}
}

func save(t *testing.T, dir string, s *State) {
	t.Helper()
	if err := SaveState(dir, s); err != nil {
		t.Fatal(err)
	}
}

func equalEntry(a, b Entry) bool {
	return a.Name == b.Name && a.NotAfter.Equal(b.NotAfter) && a.DaysLeft == b.DaysLeft && a.Serial == b.Serial &&
		a.Profile == b.Profile && a.CA == b.CA && a.ARIStart.Equal(b.ARIStart) && a.ARIEnd.Equal(b.ARIEnd) &&
		a.NextRenewal.Equal(b.NextRenewal) && a.DecidedBy == b.DecidedBy && a.LastResult == b.LastResult &&
		a.LastAttempt.Equal(b.LastAttempt) && a.LastError == b.LastError && a.RetryAfter.Equal(b.RetryAfter) && a.Error == b.Error
}

// The table of list: a stored certificate with its CA shortened, one not
// issued yet, one whose files cannot be read.
func TestListTableRowsForStoredUnissuedAndDamaged(t *testing.T) {
	na := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	entries := []Entry{
		{Name: "web", Names: []string{"a.example.com", "b.example.com"}, NotAfter: na, DaysLeft: 40.5, NextRenewal: na.Add(-30 * 24 * time.Hour), DecidedBy: "ari", CA: "https://acme.example/dir"},
		{Name: "new", NotIssued: true, LastResult: "failed"},
		{Name: "bad", Error: "metadata damaged"},
	}
	var b strings.Builder
	WriteTable(&b, entries, func(string) string { return "example-ca" })
	out := b.String()
	for _, want := range []string{
		"NAME", "web  ", "a.example.com,b.example.com", "2027-03-01 12:00", "40.5", "2027-01-30 12:00 (ari)", "example-ca",
		"next run (not issued yet)", "error: metadata damaged",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	b.Reset()
	WriteTable(&b, nil, nil)
	if b.String() != "no certificates stored\n" {
		t.Errorf("empty: %q", b.String())
	}
}

// list --json of a certificate whose first order failed and of one that
// cannot be read: no made-up "0001-01-01T00:00:00Z" for not_after or
// next_renewal (left out: there is no such time) and names as [], never
// null.
func TestListJSONOfUnissuedAndBrokenHasNoZeroTimes(t *testing.T) {
	st := storetest.Open(t)
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	if err := os.MkdirAll(st.CertDir("new.example.com"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := SaveState(st.CertDir("new.example.com"), &State{LastResult: "error", LastError: "order refused", LastAttempt: now, Errors: 1}); err != nil {
		t.Fatal(err)
	}
	storetest.SaveCertificate(t, st, "bad.example.com", now, now.Add(90*24*time.Hour), nil)
	meta, err := filepath.EvalSymlinks(filepath.Join(st.CertDir("bad.example.com"), store.MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(meta, []byte("{bad"), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, err := List(st, now, nil)
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %+v, %v", entries, err)
	}
	b, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"0001-01-01", `"not_after"`, `"next_renewal"`, `"names":null`} {
		if strings.Contains(string(b), bad) {
			t.Errorf("list --json holds %s:\n%s", bad, b)
		}
	}
}
