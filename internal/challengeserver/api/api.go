// Package api is the HTTP API of the challenge server, compatible with
// acme-dns (https://github.com/acme-dns/acme-dns#api) so lego, acme.sh,
// certbot-dns-acmedns and
// acme-dns-client work unchanged:
//
//	POST /register    201 {"username","password","fulldomain","subdomain","allowfrom"} on one line
//	POST /update      200 {"txt": "<value>"}; adds a value (the newest TXTLimit live per subdomain)
//	GET  /health      200 empty body if the store answers, else 503
//
// Added (documented in internal/challengeserver/README.md):
//
//	POST /delete      remove one TXT value ({"subdomain","txt"}) or all (txt omitted)
//	POST /deregister  delete the account
//	POST /rotate      new X-Api-Key for the same account (register-shaped reply)
//	POST /allowfrom   replace the account's allowed source networks
//	POST /lookup      ask every authoritative server of a name's zone (relay)
//	GET  /livez       200 while the process runs (DNS answers from memory)
//
// Every authenticated route takes X-Api-User and X-Api-Key and follows
// acme-dns's order of checks (its pkg/api/auth.go), answering 401 forbidden for every
// failure, 429 when a source has failed too often, 503 db_error when the
// store is unavailable.
package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
	"github.com/strictacme/strictacme/internal/challengeserver/view"
)

// Registration modes.
const (
	RegistrationClosed = "closed" // POST /register answers 403 registration_closed (default)
	RegistrationToken  = "token"  // POST /register needs the admin token
	RegistrationOpen   = "open"   // anyone may register (acme-dns's default)
)

// Defaults for Config.
const (
	DefaultTXTLifetime = time.Hour
	// DefaultTXTLimit is how many values a subdomain keeps and serves, the
	// newest: acme-dns's 2 (an order for a name and its wildcard shares
	// one subdomain) plus room for the same two of a concurrent order (a
	// retry, or a second host renewing). Four TXT answers fit a 512-byte
	// UDP reply without EDNS.
	DefaultTXTLimit   = 4
	DefaultMaxBody    = 16 << 10 // bytes
	DefaultBcryptCost = 10       // acme-dns's cost (its pkg/database/db.go)
	// DefaultLookupRate and DefaultLookupBurst bound /lookup per account:
	// 30 at once, then one every 2 s (enough for a propagation poll of a
	// many-name order, too few to use the server as a query cannon).
	DefaultLookupRate  = rate.Limit(0.5) // per second
	DefaultLookupBurst = 30
)

// dummyKey is what the key of an unknown user is compared with, so that
// refusing one costs a bcrypt comparison as refusing a known user does
// (as acme-dns's auth.go). dummyHash is its bcrypt hash at
// DefaultBcryptCost, written here because hashing it costs 50–80 ms of CPU
// that a server starting on one core would spend before its first answer.
// Neither is a secret: the comparison's cost is what matters, not its
// result.
const (
	dummyKey  = "strictacme-dummy-key-for-unknown-users!!"
	dummyHash = "$2a$10$umvpGuRmjUAjybW/wj5.EubZXKJrbvEfMRNOAv.i1sM/vXjioYxMS"
)

// LookupFunc asks every authoritative server of name's zone for qtype and
// returns a JSON-encodable report (see package authlookup).
type LookupFunc func(ctx context.Context, name string, qtype uint16) (any, error)

