// Package challengeserver is `strictacme serve`: an authoritative DNS server
// for one challenge zone plus an acme-dns compatible HTTP API, on SQLite or
// PostgreSQL. See README.md in this directory for configuration and the API.
//
// The parts: store (source of truth), view (in-memory copy DNS answers
// from, kept in step by a Follower), dnsserver, api, authlookup (POST
// /lookup). This package wires them from a Config.
package challengeserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/strictacme/strictacme/internal/challengeserver/api"
	"github.com/strictacme/strictacme/internal/challengeserver/authlookup"
	"github.com/strictacme/strictacme/internal/challengeserver/dnsserver"
	"github.com/strictacme/strictacme/internal/challengeserver/store"
	"github.com/strictacme/strictacme/internal/challengeserver/view"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/fileperm"
)

// HTTP timeouts of every API listener (acme-dns has none with tls = none:
// its pkg/api/api.go uses a bare ListenAndServe).
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 30 * time.Second // /lookup asks several servers
	IdleTimeout       = 120 * time.Second
)

// Options are run-time settings that are not in the config file.
type Options struct {
	// Log (slog.Default() if nil).
	Log *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Store, if set, is used instead of opening Config.Database (tests).
	Store store.Store
	// BcryptCost overrides the cost for new keys (tests use the minimum).
	BcryptCost int
	// LookupPort overrides the authoritative servers' port for /lookup
	// (tests).
	LookupPort string
	// Obtain orders the API certificate for tls = "acme" (required then;
	// cmd/strictacme passes acmeobtain.Config.Obtain).
	Obtain ObtainFunc
	// CertCheckInterval is how often tls = "acme" looks at the stored
	// certificate and decides on renewal (default one minute).
	CertCheckInterval time.Duration
}

// Server is a running challenge server. Create it with New, then Run.
type Server struct {
	cfg      *Config
	log      *slog.Logger
	now      func() time.Time
	Store    store.Store
	View     *view.View
	Follower *view.Follower
	DNS      *dnsserver.Server
	Handler  *dnsserver.Handler
	API      *api.API

	httpServers []*http.Server
	httpLns     []net.Listener
	registry    *prometheus.Registry
	ownStore    bool
	certs       *certManager // tls = "acme"
	certEvery   time.Duration
	storeErr    atomic.Pointer[error] // result of the last checkStore; nil before the first
}

// GC headroom while serving, unless the environment sets GOGC: the heap
// may grow by GCHeadroom beyond what the last collection found live, or
// by a quarter of that when more, instead of Go's default of as much
// again as is live. Most of a server's live heap is the view, which holds
// no pointers, so a collection costs little whatever the view's size;
// collecting sooner keeps about 10 MB less resident at 100,000 accounts,
// at no cost in answers per second that bench/serve.sh can tell apart.
// tuneGC applies it after the view is loaded and every minute after.
const (
	GCHeadroom   = 4 << 20
	minGCPercent = 25
)

// tuneGC sets GOGC from the live heap (see GCHeadroom); it does nothing
// when the environment sets GOGC.
func tuneGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	live := max(sample[0].Value.Uint64(), 1)
	debug.SetGCPercent(int(max(minGCPercent, min(100, 100*GCHeadroom/live))))
}

// StoreCheckInterval is how often a running server checks that the store
// still takes durable writes (store.Store.Ping); GET /health checks at
// once as well.
const StoreCheckInterval = 5 * time.Second

