package renewal

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mholt/acmez/v3/acme"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func cert(life time.Duration) Cert {
	return Cert{NotBefore: t0, NotAfter: t0.Add(life), ARICertID: "aki.serial"}
}

func TestFallbackAt(t *testing.T) {
	for _, tc := range []struct {
		life, want time.Duration // want: offset from NotBefore
	}{
		{90 * day, 60 * day},
		{30 * day, 20 * day},
		{10 * day, 10 * day * 2 / 3},
		{6 * day, 3 * day}, // shortlived: half
		{7 * 24 * time.Hour, 84 * time.Hour},
	} {
		if got := FallbackAt(cert(tc.life)).Sub(t0); got != tc.want {
			t.Errorf("lifetime %v: due after %v, want %v", tc.life, got, tc.want)
		}
	}
}

func TestDecide(t *testing.T) {
	win := &ARI{CertID: "aki.serial", WindowStart: t0.Add(59 * day), WindowEnd: t0.Add(61 * day), SelectedTime: t0.Add(60 * day)}
	other := &ARI{CertID: "other.id", WindowStart: t0.Add(1 * day), WindowEnd: t0.Add(2 * day)}
	early := &ARI{CertID: "aki.serial", WindowStart: t0.Add(10 * day), WindowEnd: t0.Add(11 * day), SelectedTime: t0.Add(10 * day)}
	unsupported := &ARI{CertID: "aki.serial", Unsupported: true}
	for _, tc := range []struct {
		name     string
		now      time.Duration
		life     time.Duration
		ari      *ARI
		force    bool
		revoked  bool
		due      bool
		source   Source
		replaces bool
	}{
		{"fresh 90-day, no ARI", 1 * day, 90 * day, nil, false, false, false, SourceLifetime, false},
		{"90-day at 61 days, no ARI", 61 * day, 90 * day, nil, false, false, true, SourceLifetime, false},
		{"6-day at 2.9 days", 2*day + 21*time.Hour, 6 * day, nil, false, false, false, SourceLifetime, false},
		{"6-day at 3.1 days", 3*day + 3*time.Hour, 6 * day, nil, false, false, true, SourceLifetime, false},
		{"before the ARI window", 30 * day, 90 * day, win, false, false, false, SourceARI, true},
		{"in the window before the selected time", 59*day + time.Hour, 90 * day, win, false, false, false, SourceARI, true},
		{"at the selected time", 60 * day, 90 * day, win, false, false, true, SourceARI, true},
		{"after the window", 70 * day, 90 * day, win, false, false, true, SourceARI, true},
		{"ARI moved the window early (mass revocation)", 10*day + time.Hour, 90 * day, early, false, false, true, SourceARI, true},
		{"ARI of another certificate is ignored", 3 * day, 90 * day, other, false, false, false, SourceLifetime, false},
		{"CA without ARI", 61 * day, 90 * day, unsupported, false, false, true, SourceLifetime, false},
		{"forced", 1 * day, 90 * day, nil, true, false, true, SourceForce, false},
		{"forced with ARI carries replaces", 1 * day, 90 * day, win, true, false, true, SourceForce, true},
		{"revoked", 1 * day, 90 * day, nil, false, true, true, SourceRevoked, false},
		{"expired", 91 * day, 90 * day, win, false, false, true, SourceExpired, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rev time.Time
			if tc.revoked {
				rev = t0.Add(time.Hour)
			}
			d := Decide(t0.Add(tc.now), cert(tc.life), tc.ari, tc.force, rev)
			if d.Due != tc.due || d.Source != tc.source {
				t.Errorf("Due=%v Source=%s, want %v %s (%s)", d.Due, d.Source, tc.due, tc.source, d.Reason)
			}
			if (d.Replaces != "") != tc.replaces {
				t.Errorf("Replaces=%q, want set=%v", d.Replaces, tc.replaces)
			}
			if d.Reason == "" {
				t.Error("no reason")
			}
			if !d.Due && !d.At.After(t0.Add(tc.now)) {
				t.Errorf("not due, but At %v is not in the future", d.At)
			}
		})
	}
}

func TestNeedsFetch(t *testing.T) {
	now := t0
	a := &ARI{CertID: "x", RecheckAfter: now.Add(time.Hour)}
	if NeedsFetch(now, "", nil) {
		t.Error("a certificate without an ARI ID needs no fetch")
	}
	if !NeedsFetch(now, "x", nil) {
		t.Error("nothing stored: fetch")
	}
	if NeedsFetch(now, "x", a) {
		t.Error("before Retry-After: no fetch")
	}
	if !NeedsFetch(now.Add(time.Hour), "x", a) {
		t.Error("at Retry-After: fetch")
	}
	if !NeedsFetch(now, "y", a) {
		t.Error("answer for another certificate: fetch")
	}
}