// Config configures an API. Zero values take the defaults named per field.
type Config struct {
	// Domain is the zone apex without trailing dot; fulldomain is
	// "<subdomain>.<Domain>".
	Domain string
	// Registration is RegistrationClosed (""), RegistrationToken or
	// RegistrationOpen.
	Registration string
	// AdminToken authorises /register in token mode, sent as
	// "Authorization: Bearer <token>", as the password of HTTP basic auth
	// (https://user:token@host/ URLs), or as X-Admin-Token.
	AdminToken string
	// TrustedProxies are the networks whose ClientIPHeader is believed.
	TrustedProxies []netip.Prefix
	// ClientIPHeader is the header proxies append the client address to
	// (default X-Forwarded-For); only read from trusted proxies.
	ClientIPHeader string
	// TXTLifetime is how long a value is served after its last update
	// (DefaultTXTLifetime).
	TXTLifetime time.Duration
	// TXTLimit is the most values one subdomain holds and serves; the
	// oldest go first (DefaultTXTLimit).
	TXTLimit int
	// MaxBody bounds request bodies in bytes (DefaultMaxBody).
	MaxBody int64
	// RegisterRate and RegisterBurst limit /register per source address
	// (default 10 per hour, burst 5).
	RegisterRate  rate.Limit
	RegisterBurst int
	// AuthFailRate and AuthFailBurst limit failed authentications per source
	// address (default 1 per 6 s, burst 10); beyond it every authenticated
	// route answers 429 before checking the key.
	AuthFailRate  rate.Limit
	AuthFailBurst int
	// LookupRate and LookupBurst limit successful POST /lookup calls per
	// account (default 1 per 2 s, burst 30), since each one makes the
	// server send DNS queries; beyond it /lookup answers 429
	// too_many_requests with Retry-After.
	LookupRate  rate.Limit
	LookupBurst int
	// BcryptCost for new keys (DefaultBcryptCost).
	BcryptCost int
	// Lookup serves POST /lookup; nil answers 404.
	Lookup LookupFunc
	// Health checks the store for GET /health (the store's Ping if nil);
	// the server passes its own check so /health and the store_up metric
	// agree.
	Health func(context.Context) error
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Log (slog.Default() if nil). Secrets are never logged.
	Log *slog.Logger
	// Registerer receives the API's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Metrics, if set, is served at GET /metrics.
	Metrics http.Handler
}

// API serves the HTTP API. Create it with New.
type API struct {
	cfg      Config
	st       store.Store
	view     *view.View
	log      *slog.Logger
	regLim   *limiters[netip.Addr]
	failLim  *limiters[netip.Addr]
	lookLim  *limiters[string]
	bcryptCh chan struct{}
	// dummy is compared with the key of an unknown user: dummyHash at
	// DefaultBcryptCost, else hashed in the background (off the start-up
	// path); ready once dummyOK is closed.
	dummy    []byte
	dummyOK  chan struct{}
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New returns an API over st that keeps v in step with its writes.
func New(cfg Config, st store.Store, v *view.View) *API {
	if cfg.Registration == "" {
		cfg.Registration = RegistrationClosed
	}
	if cfg.ClientIPHeader == "" {
		cfg.ClientIPHeader = "X-Forwarded-For"
	}
	if cfg.TXTLifetime <= 0 {
		cfg.TXTLifetime = DefaultTXTLifetime
	}
	if cfg.TXTLimit == 0 {
		cfg.TXTLimit = DefaultTXTLimit
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.RegisterRate == 0 {
		cfg.RegisterRate, cfg.RegisterBurst = rate.Every(6*time.Minute), 5
	}
	if cfg.AuthFailRate == 0 {
		cfg.AuthFailRate, cfg.AuthFailBurst = rate.Every(6*time.Second), 10
	}
	if cfg.LookupRate == 0 {
		cfg.LookupRate, cfg.LookupBurst = DefaultLookupRate, DefaultLookupBurst
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = DefaultBcryptCost
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	a := &API{
		cfg: cfg, st: st, view: v, log: cfg.Log,
		regLim:   newLimiters[netip.Addr](cfg.RegisterRate, cfg.RegisterBurst),
		failLim:  newLimiters[netip.Addr](cfg.AuthFailRate, cfg.AuthFailBurst),
		lookLim:  newLimiters[string](cfg.LookupRate, cfg.LookupBurst),
		bcryptCh: make(chan struct{}, 2*runtime.NumCPU()),
	}
	a.dummyOK = make(chan struct{})
	if cfg.BcryptCost == DefaultBcryptCost {
		a.dummy = []byte(dummyHash)
		close(a.dummyOK)
	} else {
		go func() {
			a.dummy, _ = bcrypt.GenerateFromPassword([]byte(dummyKey), cfg.BcryptCost)
			close(a.dummyOK)
		}()
	}
	a.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "strictacme", Subsystem: "api", Name: "requests_total",
		Help: "HTTP API requests by route and status code.",
	}, []string{"route", "code"})
	a.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "strictacme", Subsystem: "api", Name: "request_seconds",
		Help: "HTTP API request latency in seconds by route.", Buckets: prometheus.DefBuckets,
	}, []string{"route"})
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(a.requests, a.latency)
	}
	return a
}