// New opens the store, loads the view, and binds every DNS and HTTP
// listener, so address errors surface before Run. On error everything is
// closed again.
func New(ctx context.Context, cfg *Config, opts Options) (_ *Server, err error) {
	s := &Server{cfg: cfg, log: opts.Log, now: opts.Now, Store: opts.Store}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.Store == nil {
		st, err := store.Open(ctx, cfg.Database.Engine, cfg.Database.Connection)
		if err != nil {
			return nil, fmt.Errorf("database (%s): %w", cfg.Database.Engine, err)
		}
		s.Store, s.ownStore = st, true
	}
	s.View = view.New(s.now)
	s.View.SetLimit(cfg.TXT.Limit)
	s.Follower = &view.Follower{Store: s.Store, View: s.View, Now: s.now, Interval: cfg.Database.PollInterval.Duration, Log: s.log}
	if err := s.Follower.Load(ctx); err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	// The load's garbage (rows, scans: several times the view's size at
	// 100,000 accounts) would otherwise stay resident until the runtime's
	// scavenger returns it, minutes later.
	debug.FreeOSMemory()
	tuneGC()

	s.registry = prometheus.NewRegistry()
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "strictacme", Subsystem: "serve", Name: "accounts", Help: "Registered subdomains in the in-memory view.",
	}, func() float64 { return float64(s.View.Len()) }))
	s.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "strictacme", Subsystem: "serve", Name: "store_up",
		Help: "1 if the last poll of the store and the last write check (file not deleted or replaced, write lock and commit possible) succeeded.",
	}, func() float64 {
		if s.StoreHealthy() {
			return 1
		}
		return 0
	}))
	queries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "strictacme", Subsystem: "dns", Name: "queries_total", Help: "DNS queries by type, rcode and transport.",
	}, []string{"qtype", "rcode", "transport"})
	s.registry.MustRegister(queries)
	counters := &queryCounters{vec: queries}

	g := cfg.General
	s.Handler, err = dnsserver.NewHandler(dnsserver.Config{
		Zone: g.Domain, NSName: g.NSName, Admin: g.NSAdmin, Records: g.Records,
		NegativeTTL: g.NegativeTTL, TXTTTL: g.TXTTTL,
	}, s.View)
	if err != nil {
		return nil, err
	}
	s.Handler.Observe = func(qtype uint16, rcode int, transport string) {
		counters.of(qtype, rcode, transport).Inc()
	}
	var dh dns.Handler = s.Handler
	if g.Protocol != "both" {
		dh = protocolOnly(g.Protocol, s.Handler)
	}
	s.DNS, err = dnsserver.Listen(g.Listen, dh)
	if err != nil {
		return nil, listenFailed("general.listen", err)
	}

	ac := cfg.API
	acfg := api.Config{
		Domain:         strings.TrimSuffix(g.Domain, "."),
		Registration:   ac.Registration,
		ClientIPHeader: ac.HeaderName,
		TXTLifetime:    cfg.TXT.Lifetime.Duration,
		TXTLimit:       cfg.TXT.Limit,
		MaxBody:        ac.MaxBody,
		BcryptCost:     opts.BcryptCost,
		Now:            s.now,
		Log:            s.log,
		Registerer:     s.registry,
		Health:         s.checkStore,
	}
	if ac.RegisterPerHour > 0 {
		acfg.RegisterRate, acfg.RegisterBurst = rate.Limit(ac.RegisterPerHour/3600), max(1, int(ac.RegisterPerHour/2))
	}
	if ac.AuthFailuresPerMinute > 0 {
		acfg.AuthFailRate, acfg.AuthFailBurst = rate.Limit(ac.AuthFailuresPerMinute/60), max(1, int(ac.AuthFailuresPerMinute))
	}
	if ac.LookupsPerMinute > 0 {
		acfg.LookupRate, acfg.LookupBurst = rate.Limit(ac.LookupsPerMinute/60), max(1, int(ac.LookupsPerMinute))
	}
	if ac.UseHeader || len(ac.TrustedProxies) > 0 {
		for _, p := range ac.TrustedProxies {
			acfg.TrustedProxies = append(acfg.TrustedProxies, netip.MustParsePrefix(p).Masked())
		}
	}
	if ac.Registration == api.RegistrationToken {
		tok, err := readSecret(ac.AdminTokenFile)
		if err != nil {
			return nil, fmt.Errorf("api.admin_token_file: %w", err)
		}
		acfg.AdminToken = tok
	}
	if ac.Metrics == nil || *ac.Metrics {
		acfg.Metrics = promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
	}
	if ac.Lookup == nil || *ac.Lookup {
		lr := &authlookup.Resolver{Recursive: ac.LookupResolvers, Port: opts.LookupPort}
		acfg.Lookup = func(ctx context.Context, name string, qtype uint16) (any, error) {
			return lr.Lookup(ctx, name, qtype)
		}
	}
	s.API = api.New(acfg, s.Store, s.View)

	var tlsCfg *tls.Config
	if ac.TLS == "acme" {
		st, ok := s.Store.(store.ServerState)
		if !ok || opts.Obtain == nil {
			return nil, errors.New(`api.tls = "acme": this build or store cannot obtain the API certificate`)
		}
		prov := &ownProvider{st: st, view: s.View, zone: s.Handler.Zone(), now: s.now, settle: 2 * cfg.Database.PollInterval.Duration}
		s.certs = newCertManager(st, prov, opts.Obtain, ac.ACMENames, s.now, s.log)
		s.certEvery = opts.CertCheckInterval
		if s.certEvery <= 0 {
			s.certEvery = time.Minute
		}
		if err := s.certs.load(ctx); err != nil {
			s.log.Warn("API certificate: the stored one is unusable; a new one will be ordered", "err", err)
		}
		s.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "strictacme", Subsystem: "serve", Name: "api_cert_not_after_seconds",
			Help: "Expiry of the API certificate (Unix seconds); 0 while there is none.",
		}, func() float64 {
			if t := s.certs.notAfter(); !t.IsZero() {
				return float64(t.Unix())
			}
			return 0
		}))
		s.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "strictacme", Subsystem: "serve", Name: "api_cert_orders_total",
			Help: "API certificate orders started by this instance.",
		}, func() float64 { return float64(s.certs.orders.Load()) }))
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certs.get}
	}
	if ac.TLS == "cert" {
		cr := &certReloader{cert: ac.TLSCert, key: ac.TLSKey}
		if _, err := cr.get(nil); err != nil {
			return nil, fmt.Errorf("api.tls_cert_fullchain: %w", err)
		}
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cr.get}
	}
	for _, addr := range ac.Listen {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, listenFailed("api.listen", err)
		}
		if tlsCfg != nil {
			ln = tls.NewListener(ln, tlsCfg)
		}
		s.httpLns = append(s.httpLns, ln)
		s.httpServers = append(s.httpServers, &http.Server{
			Handler:           s.API.Handler(),
			ReadHeaderTimeout: ReadHeaderTimeout,
			ReadTimeout:       ReadTimeout,
			WriteTimeout:      WriteTimeout,
			IdleTimeout:       IdleTimeout,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		})
	}
	return s, nil
}