type fakeFetcher struct {
	info acme.RenewalInfo
	err  error
}

func (f fakeFetcher) GetRenewalInfo(context.Context, *x509.Certificate) (acme.RenewalInfo, error) {
	return f.info, f.err
}

func TestFetch(t *testing.T) {
	wall := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := wall.Add(30 * day) // the injected clock runs ahead
	info := acme.RenewalInfo{SelectedTime: t0.Add(60 * day)}
	info.SuggestedWindow.Start, info.SuggestedWindow.End = t0.Add(59*day), t0.Add(61*day)
	ra := wall.Add(3 * time.Hour)
	info.RetryAfter = &ra

	a, err := Fetch(context.Background(), fakeFetcher{info: info}, nil, "x", now, func() time.Time { return wall }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.RecheckAfter.Sub(now); got != 3*time.Hour {
		t.Errorf("re-check after %v on the injected clock, want the Retry-After delay 3h", got)
	}
	if !a.HasWindow() || a.CertID != "x" {
		t.Errorf("got %+v", a)
	}

	// Same window again: the selected time is kept.
	prev := *a
	prev.SelectedTime = t0.Add(59*day + time.Hour)
	info.SelectedTime = t0.Add(60*day + 5*time.Hour)
	a, _ = Fetch(context.Background(), fakeFetcher{info: info}, nil, "x", now, func() time.Time { return wall }, &prev)
	if !a.SelectedTime.Equal(prev.SelectedTime) {
		t.Errorf("selected time re-drawn for an unchanged window")
	}

	// An absurd Retry-After is clamped; none gives the default.
	far := wall.Add(30 * day)
	info.RetryAfter = &far
	a, _ = Fetch(context.Background(), fakeFetcher{info: info}, nil, "x", now, func() time.Time { return wall }, nil)
	if got := a.RecheckAfter.Sub(now); got != MaxRecheck {
		t.Errorf("re-check after %v, want clamped to %v", got, MaxRecheck)
	}
	info.RetryAfter = nil
	a, _ = Fetch(context.Background(), fakeFetcher{info: info}, nil, "x", now, func() time.Time { return wall }, nil)
	if got := a.RecheckAfter.Sub(now); got != DefaultRecheck {
		t.Errorf("re-check after %v, want default %v", got, DefaultRecheck)
	}

	// A CA without ARI.
	a, err = Fetch(context.Background(), fakeFetcher{err: fmt.Errorf("x: %w", acme.ErrUnsupported)}, nil, "x", now, time.Now, nil)
	if err != nil || !a.Unsupported || a.HasWindow() || !a.RecheckAfter.Equal(now.Add(UnsupportedRecheck)) {
		t.Errorf("unsupported: %+v, %v", a, err)
	}
	// Another failure is returned.
	if _, err := Fetch(context.Background(), fakeFetcher{err: errors.New("boom")}, nil, "x", now, time.Now, nil); err == nil {
		t.Error("want the error")
	}
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := LoadState(dir)
	if err != nil || s.ARI != nil {
		t.Fatalf("empty dir: %+v %v", s, err)
	}
	s.ARI = &ARI{CertID: "x", WindowStart: t0, WindowEnd: t0.Add(day)}
	s.LastResult, s.Errors = "ok", 2
	s.Revoked, s.RevokedSerial = t0, "abc"
	if err := SaveState(dir, s); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(dir)
	if err != nil || got.ARI.CertID != "x" || got.Errors != 2 || !got.ARI.WindowEnd.Equal(t0.Add(day)) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if got.RevokedAt("abc").IsZero() || !got.RevokedAt("def").IsZero() {
		t.Error("RevokedAt must match the serial")
	}
}

func TestClockFromEnv(t *testing.T) {
	env := func(v string) func(string) (string, bool) {
		return func(string) (string, bool) { return v, v != "" }
	}
	c, err := ClockFromEnv(env(""))
	if err != nil || time.Since(c()) > time.Minute {
		t.Errorf("unset: %v", err)
	}
	c, err = ClockFromEnv(env("2030-01-02T03:04:05Z"))
	if err != nil || !c().Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("RFC 3339: %v %v", c(), err)
	}
	c, err = ClockFromEnv(env("+48h"))
	if err != nil || time.Until(c()) < 47*time.Hour {
		t.Errorf("relative: %v", err)
	}
	if _, err := ClockFromEnv(env("tomorrow")); err == nil {
		t.Error("want an error for a bad value")
	}
}

func TestJitter(t *testing.T) {
	if Jitter(0) != 0 || Jitter(-time.Second) != 0 {
		t.Error("no jitter for <= 0")
	}
	for range 100 {
		if j := Jitter(time.Minute); j < 0 || j >= time.Minute {
			t.Fatalf("jitter %v outside [0, 1m)", j)
		}
	}
}
