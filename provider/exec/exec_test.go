package exec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libdns/libdns"
)

func TestPresentAndCleanupCallTheProgramLikeLego(t *testing.T) {
	log := filepath.Join(t.TempDir(), "calls")
	t.Setenv("RECORD_LOG", log)
	prog, _ := filepath.Abs("testdata/record.sh")
	p, err := New(Config{Program: prog})
	if err != nil {
		t.Fatal(err)
	}
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
	p, _ := New(Config{Program: prog})
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

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		env map[string]string
		err string
	}{
		{env: map[string]string{}, err: "EXEC_PATH is not set"},
		{env: map[string]string{"EXEC_PATH": "/bin/true", "EXEC_MODE": "RAW"}, err: "EXEC_MODE=RAW"},
		{env: map[string]string{"EXEC_PATH": "/bin/true", "EXEC_SEQUENCE_INTERVAL": "x"}, err: "EXEC_SEQUENCE_INTERVAL"},
		{env: map[string]string{"EXEC_PATH": "/bin/true", "EXEC_SEQUENCE_INTERVAL": "2"}},
	}
	for _, tt := range tests {
		_, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("env %v: err = %v, want %q", tt.env, err, tt.err)
		}
	}
}
