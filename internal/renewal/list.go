package renewal

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strictacme/strictacme/internal/store"
)

// Entry is one stored certificate and when it is renewed, as
// "strictacme list" shows it (its --json output).
type Entry struct {
	Name  string   `json:"name"`
	Names []string `json:"names"`
	// NotAfter is left out of --json when no certificate could be read
	// (a first order that failed, a damaged one).
	NotAfter time.Time `json:"not_after,omitzero"`
	// DaysLeft is the time until NotAfter in days, truncated to a tenth.
	DaysLeft float64 `json:"days_left"`
	Serial   string  `json:"serial"`
	Profile  string  `json:"profile,omitempty"`
	CA       string  `json:"ca_directory"`
	// CSR is the stored copy of the operator's certificate signing
	// request of a certificate ordered for one (no private key is stored).
	CSR string `json:"csr,omitempty"`
	// ARIStart and ARIEnd are the CA's renewal window as last fetched,
	// zero when none is stored for this certificate.
	ARIStart time.Time `json:"ari_window_start,omitzero"`
	ARIEnd   time.Time `json:"ari_window_end,omitzero"`
	// NextRenewal is when a run will renew the certificate (Decide); zero,
	// and left out of --json, for one that is never renewed (skip) or
	// could not be read.
	NextRenewal time.Time `json:"next_renewal,omitzero"`
	DecidedBy   string    `json:"decided_by"`
	LastResult  string    `json:"last_result,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	RetryAfter  time.Time `json:"retry_after,omitzero"`
	// Error is why the certificate or its state could not be read.
	Error string `json:"error,omitempty"`
	// NotIssued marks a certificate whose first order failed: only its
	// renewal state is stored (Last* and RetryAfter say how it failed);
	// the next run orders it again.
	NotIssued bool `json:"not_issued,omitempty"`
}

// List returns one Entry per certificate stored in st, in name order, as
// of now, from the stored files only: nothing is sent to the CA. skip, when
// not nil, marks certificates that are never renewed (Run.Skip); their
// NextRenewal is zero and DecidedBy the skip decision's Source. A
// certificate or state that cannot be read is listed with its Error; one
// whose first order failed is listed after the stored ones, NotIssued. The
// error returned is only that of listing st.
func List(st *store.Store, now time.Time, skip func(store.Metadata) (Decision, bool)) ([]Entry, error) {
	names, err := st.ListCertificates()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, n := range names {
		e := Entry{Name: n, Names: []string{}}
		c, err := st.LoadCertificate(n)
		if err != nil {
			e.Error = err.Error()
			out = append(out, e)
			continue
		}
		m := c.Meta
		e.Names, e.NotAfter, e.Serial, e.Profile, e.CA = m.Names, m.NotAfter, m.Serial, m.Profile, m.Directory
		e.DaysLeft = float64(int(m.NotAfter.Sub(now).Hours()/24*10)) / 10
		if m.CSR {
			e.CSR = filepath.Join(st.CertDir(n), store.CSRFile)
		}
		s, err := LoadState(st.CertDir(n))
		if err != nil {
			e.Error = err.Error()
			s = &State{}
		}
		if s.ARI.HasWindow() && s.ARI.CertID == m.ARICertID {
			e.ARIStart, e.ARIEnd = s.ARI.WindowStart, s.ARI.WindowEnd
		}
		d := Decide(now, Cert{NotBefore: m.NotBefore, NotAfter: m.NotAfter, ARICertID: m.ARICertID}, s.ARI, false, s.RevokedAt(m.Serial))
		e.NextRenewal, e.DecidedBy = d.At, string(d.Source)
		if skip != nil {
			if d, skipped := skip(m); skipped {
				e.NextRenewal, e.DecidedBy = time.Time{}, string(d.Source)
			}
		}
		e.LastResult, e.LastAttempt, e.LastError, e.RetryAfter = s.LastResult, s.LastAttempt, s.LastError, s.RetryAfter
		out = append(out, e)
	}
	attempted, err := st.ListAttempted(StateFile)
	if err != nil {
		return nil, err
	}
	for _, n := range attempted {
		e := Entry{Name: n, Names: []string{}, NotIssued: true}
		s, err := LoadState(st.CertDir(n))
		if err != nil {
			e.Error = err.Error()
		} else {
			e.LastResult, e.LastAttempt, e.LastError, e.RetryAfter = s.LastResult, s.LastAttempt, s.LastError, s.RetryAfter
		}
		out = append(out, e)
	}
	return out, nil
}

// WriteTable writes entries as "strictacme list" prints them without
// --json: one row per certificate, the CA named by caName (a directory
// URL shortened for display).
func WriteTable(w io.Writer, entries []Entry, caName func(directory string) string) {
	if len(entries) == 0 {
		fmt.Fprintln(w, "no certificates stored")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDOMAINS\tNOT AFTER\tDAYS LEFT\tRENEW AT\tARI WINDOW\tPROFILE\tCA\tLAST RESULT")
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04")
	}
	for _, e := range entries {
		if e.Error != "" && e.NotAfter.IsZero() {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\terror: %s\n", e.Name, e.Error)
			continue
		}
		last := e.LastResult
		if last == "" {
			last = "-"
		} else if !e.LastAttempt.IsZero() {
			last += " " + day(e.LastAttempt)
		}
		if e.NotIssued {
			fmt.Fprintf(tw, "%s\t-\t-\t-\tnext run (not issued yet)\t-\t-\t-\t%s\n", e.Name, last)
			continue
		}
		window := "-"
		if !e.ARIStart.IsZero() {
			window = day(e.ARIStart) + " .. " + day(e.ARIEnd)
		}
		profile := e.Profile
		if profile == "" {
			profile = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s (%s)\t%s\t%s\t%s\t%s\n", e.Name, strings.Join(e.Names, ","), day(e.NotAfter), e.DaysLeft,
			day(e.NextRenewal), e.DecidedBy, window, profile, caName(e.CA), last)
	}
	_ = tw.Flush()
}
