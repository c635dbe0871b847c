package testworld

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// serve passes a request to Pebble through the behaviours Pebble lacks and
// other RFC 8555 servers have: an account look-up that carries anything
// besides onlyReturnExisting is refused as malformed (step-ca's reading of
// §7.3.1; always on); with Options.ChallengeRetries, a dns-01 challenge
// whose validation fails stays pending with an error (§8.2); with
// Options.Synchronous, challenge and finalize answers carry the final
// status.
func (c *CA) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		c.inner.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "malformed", "testworld: reading the request body: "+err.Error())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	payload, _ := jwsPayload(body)
	switch {
	case r.URL.Path == PathNewAccount:
		if extra := lookupExtras(payload); len(extra) > 0 {
			c.refuse(w, r, http.StatusBadRequest, "malformed",
				fmt.Sprintf("an onlyReturnExisting request must carry no other fields, got %s", strings.Join(extra, ", ")))
			return
		}
	case c.retry != nil && strings.HasPrefix(r.URL.Path, PathChallenge) && len(payload) > 0:
		if c.retry.answer(c, w, r, strings.TrimPrefix(r.URL.Path, PathChallenge)) {
			return
		}
	case c.retry != nil && strings.HasPrefix(r.URL.Path, PathAuthz):
		c.retry.patchAuthz(c.inner, w, r)
		return
	}
	if c.sync && len(payload) > 0 {
		switch {
		case strings.HasPrefix(r.URL.Path, PathChallenge):
			c.answerChallengeSettled(w, r, strings.TrimPrefix(r.URL.Path, PathChallenge))
			return
		case strings.HasPrefix(r.URL.Path, PathFinalize):
			c.answerFinalizeSettled(w, r, strings.TrimPrefix(r.URL.Path, PathFinalize))
			return
		}
	}
	c.inner.ServeHTTP(w, r)
}

// refuse answers with a problem document and a fresh nonce, without
// passing the request to Pebble.
func (c *CA) refuse(w http.ResponseWriter, r *http.Request, status int, acmeType, detail string) {
	if n := c.freshNonce(r); n != "" {
		w.Header().Set("Replay-Nonce", n)
	}
	writeProblem(w, status, acmeType, detail)
}

// jwsPayload returns the decoded payload of a flattened JWS (RFC 7515 §7.2.2);
// empty for POST-as-GET.
func jwsPayload(body []byte) ([]byte, error) {
	var jws struct {
		Payload string `json:"payload"`
	}
	if err := json.Unmarshal(body, &jws); err != nil {
		return nil, err
	}
	return base64.RawURLEncoding.DecodeString(jws.Payload)
}

// lookupExtras returns the fields other than onlyReturnExisting of a
// new-account payload that asks for an existing account.
func lookupExtras(payload []byte) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil || string(m["onlyReturnExisting"]) != "true" {
		return nil
	}
	var extra []string
	for k := range m {
		if k != "onlyReturnExisting" {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return extra
}

// challengeRetry keeps failed dns-01 challenges pending with an error, as
// RFC 8555 §8.2 allows and step-ca does: it checks the TXT record itself
// through the CA's resolver before Pebble sees the challenge POST and
// answers a wrong or missing value with a pending challenge carrying the
// problem. A right value, or a failure after the allowed ones, goes to
// Pebble, which validates (and marks a failure invalid).
type challengeRetry struct {
	allowed  int
	resolver string

	mu       sync.Mutex
	failed   map[string]int            // by challenge ID
	problems map[string]map[string]any // last problem by challenge ID
}

// answer handles a challenge POST; false passes it to Pebble.
func (cr *challengeRetry) answer(c *CA, w http.ResponseWriter, r *http.Request, id string) bool {
	ch := c.db.GetChallengeByID(id)
	if ch == nil {
		return false
	}
	ch.RLock()
	typ, status, chalURL, token, authz := ch.Type, ch.Status, ch.URL, ch.Token, ch.Authz
	ch.RUnlock()
	if typ != "dns-01" || status != "pending" || authz == nil {
		return false
	}
	authz.RLock()
	ident, order, authzURL := authz.Identifier.Value, authz.Order, authz.URL
	authz.RUnlock()
	order.RLock()
	acct := c.db.GetAccountByID(order.AccountID)
	order.RUnlock()
	if acct == nil {
		return false
	}
	sum := sha256.Sum256([]byte(ch.ExpectedKeyAuthorization(acct.Key)))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	name := "_acme-challenge." + ident
	found, err := cr.lookup(name)
	if err == nil && slices.Contains(found, want) {
		return false
	}
	var detail string
	switch {
	case err != nil:
		detail = fmt.Sprintf("error looking up TXT records at %s: %v", name, err)
	case len(found) == 0:
		detail = fmt.Sprintf("no TXT record found at %s", name)
	default:
		detail = fmt.Sprintf("incorrect TXT record %q found at %s", found[0], name)
	}
	problem := map[string]any{"type": "urn:ietf:params:acme:error:unauthorized", "detail": detail, "status": http.StatusForbidden}
	cr.mu.Lock()
	if cr.failed[id] >= cr.allowed {
		cr.mu.Unlock()
		return false
	}
	cr.failed[id]++
	cr.problems[id] = problem
	cr.mu.Unlock()

	if n := c.freshNonce(r); n != "" {
		w.Header().Set("Replay-Nonce", n)
	}
	w.Header().Set("Link", fmt.Sprintf("<%s>;rel=\"up\"", authzURL))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": typ, "url": chalURL, "token": token, "status": "pending", "error": problem,
	})
	return true
}

// lookup asks the CA's resolver for the TXT values at name.
func (cr *challengeRetry) lookup(name string) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	cl := &dns.Client{Timeout: 2 * time.Second}
	in, _, err := cl.Exchange(m, cr.resolver)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range in.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	return out, nil
}

// patchAuthz passes an authorization request to Pebble and adds the last
// problem to each of its challenges that is still pending after a failure.
func (cr *challengeRetry) patchAuthz(inner http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var authz map[string]any
	if rec.Code == http.StatusOK && json.Unmarshal(body, &authz) == nil {
		chals, _ := authz["challenges"].([]any)
		cr.mu.Lock()
		for _, x := range chals {
			ch, _ := x.(map[string]any)
			u, _ := ch["url"].(string)
			id := u[strings.LastIndex(u, "/")+1:]
			if p := cr.problems[id]; p != nil && ch["status"] == "pending" {
				ch["error"] = p
			}
		}
		cr.mu.Unlock()
		if b, err := json.Marshal(authz); err == nil {
			body = b
		}
	}
	copyResponse(w, rec, body)
}
