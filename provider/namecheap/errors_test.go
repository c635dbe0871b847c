package namecheap_test

import (
	"context"
	"errors"
	"testing"

	"github.com/strictacme/strictacme/provider/namecheap"
	"github.com/strictacme/strictacme/provider/namecheap/namecheaptest"
)

// TestAPIErrorIsUsableOutsideThePackage: callers outside provider/namecheap
// can test API errors with errors.As and the exported numbers.
func TestAPIErrorIsUsableOutsideThePackage(t *testing.T) {
	srv := namecheaptest.NewServer(namecheaptest.Options{Whitelist: []string{"203.0.113.1"}})
	defer srv.Close()
	p, err := namecheap.New(namecheap.Config{APIUser: srv.APIUser(), APIKey: srv.APIKey(), ClientIP: "198.51.100.7", Endpoint: srv.URL(), LockDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.GetRecords(context.Background(), "example.com.")
	var ae *namecheap.APIError
	if !errors.As(err, &ae) || ae.Number != namecheap.ErrInvalidRequestIP || ae.ClientIP != "198.51.100.7" {
		t.Fatalf("err = %v", err)
	}
}
