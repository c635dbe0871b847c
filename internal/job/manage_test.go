package job

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
	"github.com/strictacme/strictacme/internal/store/storetest"
)

// Deleting a stored certificate removes it and only it; an unknown name
// is a usage error listing what is stored; a revocation refused before
// anything is sent leaves the certificate stored.
func TestDeletionRemovesOnlyWhatItMayAndSaysWhy(t *testing.T) {
	now := time.Now()
	refused := errors.New("refused: its CA is gone")
	for _, tc := range []struct {
		name, target string
		revoke       *Revocation
		wantCode     int
		wantErr      string
		wantLeft     []string
	}{
		{name: "stored", target: "a", wantLeft: []string{"b"}},
		{name: "unknown", target: "c", wantCode: exitcode.Usage, wantErr: "c: no such certificate", wantLeft: []string{"a", "b"}},
		{name: "revocation refused", target: "a", revoke: &Revocation{Refuse: func(*store.Certificate) error { return refused }}, wantErr: refused.Error(), wantCode: exitcode.Failure, wantLeft: []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := storetest.Open(t)
			storetest.SaveCertificate(t, st, "a", now, now.Add(90*24*time.Hour), nil)
			storetest.SaveCertificate(t, st, "b", now, now.Add(90*24*time.Hour), nil)
			var log []string
			logf := func(s string) { log = append(log, s) }
			if tc.revoke != nil {
				tc.revoke.Log = logf
			}
			err := Deletion{Revoke: tc.revoke, Log: logf}.Locked(context.Background(), st, tc.target)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("delete: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitcode.Of(err) != tc.wantCode) {
				t.Fatalf("delete: %v (exit %d), want %q with exit %d", err, exitcode.Of(err), tc.wantErr, tc.wantCode)
			}
			left, err := st.ListCertificates()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(left, ",") != strings.Join(tc.wantLeft, ",") {
				t.Errorf("stored after delete: %v, want %v (log %q)", left, tc.wantLeft, log)
			}
		})
	}
}