// Handler returns the HTTP handler with every route.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	post := func(route string, h func(http.ResponseWriter, *http.Request) int) {
		mux.Handle(route, a.wrap(route, http.MethodPost, h))
	}
	post("/register", a.register)
	post("/update", a.update)
	post("/delete", a.deleteTXT)
	post("/deregister", a.deregister)
	post("/rotate", a.rotate)
	post("/allowfrom", a.allowFrom)
	post("/lookup", a.lookup)
	mux.Handle("/health", a.wrap("/health", http.MethodGet, a.health))
	mux.Handle("/livez", a.wrap("/livez", http.MethodGet, func(w http.ResponseWriter, r *http.Request) int {
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	}))
	if a.cfg.Metrics != nil {
		mux.Handle("/metrics", a.cfg.Metrics)
	}
	return mux
}

// wrap enforces the method (405 text/plain otherwise, as acme-dns), limits
// the body, and records metrics.
func (a *API) wrap(route, method string, h func(http.ResponseWriter, *http.Request) int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			a.requests.WithLabelValues(route, "405").Inc()
			return
		}
		start := time.Now()
		r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxBody)
		code := h(w, r)
		a.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		a.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// writeError writes {"error": "<code>"} like acme-dns (with the space), plus
// "detail" when there is one. It returns status.
func writeError(w http.ResponseWriter, status int, code, detail string) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	c, _ := json.Marshal(code)
	if detail == "" {
		fmt.Fprintf(w, `{"error": %s}`, c)
		return status
	}
	d, _ := json.Marshal(detail)
	fmt.Fprintf(w, `{"error": %s, "detail": %s}`, c, d)
	return status
}

func writeRequestError(w http.ResponseWriter, err error) int {
	var re *RequestError
	if errors.As(err, &re) {
		status := http.StatusBadRequest
		if re.Code == CodeForbidden {
			status = http.StatusUnauthorized
		}
		return writeError(w, status, re.Code, re.Detail)
	}
	return writeError(w, http.StatusBadRequest, CodeMalformedJSON, "")
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return writeError(w, http.StatusInternalServerError, CodeJSONError, "")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return status
}

// readBody reads the (size-limited) body; false means a reply was written.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, bool) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("the body must be at most %d bytes", mb.Limit)), false
		}
		return nil, writeError(w, http.StatusBadRequest, CodeMalformedJSON, ""), false
	}
	return b, 0, true
}

// dbError answers 503 db_error for a store failure; the write (if any) is
// not acknowledged. The detail names the cause without the database's own
// text, which may hold paths or connection details.
func (a *API) dbError(w http.ResponseWriter, op string, err error) int {
	a.log.Error("store failed", "op", op, "err", err)
	detail := "the database is unavailable; nothing was acknowledged, retry later"
	if errors.Is(err, store.ErrFileChanged) {
		detail = "the database file was deleted or replaced while the server runs; writes are refused until it is back (GET /health)"
	}
	return writeError(w, http.StatusServiceUnavailable, CodeDBError, detail)
}

