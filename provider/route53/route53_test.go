package route53

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/route53/route53test"
)

const (
	secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	foreign   = "another-clients-value"
)

// fake starts a Route 53 fake with hosted zone example.com holding the
// operator's records and a foreign TXT value with its own TTL at the
// apex challenge name, and a provider for it with static credentials.
func fake(t *testing.T, opts route53test.Options) (*route53test.Server, string, *Provider) {
	t.Helper()
	route53test.Isolate(t)
	s := route53test.New(opts)
	t.Cleanup(s.Close)
	id := s.AddZone("example.com", false,
		route53test.RRset{Name: "example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.10"}},
		route53test.RRset{Name: "example.com.", Type: "MX", TTL: 300, Values: []string{"10 mx.example.net."}},
		route53test.RRset{Name: "example.com.", Type: "TXT", TTL: 300, Values: []string{`"v=spf1 include:mail.example.net ~all"`}},
		route53test.RRset{Name: "_acme-challenge.example.com.", Type: "TXT", TTL: 600, Values: []string{`"` + foreign + `"`}},
	)
	p := &Provider{AccessKeyID: s.AccessKeyID(), SecretAccessKey: secretKey, Endpoint: s.URL(), HTTPClient: s.Client(),
		SyncPoll: time.Millisecond, retryMaxBackoff: time.Millisecond}
	return s, id, p
}

func others(s *route53test.Server, id string) string {
	var out []string
	for _, r := range s.RRsets(id) {
		if !strings.HasPrefix(r.Name, "_acme-challenge.") {
			out = append(out, fmt.Sprintf("%+v", r))
		}
	}
	return strings.Join(out, "\n")
}

// The apex and wildcard values share one name: one batch writes them and
// the subdomain's beside the foreign value, which keeps its TTL; the
// delete batch removes exactly ours (the emptied RRset with DELETE), and
// every other RRset is as before.
func TestRRsetReplaceKeepsForeignValuesAndTTL(t *testing.T) {
	s, id, p := fake(t, route53test.Options{})
	ctx := context.Background()
	before := others(s, id)
	zone, err := p.ZoneFor(ctx, "_acme-challenge.sub.example.com.")
	if err != nil || zone != "example.com." {
		t.Fatalf("ZoneFor = %q, %v", zone, err)
	}
	recs := []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", Text: "apex-value"},
		libdns.TXT{Name: "_acme-challenge", Text: "wildcard-value"},
		libdns.TXT{Name: "_acme-challenge.sub", Text: "sub-value"},
	}
	s.ResetRequests()
	if _, err := p.AppendRecords(ctx, zone, recs); err != nil {
		t.Fatal(err)
	}
	if n := s.Count("ChangeResourceRecordSets"); n != 1 {
		t.Errorf("%d change batches; want 1 for the zone", n)
	}
	if got := s.TXT(id, "_acme-challenge.example.com."); !slices.Equal(got, []string{foreign, "apex-value", "wildcard-value"}) {
		t.Errorf("TXT at the apex challenge name: %q", got)
	}
	for _, r := range s.RRsets(id) {
		if r.Name == "_acme-challenge.example.com." && r.TTL != 600 {
			t.Errorf("the foreign RRset's TTL became %d", r.TTL)
		}
		if r.Name == "_acme-challenge.sub.example.com." && r.TTL != DefaultTTL {
			t.Errorf("new RRset TTL %d", r.TTL)
		}
	}
	if _, err := p.DeleteRecords(ctx, zone, recs); err != nil {
		t.Fatal(err)
	}
	if n := s.Count("ChangeResourceRecordSets"); n != 2 {
		t.Errorf("%d change batches after the delete; want 2", n)
	}
	if got := s.TXT(id, "_acme-challenge.example.com."); !slices.Equal(got, []string{foreign}) {
		t.Errorf("after the delete: %q", got)
	}
	if got := s.TXT(id, "_acme-challenge.sub.example.com."); len(got) != 0 {
		t.Errorf("left behind: %q", got)
	}
	if after := others(s, id); after != before {
		t.Errorf("other RRsets changed:\n%s\n%s", before, after)
	}
}

