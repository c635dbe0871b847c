package preflight

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// check words a provider's failure: a connection refused never reached
// the API, so it says the endpoint is unreachable and does not blame the
// credentials; an answer that refused the request does point at them.
func TestProviderFailureTellsUnreachableFromRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, refused := http.Get(url)
	if refused == nil {
		t.Fatal("a closed server answered")
	}
	for _, tt := range []struct {
		name      string
		err       error
		want, not string
	}{
		{"connection refused", fmt.Errorf("powerdns: listing zones: %w", refused), "API endpoint of provider pd is unreachable", "credentials"},
		{"the API refused", errors.New("powerdns: listing zones: HTTP 401: Unauthorized"), "check the credentials of provider pd", "unreachable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := providerFailure("pd", tt.err)
			if !strings.Contains(got, tt.want) || strings.Contains(got, tt.not) {
				t.Errorf("%q: want %q, not %q", got, tt.want, tt.not)
			}
		})
	}
}
