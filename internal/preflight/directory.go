package preflight

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/store"
)

// DirectoryTimeout bounds the directory GET.
const DirectoryTimeout = 20 * time.Second

// Dir is what check uses from an ACME directory (RFC 8555 §7.1.1) and its
// meta object (§9.7.6; profiles: draft-ietf-acme-profiles).
type Dir struct {
	NewOrder string `json:"newOrder"`
	Meta     struct {
		TermsOfService          string            `json:"termsOfService"`
		CAAIdentities           []string          `json:"caaIdentities"`
		ExternalAccountRequired bool              `json:"externalAccountRequired"`
		Profiles                map[string]string `json:"profiles"`
	} `json:"meta"`
}

// Directory GETs the ACME directory at url with client (nil means
// http.DefaultClient) and reports whether it is reachable and an ACME
// directory, with its caaIdentities and profiles. A failure is a Fail row
// with exit code CA; dir is then nil. TLS verification failures name
// --ca-cert as the fix.
func Directory(ctx context.Context, client *http.Client, url, userAgent string) (row Row, dir *Dir) {
	const check = "CA directory"
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, DirectoryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(check, exitcode.Usage, fmt.Sprintf("%s: %v; give --server a directory URL", url, err)), nil
	}
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fail(check, exitcode.Unreachable, fmt.Sprintf("%s: %s", url, httpReason(err))), nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fail(check, exitcode.CA, fmt.Sprintf("%s: reading the answer: %v", url, err)), nil
	}
	if resp.StatusCode != http.StatusOK {
		return fail(check, exitcode.CA, fmt.Sprintf("%s: HTTP %s; --server must be the CA's directory URL (it answers JSON with newOrder)", url, resp.Status)), nil
	}
	var d Dir
	if err := json.Unmarshal(body, &d); err != nil || d.NewOrder == "" {
		return fail(check, exitcode.CA, fmt.Sprintf("%s: not an ACME directory (no newOrder in the answer); --server must be the directory URL, or a proxy answered instead", url)), nil
	}
	parts := []string{url}
	if ids := d.Meta.CAAIdentities; len(ids) > 0 {
		parts = append(parts, "caaIdentities "+strings.Join(ids, ", "))
	} else {
		parts = append(parts, "no caaIdentities")
	}
	if len(d.Meta.Profiles) > 0 {
		names := make([]string, 0, len(d.Meta.Profiles))
		for n := range d.Meta.Profiles {
			names = append(names, n)
		}
		slices.Sort(names)
		parts = append(parts, "profiles "+strings.Join(names, ", "))
	}
	return ok(check, strings.Join(parts, "; ")), &d
}

// httpReason turns a client error into one line with the likely fix.
func httpReason(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		opErr    *net.OpError
	)
	const caCert = "if the CA is private or a proxy inspects TLS, pass --ca-cert FILE with its root certificate"
	switch {
	case errors.As(err, &unknown):
		return "TLS: certificate signed by an unknown authority; " + caCert
	case errors.As(err, &hostname):
		return "TLS: " + strings.TrimPrefix(hostname.Error(), "x509: ") + "; check the host in --server, or " + caCert
	case errors.As(err, &verify):
		return "TLS: " + strings.TrimPrefix(verify.Err.Error(), "x509: ") + "; " + caCert
	case errors.As(err, &header):
		return "the server does not speak TLS there (wrong port, or a plain-text proxy?)"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("no answer within %s; check that HTTPS to the CA is allowed (set HTTPS_PROXY if a proxy is required)", DirectoryTimeout)
	case errors.As(err, &opErr) && opErr.Err != nil:
		return opErr.Op + ": " + opErr.Err.Error() + "; check --server and that HTTPS to the CA is allowed (set HTTPS_PROXY if a proxy is required)"
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Account reports whether an account for the CA at directory is stored
// under statePath (store layout accounts/<ca>/default). A missing account is
// fine when it can be created: Warn when the CA has terms of service and
// acceptTOS is false, Fail (exit Usage) when the CA requires external
// account binding and hasEAB is false. accountURL is the stored account's
// URL, "" when none.
func Account(statePath, directory string, dir *Dir, acceptTOS, hasEAB bool) (row Row, accountURL string) {
	const check = "account"
	st := &store.Store{Root: statePath}
	a, err := st.LoadAccount(directory, "")
	if err == nil {
		return ok(check, a.URL), a.URL
	}
	if !errors.Is(err, store.ErrNoAccount) {
		return fail(check, exitcode.Usage, fmt.Sprintf("stored account in %s is unreadable: %v; remove it to register a new one", statePath, err)), ""
	}
	switch {
	case dir != nil && dir.Meta.ExternalAccountRequired && !hasEAB:
		return fail(check, exitcode.Usage, fmt.Sprintf("none in %s, and the CA requires external account binding: pass --eab-kid and --eab-hmac-key from your CA account", statePath)), ""
	case dir != nil && dir.Meta.TermsOfService != "" && !acceptTOS:
		return warn(check, fmt.Sprintf("none for this CA in %s; will be created on first issue; pass --accept-tos (terms: %s)", statePath, dir.Meta.TermsOfService)), ""
	case dir == nil && !acceptTOS:
		return warn(check, fmt.Sprintf("none for this CA in %s; will be created on first issue; pass --accept-tos", statePath)), ""
	}
	return ok(check, fmt.Sprintf("none for this CA in %s yet; will be created on first issue", statePath)), ""
}
