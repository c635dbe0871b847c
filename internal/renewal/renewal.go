// Package renewal decides when a stored certificate must be renewed.
//
// The CA's own advice comes first: ACME Renewal Information (ARI, RFC 9773)
// gives a suggested window per certificate, and the client renews at a
// uniformly random time inside it (§4.2); the new order then names the old
// certificate in "replaces" (§5). Without ARI (the CA does not offer it, or
// the answer was unusable) a certificate is due once less than a third of its
// lifetime remains, or less than half for certificates shorter than 10 days,
// so a 6-day certificate is renewed with 3 days left and a 90-day one with 30.
//
// Everything here is a pure function of its inputs and an injected clock;
// the only network access is Fetch, through an acmez client.
package renewal

import (
	"fmt"
	"time"
)

// ShortLived is the lifetime below which the fallback renews at half of the
// lifetime instead of a third.
const ShortLived = 10 * 24 * time.Hour

// Cert is what a decision needs to know about one certificate.
type Cert struct {
	NotBefore time.Time
	NotAfter  time.Time
	// ARICertID is the RFC 9773 §4.1 unique identifier; "" when unknown.
	ARICertID string
}

// Lifetime returns NotAfter - NotBefore.
func (c Cert) Lifetime() time.Duration { return c.NotAfter.Sub(c.NotBefore) }

// Source says which rule made a decision.
type Source string

// Sources of a Decision.
const (
	SourceForce    Source = "force"    // --force
	SourceRevoked  Source = "revoked"  // the certificate was revoked by `strictacme revoke`
	SourceExpired  Source = "expired"  // NotAfter has passed
	SourceARI      Source = "ari"      // the CA's renewal window (RFC 9773)
	SourceLifetime Source = "lifetime" // the lifetime-fraction fallback
	SourceConfig   Source = "config"   // not stored yet, or its settings changed
)

// Decision is the answer for one certificate at one instant.
type Decision struct {
	// Due is true when the certificate must be renewed now.
	Due bool
	// Source is the rule that decided.
	Source Source
	// At is when the certificate is (or became) due; for a decision that is
	// not due it is the time of the next renewal.
	At time.Time
	// Replaces is the ARI certificate ID to send in the new order's
	// "replaces" field (RFC 9773 §5); "" when the CA's ARI is not in use
	// for this certificate.
	Replaces string
	// Reason is one human sentence explaining the decision.
	Reason string
}

// FallbackAt returns when a certificate is due without ARI: NotAfter minus a
// third of its lifetime, or minus half for lifetimes under ShortLived.
func FallbackAt(c Cert) time.Time {
	life := c.Lifetime()
	if life <= 0 {
		return c.NotAfter
	}
	before := life / 3
	if life < ShortLived {
		before = life / 2
	}
	return c.NotAfter.Add(-before)
}

// Decide says whether c is due at now. ari is the last stored renewalInfo
// answer, or nil; it is used only when it belongs to c (same certificate ID)
// and holds a window. force renews regardless; revoked (non-zero) marks a
// certificate revoked by the operator, which is renewed at once.
//
// Rules, first match wins: force; revoked; expired; ARI window (due from the
// selected time inside the window, RFC 9773 §4.2); lifetime fallback.
func Decide(now time.Time, c Cert, ari *ARI, force bool, revoked time.Time) Decision {
	replaces := ""
	usable := ari.usableFor(c.ARICertID)
	if usable {
		replaces = c.ARICertID
	}
	left := c.NotAfter.Sub(now).Round(time.Minute)
	switch {
	case force:
		return Decision{Due: true, Source: SourceForce, At: now, Replaces: replaces, Reason: "renewal forced"}
	case !revoked.IsZero():
		return Decision{Due: true, Source: SourceRevoked, At: revoked, Replaces: replaces,
			Reason: "the certificate was revoked at " + revoked.UTC().Format(time.RFC3339)}
	case !now.Before(c.NotAfter):
		return Decision{Due: true, Source: SourceExpired, At: c.NotAfter, Replaces: replaces,
			Reason: "the certificate expired at " + c.NotAfter.UTC().Format(time.RFC3339)}
	case usable:
		at := ari.SelectedTime
		if at.IsZero() || at.Before(ari.WindowStart) || at.After(ari.WindowEnd) {
			at = ari.WindowStart
		}
		window := fmt.Sprintf("the CA's renewal window is %s to %s", ari.WindowStart.UTC().Format(time.RFC3339), ari.WindowEnd.UTC().Format(time.RFC3339))
		if ari.ExplanationURL != "" {
			window += " (" + ari.ExplanationURL + ")"
		}
		if !now.Before(at) {
			return Decision{Due: true, Source: SourceARI, At: at, Replaces: replaces, Reason: window + "; renewing"}
		}
		return Decision{Source: SourceARI, At: at, Replaces: replaces,
			Reason: fmt.Sprintf("%s; renewal at %s (%s left on the certificate)", window, at.UTC().Format(time.RFC3339), left)}
	}
	at := FallbackAt(c)
	frac := "a third"
	if c.Lifetime() < ShortLived {
		frac = "half"
	}
	if !now.Before(at) {
		return Decision{Due: true, Source: SourceLifetime, At: at,
			Reason: fmt.Sprintf("less than %s of the lifetime remains (%s left)", frac, left)}
	}
	return Decision{Source: SourceLifetime, At: at,
		Reason: fmt.Sprintf("renewal at %s, when %s of the lifetime remains (%s left)", at.UTC().Format(time.RFC3339), frac, left)}
}