// readSecret reads a one-line secret from a file that only its owner may
// read (by its mode; on Windows its ACL decides, see internal/fileperm).
func readSecret(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fileperm.Exposed(fi.Mode()) {
		return "", fmt.Errorf("%s is readable by others (mode %v); chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return "", fmt.Errorf("%s: the token must be at least 16 characters", path)
	}
	return tok, nil
}

// queryCounters finds the counter of one label combination of
// strictacme_dns_queries_total without hashing the label strings on every
// answer: the combinations seen are in a map that is copied on change and
// read without a lock.
type queryCounters struct {
	vec *prometheus.CounterVec
	mu  sync.Mutex
	m   atomic.Pointer[map[queryKey]prometheus.Counter]
}

type queryKey struct {
	qtype     uint16
	rcode     int
	transport string
}

// maxQueryCounters bounds the map: a client asking every type there is
// makes the rest go through CounterVec directly.
const maxQueryCounters = 256

func (q *queryCounters) of(qtype uint16, rcode int, transport string) prometheus.Counter {
	k := queryKey{qtype, rcode, transport}
	m := q.m.Load()
	if m != nil {
		if c, ok := (*m)[k]; ok {
			return c
		}
	}
	c := q.vec.WithLabelValues(dns.TypeToString[qtype], dns.RcodeToString[rcode], transport)
	q.mu.Lock()
	defer q.mu.Unlock()
	m = q.m.Load()
	if m == nil || len(*m) < maxQueryCounters {
		n := make(map[queryKey]prometheus.Counter, 8)
		if m != nil {
			maps.Copy(n, *m)
		}
		n[k] = c
		q.m.Store(&n)
	}
	return c
}

// protocolOnly refuses queries over the transport the config turned off.
func protocolOnly(proto string, h dns.Handler) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if w.RemoteAddr().Network() != proto {
			m := new(dns.Msg)
			m.SetRcode(r, dns.RcodeRefused)
			_ = w.WriteMsg(m)
			return
		}
		h.ServeDNS(w, r)
	})
}

