package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
)

// Error codes in {"error": "<code>"} bodies (acme-dns's pkg/api in
// https://github.com/acme-dns/acme-dns). The first group is
// acme-dns's; the rest are ours.
const (
	CodeForbidden          = "forbidden"
	CodeBadTXT             = "bad_txt"
	CodeBadSubdomain       = "bad_subdomain"
	CodeMalformedJSON      = "malformed_json_payload"
	CodeInvalidCIDR        = "invalid_allowfrom_cidr"
	CodeDBError            = "db_error"
	CodeJSONError          = "json_error"
	CodeRegistrationClosed = "registration_closed"
	CodeTooManyRequests    = "too_many_requests"
	CodeBodyTooLarge       = "body_too_large"
	CodeBadLookup          = "bad_lookup"
	CodeLookupFailed       = "lookup_failed"
	CodeNotFound           = "not_found"
)

// RequestError is a decoding or validation failure: Code goes into the
// "error" member, Detail (which never holds a secret) into "detail".
type RequestError struct {
	Code   string
	Detail string
}

func (e *RequestError) Error() string {
	if e.Detail == "" {
		return e.Code
	}
	return e.Code + ": " + e.Detail
}

// RegisterRequest is the optional body of POST /register (acme-dns's
// pkg/api/register.go).
type RegisterRequest struct {
	// AllowFrom holds the normalised networks ("[::1]/128" → ::1/128).
	AllowFrom []netip.Prefix
}

// DecodeRegister decodes a /register body. An empty (or all-whitespace)
// body is an empty request. Keys match without regard to case ("AllowFrom"
// from old goacmedns). Errors are *RequestError with CodeMalformedJSON (not
// JSON, not an object, allowfrom not an array of strings) or CodeInvalidCIDR
// (Detail names the first bad entry: case AD04).
func DecodeRegister(body []byte) (RegisterRequest, error) {
	var req RegisterRequest
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil
	}
	var raw struct {
		AllowFrom json.RawMessage `json:"allowfrom"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return req, &RequestError{Code: CodeMalformedJSON, Detail: "the body must be a JSON object such as {\"allowfrom\":[\"192.0.2.0/24\"]}"}
	}
	allow, err := decodeAllowFrom(raw.AllowFrom)
	req.AllowFrom = allow
	return req, err
}

func decodeAllowFrom(raw json.RawMessage) ([]netip.Prefix, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, &RequestError{Code: CodeMalformedJSON, Detail: "allowfrom must be an array of CIDR strings"}
	}
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		p, err := store.ParsePrefix(s)
		if err != nil {
			return nil, &RequestError{Code: CodeInvalidCIDR, Detail: fmt.Sprintf("allowfrom[%d] %s is not a CIDR such as 192.0.2.0/24 or 2001:db8::/32 (send [] or omit allowfrom for no restriction)", i, quoteShort(s))}
		}
		out = append(out, p)
	}
	return out, nil
}

// UpdateRequest is the body of POST /update and POST /delete (acme-dns's
// pkg/api/update.go).
type UpdateRequest struct {
	Subdomain string
	// TXT is the value; TXTPresent is false when the member was missing and
	// TXTString false when it was not a JSON string (then TXT is "").
	TXT        string
	TXTPresent bool
	TXTString  bool
}

// DecodeUpdate decodes an /update body. Keys match without regard to case
// ("SubDomain", "Txt"); extra keys are ignored. A body that is not a JSON
// object or whose subdomain is not a string is ErrForbidden (acme-dns answers
// 401 forbidden for every JSON problem on /update); a txt that is not a string
// is reported through TXTString, so the caller answers bad_txt.
func DecodeUpdate(body []byte) (UpdateRequest, error) {
	var req UpdateRequest
	var raw struct {
		Subdomain json.RawMessage `json:"subdomain"`
		TXT       json.RawMessage `json:"txt"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return req, ErrForbidden
	}
	if len(raw.Subdomain) == 0 || json.Unmarshal(raw.Subdomain, &req.Subdomain) != nil {
		return req, ErrForbidden
	}
	if len(raw.TXT) > 0 && string(raw.TXT) != "null" {
		req.TXTPresent = true
		req.TXTString = json.Unmarshal(raw.TXT, &req.TXT) == nil
	}
	return req, nil
}

// ErrForbidden is returned by DecodeUpdate for bodies acme-dns rejects with
// 401 forbidden.
var ErrForbidden = errors.New(CodeForbidden)

var labelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// ValidSubdomain reports whether s is one DNS label: 1–63 characters,
// letters, digits and inner hyphens (acme-dns's rule since
// https://github.com/acme-dns/acme-dns/pull/243).
func ValidSubdomain(s string) bool { return labelRE.MatchString(s) }

// CheckTXT validates an /update value: exactly 43 characters of base64url
// without padding, the dns-01 digest (RFC 8555 §8.4; acme-dns's validTXT in
// pkg/api/util.go). The error
// says which rule failed (case AD03).
func CheckTXT(s string) error {
	if len(s) != 43 {
		return &RequestError{Code: CodeBadTXT, Detail: fmt.Sprintf("txt must be exactly 43 characters (the base64url SHA-256 digest of the key authorization, RFC 8555 §8.4), got %d", len(s))}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return &RequestError{Code: CodeBadTXT, Detail: fmt.Sprintf("txt must be base64url (A-Z a-z 0-9 - _, no padding); character %d is %q", i+1, rune(c))}
		}
	}
	return nil
}

// ValidUsername reports whether s is a UUID (any case, with or without
// "urn:uuid:" or braces, as google/uuid accepts); it returns the canonical
// lower-case form.
func ValidUsername(s string) (string, bool) { return parseUUID(s) }

// ValidKey reports whether s has the shape of an X-Api-Key: exactly 40
// characters of [A-Za-z0-9_-] (acme-dns's validKey).
func ValidKey(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// quoteShort quotes s for an error detail, cut to 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), "")
}