// accountReply is the /register reply; field order is the wire order
// (acme-dns's RegResponse in pkg/api/register.go).
type accountReply struct {
	Username   string   `json:"username"`
	Password   string   `json:"password"`
	Fulldomain string   `json:"fulldomain"`
	Subdomain  string   `json:"subdomain"`
	Allowfrom  []string `json:"allowfrom"`
}

func (a *API) reply(acc store.Account, password string) accountReply {
	allow := make([]string, 0, len(acc.AllowFrom))
	for _, p := range acc.AllowFrom {
		allow = append(allow, p.String())
	}
	full := acc.Subdomain
	if a.cfg.Domain != "" {
		full += "." + strings.TrimSuffix(a.cfg.Domain, ".")
	}
	return accountReply{Username: acc.Username, Password: password, Fulldomain: full, Subdomain: acc.Subdomain, Allowfrom: allow}
}

// newKey returns 40 characters from crypto/rand over [A-Za-z0-9_-] (240
// bits), the X-Api-Key shape acme-dns issues (its pkg/acmedns/util.go).
func newKey() string {
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *API) hash(key string) ([]byte, error) {
	a.bcryptCh <- struct{}{}
	defer func() { <-a.bcryptCh }()
	return bcrypt.GenerateFromPassword([]byte(key), a.cfg.BcryptCost)
}

func (a *API) compare(hash []byte, key string) bool {
	a.bcryptCh <- struct{}{}
	defer func() { <-a.bcryptCh }()
	return bcrypt.CompareHashAndPassword(hash, []byte(key)) == nil
}

func (a *API) register(w http.ResponseWriter, r *http.Request) int {
	ip := a.clientIP(r)
	now := a.cfg.Now()
	switch a.cfg.Registration {
	case RegistrationOpen:
	case RegistrationToken:
		if !a.failLim.ok(ip, now) {
			return tooMany(w)
		}
		if !a.adminOK(r) {
			a.failLim.fail(ip, now)
			return writeError(w, http.StatusUnauthorized, CodeForbidden, "registration needs the admin token")
		}
	default:
		return writeError(w, http.StatusForbidden, CodeRegistrationClosed, "registration is closed on this server; ask its operator for an account")
	}
	if !a.regLim.take(ip, now) {
		return tooMany(w)
	}
	body, code, ok := readBody(w, r)
	if !ok {
		return code
	}
	req, err := DecodeRegister(body)
	if err != nil {
		return writeRequestError(w, err)
	}
	password := newKey()
	hash, err := a.hash(password)
	if err != nil {
		return writeError(w, http.StatusInternalServerError, CodeJSONError, "")
	}
	acc := store.Account{
		Username:     uuid.NewString(),
		PasswordHash: hash,
		Subdomain:    uuid.NewString(),
		AllowFrom:    req.AllowFrom,
		Created:      now,
	}
	if err := a.st.CreateAccount(r.Context(), acc); err != nil {
		return a.dbError(w, "register", err)
	}
	a.view.Set(acc.Subdomain, nil)
	a.log.Info("registered", "username", acc.Username, "subdomain", acc.Subdomain, "client", ip.String())
	return writeJSON(w, http.StatusCreated, a.reply(acc, password))
}

func (a *API) adminOK(r *http.Request) bool {
	if a.cfg.AdminToken == "" {
		return false
	}
	var got string
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		got = strings.TrimPrefix(h, "Bearer ")
	} else if _, pw, ok := r.BasicAuth(); ok {
		got = pw
	} else {
		got = r.Header.Get("X-Admin-Token")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(a.cfg.AdminToken)) == 1
}

func tooMany(w http.ResponseWriter) int {
	w.Header().Set("Retry-After", "60")
	return writeError(w, http.StatusTooManyRequests, CodeTooManyRequests, "too many requests or failed authentications from this address; retry later")
}