// certReloader re-reads the certificate files when they change on disk, so
// a renewed certificate is used without a restart.
type certReloader struct {
	cert, key string
	mu        sync.Mutex
	loaded    *tls.Certificate
	mtime     time.Time
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fi, err := os.Stat(c.cert)
	if err != nil {
		if c.loaded != nil {
			return c.loaded, nil
		}
		return nil, err
	}
	if c.loaded == nil || fi.ModTime().After(c.mtime) {
		crt, err := tls.LoadX509KeyPair(c.cert, c.key)
		if err != nil {
			if c.loaded != nil {
				return c.loaded, nil
			}
			return nil, err
		}
		c.loaded, c.mtime = &crt, fi.ModTime()
	}
	return c.loaded, nil
}

// CheckCertificate runs one round of tls = "acme" at once: load the stored
// certificate, and order a new one if it is missing or due and this instance
// wins the store lease. ordered reports whether this instance ordered. It
// is an error to call it without tls = "acme".
func (s *Server) CheckCertificate(ctx context.Context) (ordered bool, err error) {
	if s.certs == nil {
		return false, errors.New(`serve: api.tls is not "acme"`)
	}
	return s.certs.check(ctx)
}

// CertificateOrders returns how many API certificate orders this instance
// started (tls = "acme").
func (s *Server) CertificateOrders() int64 {
	if s.certs == nil {
		return 0
	}
	return s.certs.orders.Load()
}

// DNSAddrs returns the bound DNS addresses (UDP then TCP per listen address).
func (s *Server) DNSAddrs() []net.Addr { return s.DNS.Addrs() }

// APIAddrs returns the bound API addresses.
func (s *Server) APIAddrs() []net.Addr {
	var out []net.Addr
	for _, l := range s.httpLns {
		out = append(out, l.Addr())
	}
	return out
}

// Run serves until ctx ends, then shuts down gracefully (5 s) and closes the
// store. It returns the first listener error, or nil after a clean stop.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wake := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); s.Follower.Run(ctx, wake) }()
	go func() {
		defer wg.Done()
		if l, ok := s.Store.(interface {
			Listen(context.Context, func()) error
		}); ok {
			_ = l.Listen(ctx, func() {
				select {
				case wake <- struct{}{}:
				default:
				}
			})
		}
	}()
	go func() { defer wg.Done(); s.janitor(ctx) }()
	wg.Add(1)
	go func() { defer wg.Done(); s.watchStore(ctx) }()

	errc := make(chan error, len(s.httpServers))
	serveHTTP := func() {
		for i, hs := range s.httpServers {
			go func() {
				if err := hs.Serve(s.httpLns[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
					errc <- err
				}
			}()
		}
	}
	if s.certs != nil {
		// tls = "acme": DNS answers at once (it serves the challenges); the
		// API is served, always over TLS, once a certificate exists.
		wg.Add(2)
		go func() { defer wg.Done(); s.certs.run(ctx, s.certEvery) }()
		go func() {
			defer wg.Done()
			select {
			case <-s.certs.ready:
				serveHTTP()
			case <-ctx.Done():
			}
		}()
	} else {
		serveHTTP()
	}
	for _, w := range s.cfg.Warnings {
		s.log.Warn("config: " + w)
	}
	s.log.Info("serving", "zone", s.Handler.Zone(), "dns", addrList(s.DNSAddrs()), "api", addrList(s.APIAddrs()),
		"store", s.cfg.Database.Engine, "accounts", s.View.Len(), "registration", s.cfg.API.Registration)
	s.log.Info(s.cfg.LookupSource())
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	for _, hs := range s.httpServers {
		_ = hs.Shutdown(sctx)
	}
	_ = s.DNS.Shutdown(sctx)
	wg.Wait()
	if s.ownStore {
		_ = s.Store.Close()
	}
	return err
}