// AppendRecords returns only once Route 53 reports the change INSYNC (its
// name servers serve it), so the provider is Authoritative; with NoWait it
// returns at once and is not.
func TestAppendWaitsForInSync(t *testing.T) {
	s, id, p := fake(t, route53test.Options{PendingPolls: 3})
	var mu sync.Mutex
	synced := false
	s.OnInSync(func(string) { mu.Lock(); synced = true; mu.Unlock() })
	if !p.Authoritative() {
		t.Error("not Authoritative while waiting for INSYNC")
	}
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	done := synced
	mu.Unlock()
	if !done || s.Count("GetChange") != 4 {
		t.Errorf("returned with INSYNC %v after %d GetChange calls; want INSYNC after 4", done, s.Count("GetChange"))
	}

	s2, _, p2 := fake(t, route53test.Options{PendingPolls: 3})
	p2.NoWait = true
	if p2.Authoritative() {
		t.Error("Authoritative with NoWait")
	}
	if _, err := p2.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if n := s2.Count("GetChange"); n != 0 {
		t.Errorf("NoWait: %d GetChange calls", n)
	}
	_ = id
}

// A change that stays PENDING past SyncTimeout is an error that says so.
func TestChangeNeverInSyncTimesOut(t *testing.T) {
	_, _, p := fake(t, route53test.Options{PendingPolls: 1 << 30})
	p.SyncTimeout = 50 * time.Millisecond
	_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}})
	if err == nil || !strings.Contains(err.Error(), "not INSYNC") || !strings.Contains(err.Error(), EnvSyncTimeout) {
		t.Errorf("err = %v", err)
	}
}

// Throttling (400 Throttling, PriorRequestNotComplete) is retried by the
// SDK; past AWS_MAX_RETRIES it is an error that names the setting.
func TestThrottlingIsRetriedThenExplained(t *testing.T) {
	s, id, p := fake(t, route53test.Options{})
	s.Fail(route53test.Throttling, route53test.PriorRequestNotComplete)
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if got := s.TXT(id, "_acme-challenge.example.com."); len(got) != 2 {
		t.Errorf("TXT %q", got)
	}

	s2, _, p2 := fake(t, route53test.Options{})
	p2.MaxRetries = 1
	s2.Fail(route53test.Throttling, route53test.Throttling, route53test.Throttling)
	_, err := p2.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "Throttling" || !strings.Contains(err.Error(), EnvMaxRetries) {
		t.Errorf("err = %v", err)
	}
}

// Another writer changes the RRset between our read and our batch: the
// batch's DELETE of what was read no longer matches, Route 53 refuses it
// whole, and the cycle is redone: both the other writer's value and ours
// are there.
func TestConcurrentWriterIsNotOverwritten(t *testing.T) {
	s, id, p := fake(t, route53test.Options{})
	var once sync.Once
	s.BeforeRequest(func(op string) {
		if op == "ChangeResourceRecordSets" {
			once.Do(func() {
				s.Put(id, route53test.RRset{Name: "_acme-challenge.example.com.", Type: "TXT", TTL: 600, Values: []string{`"` + foreign + `"`, `"written-meanwhile"`}})
			})
		}
	})
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "ours"}}); err != nil {
		t.Fatal(err)
	}
	if got := s.TXT(id, "_acme-challenge.example.com."); !slices.Equal(got, []string{foreign, "ours", "written-meanwhile"}) {
		t.Errorf("TXT %q", got)
	}
	if n := s.Count("ChangeResourceRecordSets"); n != 2 {
		t.Errorf("%d batches; want the refused one and the redone one", n)
	}
}