// authenticate runs acme-dns's header checks in its order (pkg/api/auth.go):
// user UUID, key shape, account, bcrypt compare, allowfrom. On failure it has
// written the reply and returns its status.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request) (store.Account, int, bool) {
	ip := a.clientIP(r)
	now := a.cfg.Now()
	if !a.failLim.ok(ip, now) {
		return store.Account{}, tooMany(w), false
	}
	forbid := func() (store.Account, int, bool) {
		a.failLim.fail(ip, now)
		return store.Account{}, writeError(w, http.StatusUnauthorized, CodeForbidden, ""), false
	}
	user, ok := parseUUID(r.Header.Get("X-Api-User"))
	key := r.Header.Get("X-Api-Key")
	if !ok || !ValidKey(key) {
		return forbid()
	}
	acc, err := a.st.Account(r.Context(), user)
	if errors.Is(err, store.ErrNotFound) {
		<-a.dummyOK
		a.compare(a.dummy, key) // same cost as a known user (as acme-dns's auth.go)
		return forbid()
	}
	if err != nil {
		return store.Account{}, a.dbError(w, "authenticate", err), false
	}
	if !a.compare(acc.PasswordHash, key) {
		return forbid()
	}
	if !allowed(acc.AllowFrom, ip) {
		a.log.Info("source not in allowfrom", "username", acc.Username, "client", ip.String())
		return forbid()
	}
	return acc, 0, true
}

func allowed(list []netip.Prefix, ip netip.Addr) bool {
	if len(list) == 0 {
		return true
	}
	ip = ip.Unmap()
	for _, p := range list {
		if p.IsValid() && p.Contains(ip) {
			return true
		}
	}
	return false
}

// updateBody decodes and checks the body of /update and /delete (acme-dns's
// last two checks in pkg/api/auth.go): any problem, or a subdomain other than the account's
// (exact, case-sensitive), is 401 forbidden.
func (a *API) updateBody(w http.ResponseWriter, r *http.Request, acc store.Account) (UpdateRequest, int, bool) {
	body, code, ok := readBody(w, r)
	if !ok {
		return UpdateRequest{}, code, false
	}
	req, err := DecodeUpdate(body)
	if err != nil || req.Subdomain != acc.Subdomain {
		a.failLim.fail(a.clientIP(r), a.cfg.Now())
		return req, writeError(w, http.StatusUnauthorized, CodeForbidden, ""), false
	}
	if !ValidSubdomain(req.Subdomain) {
		return req, writeError(w, http.StatusBadRequest, CodeBadSubdomain, "subdomain must be one DNS label"), false
	}
	return req, 0, true
}

func (a *API) update(w http.ResponseWriter, r *http.Request) int {
	acc, code, ok := a.authenticate(w, r)
	if !ok {
		return code
	}
	req, code, ok := a.updateBody(w, r, acc)
	if !ok {
		return code
	}
	if !req.TXTString {
		return writeError(w, http.StatusBadRequest, CodeBadTXT, "txt must be a string of exactly 43 base64url characters")
	}
	if err := CheckTXT(req.TXT); err != nil {
		return writeRequestError(w, err)
	}
	if live, _ := a.view.Lookup(acc.Subdomain); a.cfg.TXTLimit > 0 && len(live) >= a.cfg.TXTLimit && !slices.Contains(live, req.TXT) {
		// More names share this subdomain than txt.limit allows: an order
		// in progress may lose a value the CA has yet to see.
		a.log.Warn("txt.limit reached: the oldest live value of the subdomain is dropped; raise txt.limit if more than two names share it",
			"subdomain", acc.Subdomain, "limit", a.cfg.TXTLimit)
	}
	now := a.cfg.Now()
	v := store.Value{Text: req.TXT, Updated: now, Expires: now.Add(a.cfg.TXTLifetime)}
	if err := a.st.PutTXT(r.Context(), acc.Subdomain, v, a.cfg.TXTLimit); err != nil {
		return a.dbError(w, "update", err)
	}
	a.view.Put(acc.Subdomain, v, a.cfg.TXTLimit)
	// Built by hand, with the space after the colon, as acme-dns's
	// pkg/api/update.go.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `{"txt": "%s"}`, req.TXT)
	return http.StatusOK
}