// checkStore asks the store whether it takes durable writes and records the
// answer for StoreHealthy; a change of state is logged.
func (s *Server) checkStore(ctx context.Context) error {
	err := s.Store.Ping(ctx)
	if err != nil && ctx.Err() != nil {
		return err // shutting down or the client left: no verdict
	}
	if prev := s.storeErr.Swap(&err); prev == nil || (*prev == nil) != (err == nil) {
		if err != nil {
			s.log.Error("store does not take writes; the API answers 503 to writes, DNS keeps answering from memory", "err", err)
		} else if prev != nil {
			s.log.Info("store takes writes again")
		}
	}
	return err
}

// StoreHealthy reports whether the last poll of the store and the last
// write check (checkStore) succeeded: the store_up metric.
func (s *Server) StoreHealthy() bool {
	if p := s.storeErr.Load(); p != nil && *p != nil {
		return false
	}
	return s.Follower.Healthy()
}

// watchStore runs checkStore every StoreCheckInterval.
func (s *Server) watchStore(ctx context.Context) {
	t := time.NewTicker(StoreCheckInterval)
	defer t.Stop()
	for {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		_ = s.checkStore(c)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// janitor removes expired values, and values beyond txt.limit, from the
// store every minute.
func (s *Server) janitor(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			tuneGC()
			c, cancel := context.WithTimeout(ctx, 10*time.Second)
			if n, err := s.Store.Expire(c, s.now(), time.Hour, s.cfg.TXT.Limit); err == nil && n > 0 {
				s.log.Debug("expired TXT values removed", "count", n)
			}
			cancel()
		}
	}
}

func (s *Server) close() {
	for _, l := range s.httpLns {
		l.Close()
	}
	if s.DNS != nil {
		_ = s.DNS.Shutdown(context.Background())
	}
	if s.ownStore && s.Store != nil {
		_ = s.Store.Close()
	}
}

func addrList(a []net.Addr) string {
	var out []string
	for _, x := range a {
		out = append(out, x.Network()+"/"+x.String())
	}
	return strings.Join(out, " ")
}

// ListenError is a listen address of the config that could not be bound:
// Key is its config key (general.listen for DNS, api.listen for the API),
// Err the bind error (errors.Is(err, syscall.EADDRINUSE) when another
// process has it), which names the address.
type ListenError struct {
	Key string
	Err error
}

// Error says which address could not be bound and, for an address in
// use or a port that needs privileges, what to do.
func (e *ListenError) Error() string {
	addr := "the address"
	var op *net.OpError
	if errors.As(e.Err, &op) && op.Addr != nil {
		addr = op.Addr.String()
	}
	switch {
	case errors.Is(e.Err, syscall.EADDRINUSE):
		return fmt.Sprintf("%s: %s is in use by another process (another serve, or a server already on that port); stop it or choose another address", e.Key, addr)
	case errors.Is(e.Err, syscall.EACCES):
		return fmt.Sprintf("%s: %s: permission denied; a port below 1024 needs root or CAP_NET_BIND_SERVICE, or choose another address", e.Key, addr)
	}
	return e.Key + ": " + e.Err.Error()
}

// listenFailed is the ListenError of key with the exit code of its cause:
// Busy when another process holds the address, Usage when binding it
// needs privileges.
func listenFailed(key string, err error) error {
	le := &ListenError{Key: key, Err: err}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return exitcode.With(exitcode.Busy, le)
	case errors.Is(err, syscall.EACCES):
		return exitcode.With(exitcode.Usage, le)
	}
	return le
}
func (e *ListenError) Unwrap() error { return e.Err }
