package renewal

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"github.com/mholt/acmez/v3/acme"
)

// Bounds of the ARI re-check interval. RFC 9773 §4.2 lets the CA say when to
// ask again (Retry-After); clients should clamp unreasonable values. Without
// the header, DefaultRecheck applies; a CA without ARI is asked again after
// UnsupportedRecheck.
const (
	MinRecheck         = time.Minute
	MaxRecheck         = 24 * time.Hour
	DefaultRecheck     = 6 * time.Hour
	UnsupportedRecheck = 24 * time.Hour
)

// ARI is the last renewalInfo answer for one certificate (RFC 9773 §4.2),
// kept between runs so a run that has nothing to do asks the CA nothing.
type ARI struct {
	// CertID is the certificate's RFC 9773 §4.1 unique identifier.
	CertID string `json:"cert_id"`
	// Unsupported is set when the CA's directory has no renewalInfo.
	Unsupported bool `json:"unsupported,omitempty"`
	// WindowStart and WindowEnd bound the suggested window.
	WindowStart time.Time `json:"window_start,omitzero"`
	WindowEnd   time.Time `json:"window_end,omitzero"`
	// SelectedTime is the uniformly random instant inside the window at which
	// the client renews; it is kept while the window does not change.
	SelectedTime time.Time `json:"selected_time,omitzero"`
	// ExplanationURL is the CA's page about the window, shown to operators.
	ExplanationURL string `json:"explanation_url,omitempty"`
	// Fetched is when the answer was received (injected clock).
	Fetched time.Time `json:"fetched"`
	// RecheckAfter is the earliest time to ask again, from Retry-After
	// (clamped to MinRecheck..MaxRecheck) on the injected clock.
	RecheckAfter time.Time `json:"recheck_after"`
}

// HasWindow reports whether a holds a valid suggested window.
func (a *ARI) HasWindow() bool {
	return a != nil && !a.Unsupported && !a.WindowStart.IsZero() && a.WindowEnd.After(a.WindowStart)
}

func (a *ARI) usableFor(certID string) bool {
	return a.HasWindow() && certID != "" && a.CertID == certID
}

// NeedsFetch reports whether the CA must be asked for renewalInfo at now:
// there is no stored answer for this certificate, or its Retry-After has
// passed (RFC 9773 §4.2). A certificate without an ARI ID never needs one.
func NeedsFetch(now time.Time, certID string, a *ARI) bool {
	if certID == "" {
		return false
	}
	if a == nil || a.CertID != certID {
		return true
	}
	return !now.Before(a.RecheckAfter)
}

// Fetcher is what Fetch needs from an ACME client; *acme.Client implements it.
type Fetcher interface {
	GetRenewalInfo(ctx context.Context, leaf *x509.Certificate) (acme.RenewalInfo, error)
}

// Fetch asks the CA for the renewalInfo of leaf (RFC 9773 §4.2) and returns
// the answer to store. now is the injected clock; wall is the real clock
// that acmez used for the absolute Retry-After, so the delay it carries is
// moved onto the injected clock. prev, the stored answer, keeps its selected
// time when the window did not move.
//
// A CA without ARI gives an ARI with Unsupported set and no error. Any other
// failure returns the error; the caller falls back to the lifetime rule and
// asks again next run.
func Fetch(ctx context.Context, f Fetcher, leaf *x509.Certificate, certID string, now time.Time, wall func() time.Time, prev *ARI) (*ARI, error) {
	info, err := f.GetRenewalInfo(ctx, leaf)
	if errors.Is(err, acme.ErrUnsupported) {
		return &ARI{CertID: certID, Unsupported: true, Fetched: now, RecheckAfter: now.Add(UnsupportedRecheck)}, nil
	}
	if err != nil {
		return nil, err
	}
	a := &ARI{
		CertID:         certID,
		WindowStart:    info.SuggestedWindow.Start.UTC(),
		WindowEnd:      info.SuggestedWindow.End.UTC(),
		SelectedTime:   info.SelectedTime.UTC(),
		ExplanationURL: info.ExplanationURL,
		Fetched:        now.UTC(),
	}
	if prev != nil && prev.CertID == certID && prev.WindowStart.Equal(a.WindowStart) && prev.WindowEnd.Equal(a.WindowEnd) && !prev.SelectedTime.IsZero() {
		a.SelectedTime = prev.SelectedTime
	}
	delay := DefaultRecheck
	if info.RetryAfter != nil {
		delay = info.RetryAfter.Sub(wall())
	}
	a.RecheckAfter = now.Add(clamp(delay, MinRecheck, MaxRecheck)).UTC()
	return a, nil
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}