func (a *API) deleteTXT(w http.ResponseWriter, r *http.Request) int {
	acc, code, ok := a.authenticate(w, r)
	if !ok {
		return code
	}
	req, code, ok := a.updateBody(w, r, acc)
	if !ok {
		return code
	}
	if req.TXTPresent && !req.TXTString {
		return writeError(w, http.StatusBadRequest, CodeBadTXT, "txt must be a string, or omitted to remove every value")
	}
	n, err := a.st.DeleteTXT(r.Context(), acc.Subdomain, req.TXT)
	if err != nil {
		return a.dbError(w, "delete", err)
	}
	a.view.Remove(acc.Subdomain, req.TXT)
	return writeJSON(w, http.StatusOK, map[string]int{"deleted": n})
}

func (a *API) deregister(w http.ResponseWriter, r *http.Request) int {
	acc, code, ok := a.authenticate(w, r)
	if !ok {
		return code
	}
	if err := a.st.DeleteAccount(r.Context(), acc.Username); err != nil && !errors.Is(err, store.ErrNotFound) {
		return a.dbError(w, "deregister", err)
	}
	a.view.Delete(acc.Subdomain)
	a.log.Info("deregistered", "username", acc.Username, "subdomain", acc.Subdomain)
	return writeJSON(w, http.StatusOK, map[string]string{"deregistered": acc.Subdomain})
}

func (a *API) rotate(w http.ResponseWriter, r *http.Request) int {
	acc, code, ok := a.authenticate(w, r)
	if !ok {
		return code
	}
	password := newKey()
	hash, err := a.hash(password)
	if err != nil {
		return writeError(w, http.StatusInternalServerError, CodeJSONError, "")
	}
	if err := a.st.SetPassword(r.Context(), acc.Username, hash); err != nil {
		return a.dbError(w, "rotate", err)
	}
	a.log.Info("key rotated", "username", acc.Username)
	return writeJSON(w, http.StatusOK, a.reply(acc, password))
}

func (a *API) allowFrom(w http.ResponseWriter, r *http.Request) int {
	acc, code, ok := a.authenticate(w, r)
	if !ok {
		return code
	}
	body, code, ok := readBody(w, r)
	if !ok {
		return code
	}
	var raw struct {
		AllowFrom json.RawMessage `json:"allowfrom"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || len(raw.AllowFrom) == 0 {
		return writeError(w, http.StatusBadRequest, CodeMalformedJSON, `the body must be {"allowfrom":[CIDR,...]} ([] removes the restriction)`)
	}
	allow, err := decodeAllowFrom(raw.AllowFrom)
	if err != nil {
		return writeRequestError(w, err)
	}
	if err := a.st.SetAllowFrom(r.Context(), acc.Username, allow); err != nil {
		return a.dbError(w, "allowfrom", err)
	}
	acc.AllowFrom = allow
	rep := a.reply(acc, "")
	return writeJSON(w, http.StatusOK, map[string][]string{"allowfrom": rep.Allowfrom})
}

func (a *API) health(w http.ResponseWriter, r *http.Request) int {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	check := a.cfg.Health
	if check == nil {
		check = a.st.Ping
	}
	if err := check(ctx); err != nil {
		a.log.Warn("health: store unavailable", "err", err)
		detail := "the database does not accept writes"
		if errors.Is(err, store.ErrFileChanged) {
			detail = "the database file was deleted or replaced while the server runs"
		}
		return writeError(w, http.StatusServiceUnavailable, "db_unavailable", detail)
	}
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}

func parseUUID(s string) (string, bool) {
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