// Zones come from every page of ListHostedZones: the longest name holding
// the name, a public zone before a private one of the same name; the
// hosted zone ID overrides the choice; two public zones of one name or a
// private one alone are errors that say what to set.
func TestZoneChoiceFromPagedHostedZones(t *testing.T) {
	route53test.Isolate(t)
	s := route53test.New(route53test.Options{PageSize: 1})
	t.Cleanup(s.Close)
	private := s.AddZone("example.com", true)
	public := s.AddZone("example.com", false)
	s.AddZone("example.org", false)
	s.AddZone("example.org", false)
	s.AddZone("internal.example", true)
	s.AddZone("sub.example.com", false)
	p := &Provider{AccessKeyID: s.AccessKeyID(), SecretAccessKey: secretKey, Endpoint: s.URL(), HTTPClient: s.Client()}
	ctx := context.Background()
	for fqdn, want := range map[string]string{"_acme-challenge.example.com.": "example.com.", "_acme-challenge.x.sub.example.com.": "sub.example.com."} {
		if got, err := p.ZoneFor(ctx, fqdn); err != nil || got != want {
			t.Errorf("ZoneFor(%s) = %q, %v", fqdn, got, err)
		}
	}
	if n := s.Count("ListHostedZones"); n != 6 {
		t.Errorf("%d ListHostedZones calls for two names; want one listing of 6 pages", n)
	}
	if _, err := p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if len(s.TXT(public, "_acme-challenge.example.com.")) != 1 || len(s.TXT(private, "_acme-challenge.example.com.")) != 0 {
		t.Error("written into the private zone")
	}
	for _, tc := range []struct{ fqdn, id, want string }{
		{"_acme-challenge.example.org.", "", "2 public hosted zones are named example.org"},
		{"_acme-challenge.internal.example.", "", "only private hosted zones hold"},
		{"_acme-challenge.example.net.", "", "no hosted zone of this account holds"},
		{"_acme-challenge.example.com.", "Z0000NOTTHERE", "no hosted zone Z0000NOTTHERE"},
	} {
		q := &Provider{AccessKeyID: s.AccessKeyID(), SecretAccessKey: secretKey, Endpoint: s.URL(), HTTPClient: s.Client(), HostedZoneID: tc.id}
		if _, err := q.ZoneFor(ctx, tc.fqdn); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ZoneFor(%s): %v; want %q", tc.fqdn, err, tc.want)
		}
	}
	q := &Provider{AccessKeyID: s.AccessKeyID(), SecretAccessKey: secretKey, Endpoint: s.URL(), HTTPClient: s.Client(), HostedZoneID: "/hostedzone/" + private}
	if _, err := q.ZoneFor(ctx, "_acme-challenge.example.com."); err != nil {
		t.Fatal(err)
	}
	if _, err := q.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "p"}}); err != nil {
		t.Fatal(err)
	}
	if len(s.TXT(private, "_acme-challenge.example.com.")) != 1 {
		t.Error("the hosted zone ID did not pick the private zone")
	}
}

// GetRecords reads every page of the zone, TXT values unquoted.
func TestGetRecordsReadsEveryPage(t *testing.T) {
	s, _, p := fake(t, route53test.Options{PageSize: 2})
	odd := `say "hi" \ there`
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "q", Text: odd}, libdns.TXT{Name: "q", Text: strings.Repeat("x", 300)}}); err != nil {
		t.Fatal(err)
	}
	recs, err := p.GetRecords(context.Background(), "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	var txt []string
	types := map[string]int{}
	for _, r := range recs {
		rr := r.RR()
		types[rr.Type]++
		if rr.Type == "TXT" && rr.Name == "q" {
			txt = append(txt, rr.Data)
		}
	}
	if !slices.Equal(txt, []string{odd, strings.Repeat("x", 300)}) || types["SOA"] != 1 || types["NS"] != 2 || types["TXT"] != 4 {
		t.Errorf("read %v, q TXT %q", types, txt)
	}
	if s.Count("ListResourceRecordSets") < 4 {
		t.Errorf("%d pages read", s.Count("ListResourceRecordSets"))
	}
}

