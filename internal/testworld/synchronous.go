package testworld

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/letsencrypt/pebble/v2/acme"
)

// settleLimit bounds how long a synchronous answer waits for Pebble's
// background work; Pebble's validation (without its random sleep) and
// signing take milliseconds.
const settleLimit = 10 * time.Second

// answerChallengeSettled passes a challenge POST to Pebble, then holds the
// answer until the validation Pebble started has ended and answers with the
// challenge as it is then (valid, or invalid with its error), as a CA that
// validates within the request does (Options.Synchronous).
func (c *CA) answerChallengeSettled(w http.ResponseWriter, r *http.Request, id string) {
	rec := httptest.NewRecorder()
	c.inner.ServeHTTP(rec, r)
	ch := c.db.GetChallengeByID(id)
	if rec.Code != http.StatusOK || ch == nil {
		copyResponse(w, rec, rec.Body.Bytes())
		return
	}
	settle(func() bool {
		ch.RLock()
		defer ch.RUnlock()
		return ch.Status != acme.StatusPending && ch.Status != acme.StatusProcessing
	})
	ch.RLock()
	body, err := json.Marshal(ch.Challenge)
	ch.RUnlock()
	if err != nil {
		body = rec.Body.Bytes()
	}
	copyResponse(w, rec, body)
}

// answerFinalizeSettled passes a finalize POST to Pebble, then holds the
// answer until the certificate is issued (or the order failed) and answers
// with the order as it is then, with its certificate URL and without
// Retry-After, as a CA that signs within the request does
// (Options.Synchronous).
func (c *CA) answerFinalizeSettled(w http.ResponseWriter, r *http.Request, id string) {
	rec := httptest.NewRecorder()
	c.inner.ServeHTTP(rec, r)
	order := c.db.GetOrderByID(id)
	var shown map[string]any
	if rec.Code != http.StatusOK || order == nil || json.Unmarshal(rec.Body.Bytes(), &shown) != nil {
		copyResponse(w, rec, rec.Body.Bytes())
		return
	}
	status := func() string {
		s, err := order.GetStatus()
		if err != nil {
			return acme.StatusInvalid
		}
		return s
	}
	settle(func() bool { return status() != acme.StatusProcessing })
	shown["status"] = status()
	order.RLock()
	if order.CertificateObject != nil {
		shown["certificate"] = "https://" + r.Host + PathCert + order.CertificateObject.ID
	}
	order.RUnlock()
	body, err := json.Marshal(shown)
	if err != nil {
		body = rec.Body.Bytes()
	}
	rec.Header().Del("Retry-After")
	copyResponse(w, rec, body)
}

// settle waits until done reports true, at most settleLimit.
func settle(done func() bool) {
	for end := time.Now().Add(settleLimit); !done() && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
}

// copyResponse writes a recorded response with body in place of its own.
func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}
