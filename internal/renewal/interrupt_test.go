package renewal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/hooks"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/store/storetest"
)

// SIGINT arrives while the second of three due certificates is being
// ordered, its provider script killed with the process ("exit status -1",
// exit code DNS). The run is interrupted, not failed: exit code 130 and
// one "interrupted" error; the first certificate stays renewed (the post
// hook the interrupt stopped does not turn it into hook-failed), the
// second says interrupted with its renewal state untouched (no "error",
// no error counted), the third says it was not reached.
func TestInterruptDuringProviderCallIsNotARenewalFailure(t *testing.T) {
	st := storetest.Open(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	names := []string{"a.example.com", "b.example.com", "c.example.com"}
	for _, n := range names {
		storetest.SaveCertificate(t, st, n, now.Add(-85*24*time.Hour), now.Add(5*24*time.Hour), nil)
	}
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	var logs []string
	r := &Run{
		Store: st, NoARI: true, Now: func() time.Time { return now }, Log: func(l string) { logs = append(logs, l) },
		Hooks: hooks.Runner{}, PostHook: "true",
		Issue: func(ctx context.Context, c *CertRun, _ string, _ func(string)) (*store.Certificate, error) {
			if c.Name == "a.example.com" {
				return storetest.SaveCertificate(t, st, c.Name, now, now.Add(90*24*time.Hour), nil), nil
			}
			interrupt()
			return nil, exitcode.With(exitcode.DNS, errors.New("exec: present _acme-challenge.b.example.com: exit status -1"))
		},
	}
	sum, err := r.Do(ctx)
	if exitcode.Of(err) != exitcode.Canceled || !errors.Is(err, exitcode.ErrInterrupted) {
		t.Fatalf("error %v (exit %d), want the interrupt with exit code %d", err, exitcode.Of(err), exitcode.Canceled)
	}
	if sum.ExitCode != exitcode.Canceled || sum.OK || !strings.HasPrefix(sum.Error, "interrupted") || sum.Failed != 0 {
		t.Errorf("summary: exit %d ok %v error %q failed %d; want 130, interrupted, nothing failed", sum.ExitCode, sum.OK, sum.Error, sum.Failed)
	}
	want := map[string]string{"a.example.com": StatusRenewed, "b.example.com": StatusInterrupted, "c.example.com": StatusNotReached}
	for _, c := range sum.Certificates {
		if c.Status != want[c.Name] {
			t.Errorf("%s: status %q (%s), want %q", c.Name, c.Status, c.Error, want[c.Name])
		}
	}
	for _, n := range names[1:] {
		s, err := LoadState(st.CertDir(n))
		if err != nil {
			t.Fatal(err)
		}
		if s.LastResult != "" || s.Errors != 0 || !s.LastAttempt.IsZero() {
			t.Errorf("%s: renewal state %+v recorded after the interrupt", n, s)
		}
	}
	if s, _ := LoadState(st.CertDir("a.example.com")); s == nil || s.LastResult != "ok" {
		t.Errorf("a.example.com: renewal state %+v, want its success", s)
	}
	for _, l := range logs {
		if strings.Contains(l, "renewal failed") || strings.Contains(l, "context canceled") {
			t.Errorf("log %q: the interrupt is reported as a failure", l)
		}
	}
}

// SIGINT arrives during the order, after a pre hook stopped a service to
// free its port: the post hook that starts it again still runs, on a
// context of its own.
func TestInterruptStillRunsThePostHook(t *testing.T) {
	st := storetest.Open(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	storetest.SaveCertificate(t, st, "a.example.com", now.Add(-85*24*time.Hour), now.Add(5*24*time.Hour), nil)
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	out := filepath.Join(t.TempDir(), "post")
	r := &Run{
		Store: st, NoARI: true, Now: func() time.Time { return now }, Log: func(string) {},
		Hooks: hooks.Runner{}, PreHook: "true", PostHook: "echo post > " + out,
		Issue: func(ctx context.Context, c *CertRun, _ string, _ func(string)) (*store.Certificate, error) {
			interrupt()
			return nil, ctx.Err()
		},
	}
	if _, err := r.Do(ctx); exitcode.Of(err) != exitcode.Canceled {
		t.Fatalf("error %v (exit %d), want the interrupt", err, exitcode.Of(err))
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the post hook did not run after the interrupt: %v", err)
	}
	if strings.TrimSpace(string(got)) != "post" {
		t.Errorf("post hook wrote %q", got)
	}
}
