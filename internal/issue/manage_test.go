package issue

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/testworld"
)

// The world's CA refuses an account look-up that carries more than
// onlyReturnExisting (RFC 8555 §7.3.1, as step-ca reads it). An account
// with a contact e-mail is shown, updated and deactivated there.
func TestManageAccountWithContactOnStrictCA(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w) // the account has contact mailto:ops@example.com
	ctx := context.Background()

	got, err := f.is.ManageAccount(ctx, "", AccountChange{})
	if err != nil {
		t.Fatalf("show: %v", err)
	}
	if got.Status != "valid" || !reflect.DeepEqual(got.Contact, []string{"mailto:ops@example.com"}) || got.URL != f.is.account.Location {
		t.Fatalf("show = %+v", got)
	}

	got, err = f.is.ManageAccount(ctx, "", AccountChange{Email: "new-ops@example.com"})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if !reflect.DeepEqual(got.Contact, []string{"mailto:new-ops@example.com"}) || !reflect.DeepEqual(got.Changed, []string{"contact"}) {
		t.Fatalf("update = %+v", got)
	}
	stored, err := f.st.LoadAccount(w.DirectoryURL, "")
	if err != nil || !reflect.DeepEqual(stored.Contact, got.Contact) {
		t.Fatalf("stored contact = %v, %v", stored, err)
	}

	got, err = f.is.ManageAccount(ctx, "", AccountChange{RollKey: true})
	if err != nil {
		t.Fatalf("roll key: %v", err)
	}
	if again, err := f.is.ManageAccount(ctx, "", AccountChange{}); err != nil || again.URL != got.URL {
		t.Fatalf("look-up with the rolled key: %+v, %v", again, err)
	}

	got, err = f.is.ManageAccount(ctx, "", AccountChange{Deactivate: true})
	if err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	if got.Status != "deactivated" {
		t.Fatalf("deactivate = %+v", got)
	}
}

// A CA without key change answers 501: the request is sent once, the error
// says the CA does not implement it, and the stored key is kept.
func TestKeyChangeNotImplementedIsFinal(t *testing.T) {
	w := testworld.Start(t)
	f := newFixture(t, w)
	before, err := f.st.LoadAccount(w.DirectoryURL, "")
	if err != nil {
		t.Fatal(err)
	}
	w.CA.Inject(testworld.Fault{Kind: testworld.FaultNotImplemented, Path: testworld.PathKeyChange, Count: 10})
	w.CA.ResetRequests()
	_, err = f.is.ManageAccount(context.Background(), "", AccountChange{RollKey: true})
	var ni *NotImplementedError
	if !errors.As(err, &ni) || exitcode.Of(err) != exitcode.CA {
		t.Fatalf("err = %v (code %d), want a NotImplementedError with the CA exit code", err, exitcode.Of(err))
	}
	if !strings.Contains(err.Error(), "the CA does not implement account key change") {
		t.Errorf("error = %q", err)
	}
	if n := w.CA.Requests(testworld.PathKeyChange); n != 1 {
		t.Errorf("key change sent %d times, want once", n)
	}
	after, err := f.st.LoadAccount(w.DirectoryURL, "")
	if err != nil || !reflect.DeepEqual(after.Key.Public(), before.Key.Public()) {
		t.Errorf("the stored key changed although the CA refused: %v", err)
	}
}

// An account is shown with its creation time in UTC to the second, none
// when the store does not know it, and an empty contact list rather than
// null for an account without contact.
func TestAccountViewOfStates(t *testing.T) {
	tests := []struct {
		name  string
		state AccountState
		want  string
	}{
		{"created known, in another zone", AccountState{URL: "https://ca.example/acct/1", Status: "valid", Contact: []string{"mailto:ops@example.com"},
			Created: time.Date(2026, 3, 1, 13, 4, 5, 600, time.FixedZone("CET", 3600))},
			`{"url":"https://ca.example/acct/1","ca_directory":"https://ca.example/dir","status":"valid","contact":["mailto:ops@example.com"],"created":"2026-03-01T12:04:05Z"}`},
		{"no contact, creation unknown, just changed", AccountState{URL: "https://ca.example/acct/2", Status: "deactivated", Changed: []string{"status"}},
			`{"url":"https://ca.example/acct/2","ca_directory":"https://ca.example/dir","status":"deactivated","contact":[],"changed":["status"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.state.View("https://ca.example/dir"))
			if err != nil || string(b) != tt.want {
				t.Errorf("view %s (%v)\nwant %s", b, err, tt.want)
			}
		})
	}
}