// Refusals are one line naming the fix, without the secret.
func TestRefusalsNameTheFix(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(s *route53test.Server, p *Provider)
		code string
		want string
	}{
		{"unknown access key", func(_ *route53test.Server, p *Provider) { p.AccessKeyID = "AKIAWRONGWRONGWRONG0" }, "InvalidClientTokenId", EnvAccessKeyID},
		{"policy lacks the change action", func(s *route53test.Server, _ *Provider) { s.Deny("ChangeResourceRecordSets") }, "AccessDenied", "route53:ChangeResourceRecordSets"},
		{"a value given twice is written once", nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, p := fake(t, route53test.Options{})
			if tc.set != nil {
				tc.set(s, p)
			}
			_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}, libdns.TXT{Name: "_acme-challenge", Text: "v"}})
			if tc.code == "" {
				if err != nil {
					t.Fatalf("a value given twice: %v", err)
				}
				return
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != tc.code {
				t.Fatalf("err = %v; want %s", err, tc.code)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, secretKey) || strings.Contains(msg, "\n") {
				t.Errorf("error %q", msg)
			}
		})
	}
}

// Without static keys the SDK's chain is asked; on a machine without any
// AWS set-up (isolated here, IMDS off) the error says what to set.
func TestNoCredentialsNamesTheFix(t *testing.T) {
	route53test.Isolate(t)
	s := route53test.New(route53test.Options{})
	t.Cleanup(s.Close)
	p := &Provider{Endpoint: s.URL(), HTTPClient: s.Client(), MaxRetries: -1}
	_, err := p.ZoneFor(context.Background(), "example.com.")
	if err == nil || !strings.Contains(err.Error(), EnvAccessKeyID) || !strings.Contains(err.Error(), EnvProfile) {
		t.Errorf("err = %v", err)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d unsigned requests sent", n)
	}
}

// A profile of the shared credentials file is used through the SDK's
// chain, as the AWS CLI would.
func TestProfileFromSharedCredentials(t *testing.T) {
	s, id, _ := fake(t, route53test.Options{})
	creds := filepath.Join(t.TempDir(), "credentials")
	body := "[acme]\naws_access_key_id = " + s.AccessKeyID() + "\naws_secret_access_key = " + secretKey + "\n"
	if err := os.WriteFile(creds, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	p, err := FromEnv(func(k string) (string, bool) {
		v, ok := map[string]string{EnvProfile: "acme", EnvEndpoint: s.URL()}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	p.HTTPClient = s.Client()
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if len(s.TXT(id, "_acme-challenge.example.com.")) != 2 {
		t.Error("not written")
	}
}

func TestFromEnv(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"chain", map[string]string{}, ""},
		{"static with secret file", map[string]string{EnvAccessKeyID: "AKIAIOSFODNN7EXAMPLE", EnvSecretAccessKey + "_FILE": secretFile, EnvHostedZoneID: "/hostedzone/Z123", EnvTTL: "60", EnvMaxRetries: "0", EnvWaitForSync: "false"}, ""},
		{"key without secret", map[string]string{EnvAccessKeyID: "AKIAIOSFODNN7EXAMPLE"}, "only one of"},
		{"bad zone ID", map[string]string{EnvHostedZoneID: "example.com"}, EnvHostedZoneID},
		{"bad retries", map[string]string{EnvMaxRetries: "many"}, EnvMaxRetries},
		{"bad TTL", map[string]string{EnvTTL: "0"}, EnvTTL},
		{"bad wait", map[string]string{EnvWaitForSync: "maybe"}, EnvWaitForSync},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := FromEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secretKey) {
					t.Errorf("err = %v; want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.env[EnvWaitForSync] == "false" && (!p.NoWait || p.SecretAccessKey != secretKey || p.MaxRetries != -1 || p.TTL != 60) {
				t.Errorf("%+v", p)
			}
		})
	}
}

// With AWS_CA_BUNDLE set (common behind TLS-inspecting proxies) the SDK
// adds the bundle to the client the provider is given, which it would
// refuse outright as a plain *http.Client ("unable to add custom RootCAs").
func TestCABundleWithAGivenClient(t *testing.T) {
	s, id, p := fake(t, route53test.Options{})
	other := route53test.New(route53test.Options{})
	defer other.Close()
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(bundle, pemOf(other), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if len(s.TXT(id, "_acme-challenge.example.com.")) != 2 {
		t.Error("not written")
	}
}

func pemOf(s *route53test.Server) []byte { return s.CertificatePEM() }
