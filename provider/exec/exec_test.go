package exec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

func TestPresentAndCleanupCallTheProgramLikeLego(t *testing.T) {
	log := filepath.Join(t.TempDir(), "calls")
	t.Setenv("RECORD_LOG", log)
	prog, _ := filepath.Abs("testdata/record.sh")
	p := &Provider{Program: prog}
	recs := []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", Text: "v1"},
		libdns.TXT{Name: "_acme-challenge.www", Text: "v2"},
	}
	ctx := context.Background()
	if _, err := p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeleteRecords(ctx, "example.com.", recs[:1]); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(log)
	want := "present _acme-challenge.example.com. v1\npresent _acme-challenge.www.example.com. v2\ncleanup _acme-challenge.example.com. v1\n"
	if string(got) != want {
		t.Fatalf("calls:\n%s\nwant:\n%s", got, want)
	}
}

func TestFailureQuotesStderrAndExitStatus(t *testing.T) {
	t.Setenv("RECORD_LOG", filepath.Join(t.TempDir(), "calls"))
	prog, _ := filepath.Abs("testdata/record.sh")
	p := &Provider{Program: prog}
	done, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", Text: "ok"},
		libdns.TXT{Name: "_acme-challenge", Text: "fail"},
	})
	if err == nil || !strings.Contains(err.Error(), "exit status 3: backend said no") {
		t.Fatalf("err = %v", err)
	}
	if len(done) != 1 {
		t.Fatalf("done = %d records, want 1", len(done))
	}
}

// TestServingLagDeclaredFromEnv: the lag of the script's DNS service is
// unknown (none) unless EXEC_SERVING_LAG gives it, as a duration or seconds.
func TestServingLagDeclaredFromEnv(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "90s": 90 * time.Second, "120": 2 * time.Minute} {
		p, err := FromEnv(func(k string) (string, bool) {
			return map[string]string{"EXEC_PATH": "/bin/true", "EXEC_SERVING_LAG": v}[k], true
		})
		if err != nil {
			t.Fatalf("EXEC_SERVING_LAG=%q: %v", v, err)
		}
		if got := p.ServingLag(); got != want {
			t.Errorf("EXEC_SERVING_LAG=%q: ServingLag = %s, want %s", v, got, want)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		env map[string]string
		err string
	}{
		{env: map[string]string{}, err: "EXEC_PATH is not set"},
		{env: map[string]string{"EXEC_PATH": "/bin/true", "EXEC_MODE": "RAW"}, err: "EXEC_MODE=RAW"},
		{env: map[string]string{"EXEC_PATH": "/bin/true", "EXEC_SEQUENCE_INTERVAL": "x"}, err: "EXEC_SEQUENCE_INTERVAL"},
		{env: map[string]string{"EXEC_PATH": "/bin/true", "EXEC_SEQUENCE_INTERVAL": "2"}},
		{env: map[string]string{"EXEC_PATH": "/bin/true", "EXEC_SERVING_LAG": "soon"}, err: "EXEC_SERVING_LAG"},
	}
	for _, tt := range tests {
		_, err := FromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("env %v: err = %v, want %q", tt.env, err, tt.err)
		}
	}
}

// A zero Provider says which field to set instead of running nothing.
func TestZeroProviderNamesTheMissingProgram(t *testing.T) {
	var p Provider
	_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}})
	if err == nil || !strings.Contains(err.Error(), "Program is empty") {
		t.Fatalf("err = %v", err)
	}
	p.Program = filepath.Join(t.TempDir(), "missing")
	if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing program: %v", err)
	}
}
